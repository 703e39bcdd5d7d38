//! What every response and every request line pass through at the edge: protective headers, the
//! `Allow` list of a 405, and control characters in the URL refused before any handler (and any
//! database) sees them.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::domain::text::is_forbidden_control;
use crate::error::AppError;

/// Swagger UI's page loads its own scripts and styles (some inline styles) and nothing else.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Other pages (the unsubscribe confirmation) need their own form and inline style only.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Data is never a document to render.
const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// The pages of the web face: their own stylesheet, scripts and images only, no inline script.
const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: refuses control characters in the URL, then adds the protective headers.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(err) = url_control_characters(&req) {
        let response = err.error_response();
        let mut response = req.into_response(response);
        protect(&mut response);
        return Ok(response);
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    protect(&mut response);
    Ok(response)
}

fn protect<B: MessageBody>(response: &mut ServiceResponse<B>) {
    let path = response.request().path().to_owned();
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let policy = if path.starts_with("/docs") {
        DOCS_POLICY
    } else if html && path.starts_with("/api/") {
        PAGE_POLICY
    } else if html || path == "/sw.js" {
        // A service worker runs under its script's policy: it fetches the site's own pages.
        APP_POLICY
    } else {
        DATA_POLICY
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Tokens and personal records must not be kept by a browser or a shared cache.
    if path.starts_with("/api/") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// A control character in a path segment names nothing (404); in a query parameter it is a
/// validation error naming the parameter.
fn url_control_characters(req: &ServiceRequest) -> Option<AppError> {
    if percent_decode(req.path()).chars().any(is_forbidden_control) {
        return Some(AppError::NotFound { what: "resource" });
    }
    let query = req.query_string();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(&name.replace('+', " "));
        let value = percent_decode(&value.replace('+', " "));
        if name.chars().any(is_forbidden_control) {
            return Some(AppError::invalid(
                "query",
                "must not contain control characters",
            ));
        }
        if value.chars().any(is_forbidden_control) {
            return Some(AppError::invalid(
                &name,
                "must not contain control characters",
            ));
        }
    }
    None
}

/// `%XX` sequences decoded (invalid UTF-8 replaced: only control characters matter here).
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The methods each documented path answers, from the OpenAPI document.
fn allowed_methods() -> &'static HashMap<String, String> {
    static ALLOWED: OnceLock<HashMap<String, String>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        let value = crate::api::openapi::document().unwrap_or_default();
        let mut allowed = HashMap::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .filter(|m| {
                                matches!(m.as_str(), "get" | "post" | "put" | "patch" | "delete")
                            })
                            .map(|m| m.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                allowed.insert(path.clone(), methods.join(", "));
            }
        }
        allowed
    })
}

/// The default service of every resource: 405 with the `Allow` header of its path.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut response = crate::api::problem::method_not_allowed();
    let allow = req
        .match_pattern()
        .and_then(|pattern| allowed_methods().get(&pattern).cloned())
        .unwrap_or_else(|| "GET".to_owned());
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_percent_sequences() {
        assert_eq!(percent_decode("a%00b"), "a\u{0}b");
        assert_eq!(percent_decode("%E7%8E%8B"), "王");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
