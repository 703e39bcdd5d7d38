//! The HTTP face of [`AppError`]: its status, its headers and its RFC 9457
//! `application/problem+json` body; and the answers to requests actix itself refuses
//! (malformed JSON, query strings and path parameters).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{retry_after_secs, AppError, FieldError};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The problem document (RFC 9457) every error response carries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:skillpath:problem:validation_failed",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "The request has invalid fields.",
    "code": "validation_failed",
    "errors": [{"field": "email", "message": "must contain '@'"}]
}))]
pub struct Problem {
    /// `urn:skillpath:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a rejected import: the full report (rows read, rows rejected with line numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::services::imports::csv::ImportReport>)]
    pub report: Option<serde_json::Value>,
}

impl Problem {
    /// A problem with no field errors and no report.
    pub fn new(status: StatusCode, code: &str, detail: String) -> Self {
        Self {
            type_uri: format!("urn:skillpath:problem:{code}"),
            title: title(status).to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: Vec::new(),
            report: None,
        }
    }
}

/// The problem document of an error.
pub fn problem(err: &AppError) -> Problem {
    Problem {
        errors: match err {
            AppError::Validation(errors) | AppError::InvalidCsv(errors) => errors.clone(),
            _ => Vec::new(),
        },
        report: match err {
            AppError::ImportRejected { report, .. } => Some(report.clone()),
            _ => None,
        },
        ..Problem::new(err.status_code(), err.code(), err.public_detail())
    }
}

/// The reason phrase of RFC 9110, which renamed two that older tables still carry.
fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadInput { .. } | Self::InvalidCsv(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InputTimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedFormat { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::ImportRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            Self::Unauthenticated { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs(*retry_after)));
            }
            Self::Unavailable { .. } => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            Self::Busy { .. } => {
                response.insert_header((header::RETRY_AFTER, 5));
            }
            _ => {}
        }
        let body = serde_json::to_string(&problem(self)).unwrap_or_else(|_| {
            r#"{"type":"urn:skillpath:problem:internal_error","title":"Internal Server Error","status":500,"detail":"","code":"internal_error"}"#.into()
        });
        response.body(body)
    }
}

/// 405 for a method the document does not list on a path.
pub fn method_not_allowed() -> HttpResponse {
    respond(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This method is not allowed on this resource.",
    )
}

fn respond(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    let body = Problem {
        type_uri: format!("urn:skillpath:problem:{code}"),
        title: title(status).to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.to_owned(),
        errors: Vec::new(),
        report: None,
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE))
        .json(body)
}

/// Maps actix's JSON body errors to problems: 413 over the limit, 415 for a wrong content
/// type, 400 for malformed JSON, unknown fields, missing fields or wrong types.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::{JsonPayloadError, PayloadError};
    let api = match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => AppError::TooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => AppError::TooLarge {
            limit: crate::api::body::JSON_BODY_LIMIT,
        },
        JsonPayloadError::ContentType => AppError::UnsupportedFormat {
            detail: "The body must be JSON with Content-Type: application/json.".into(),
        },
        JsonPayloadError::Deserialize(e) if e.is_syntax() || e.is_eof() => {
            AppError::bad_input("malformed_json", format!("The body is not valid JSON: {e}"))
        }
        JsonPayloadError::Deserialize(e) => AppError::bad_input(
            "invalid_body",
            format!("The body does not match the expected shape: {e}"),
        ),
        other => AppError::bad_input("invalid_body", other.to_string()),
    };
    api.into()
}

/// Query-string errors (`?limit=abc`) → 400 naming the problem.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    AppError::bad_input("invalid_query", format!("Invalid query string: {err}")).into()
}

/// Path parameters that do not parse (`/users/abc`) name nothing that exists.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound { what: "resource" }.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use std::time::Duration;

    fn body_of(err: &AppError) -> serde_json::Value {
        let bytes = err.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = AppError::internal(
            "loading user",
            "relation \"users\" does not exist at 10.0.0.5",
        );
        let body = body_of(&err);
        assert_eq!(body["status"], 500);
        assert_eq!(body["code"], "internal_error");
        let text = body.to_string();
        assert!(!text.contains("relation"));
        assert!(!text.contains("10.0.0.5"));
        // The cause stays available to the logger.
        assert!(format!("{err:?}").contains("relation"));
    }

    #[test]
    fn validation_lists_fields() {
        let body = body_of(&AppError::invalid("email", "must contain '@'"));
        assert_eq!(body["status"], 422);
        assert_eq!(body["type"], "urn:skillpath:problem:validation_failed");
        assert_eq!(body["errors"][0]["field"], "email");
    }

    /// A database error as a driver reports it.
    #[derive(Debug)]
    struct Reported(&'static str);

    impl diesel::result::DatabaseErrorInformation for Reported {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn reported(message: &'static str) -> AppError {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(Reported(message)),
        )
        .into()
    }

    #[test]
    fn busy_locked_full_or_gone_databases_are_503_with_retry_after() {
        for message in [
            "database is locked",
            "database or disk is full",
            "terminating connection due to administrator command",
            "server closed the connection unexpectedly",
        ] {
            let err = reported(message);
            assert_eq!(
                err.status_code(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{message}"
            );
            let resp = err.error_response();
            assert!(resp.headers().contains_key(header::RETRY_AFTER));
            assert!(
                !body_of(&err).to_string().contains(message),
                "no detail leaks"
            );
        }
        // Anything else stays a server error.
        assert_eq!(
            reported("syntax error at or near").status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        let resp = AppError::TooManyRequests {
            retry_after: Duration::from_millis(1500),
        }
        .error_response();
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
    }
}
