//! `/api/v1/auth`: login, refresh, logout.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::login;
use crate::auth::sessions::{self, Refresh, TokenResponse};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@skillpath.example", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn invalid_credentials() -> AppError {
    AppError::unauthenticated("invalid_credentials", "The email or password is incorrect.")
}

/// The client address used for the per-address limits. Behind trusted proxies it is the
/// `X-Forwarded-For` entry `settings.trusted_proxy_hops` places from the right: each proxy appends
/// the address it received the request from, so entries further left are the client's own words.
/// With fewer entries than proxies the request did not come through them all: the peer counts.
pub fn client_address(req: &HttpRequest, settings: &crate::config::Settings) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = settings
        .trust_proxy_headers
        .then(|| {
            forwarded_client(
                req.headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok()),
                settings.trusted_proxy_hops,
            )
        })
        .flatten();
    match forwarded.or(peer) {
        Some(ip) => limit_key(ip),
        None => "unknown".into(),
    }
}

/// The entry `hops` places from the right of the `X-Forwarded-For` lines taken together (an
/// address, with or without a port: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`).
fn forwarded_client<'a>(
    lines: impl Iterator<Item = &'a str>,
    hops: usize,
) -> Option<std::net::IpAddr> {
    let entries: Vec<&str> = lines
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let index = entries.len().checked_sub(hops.max(1))?;
    let entry = entries[index];
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// What the per-address limits count by: an IPv4 address (an IPv4-mapped IPv6 address is the
/// IPv4 address it maps), or the /64 network of an IPv6 address — one host is routinely given a
/// whole /64, and would otherwise have 2^64 fresh counters.
fn limit_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Log in with email and password.
///
/// An unknown email and a wrong password get the same answer. Repeated failures for one
/// account or from one address answer 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let LoginRequest { email, password } = body.into_inner();
    let account = email.trim().to_lowercase();
    let address = client_address(&req, &state.settings);
    let attempt = state.login_limiter.attempt(&account, &address)?;

    let user = login::authenticate(&state.db, &account, password)
        .await?
        .ok_or_else(invalid_credentials)?;
    attempt.succeeded();
    let st = state.clone();
    let tokens = state
        .db
        .write(move |conn| sessions::start(conn, st.issuer(), &user))
        .await?;
    Ok(web::Json(tokens))
}

/// Exchange a refresh token for a new pair. Each refresh token works once: presenting a used
/// one ends the whole session (every token descended from the same login).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json")))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let presented = body.into_inner().refresh_token;
    let st = state.clone();
    match state
        .db
        .write(move |conn| sessions::refresh(conn, st.issuer(), &presented))
        .await?
    {
        Refresh::Issued(tokens) => Ok(web::Json(tokens)),
        Refresh::Refused(err) => Err(err),
    }
}

/// End the session the refresh token belongs to. Answers 204 also for unknown tokens.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Session ended"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    state
        .db
        .write(move |conn| sessions::end(conn, &presented))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::{forwarded_client, limit_key};

    #[test]
    fn the_client_cannot_choose_its_address() {
        let one = |h: &str| forwarded_client([h].into_iter(), 1).map(|ip| ip.to_string());
        // The proxy appended 203.0.113.9; what the client wrote to the left is ignored.
        assert_eq!(one("1.1.1.1, 2.2.2.2, 203.0.113.9").unwrap(), "203.0.113.9");
        assert_eq!(one("203.0.113.9").unwrap(), "203.0.113.9");
        assert_eq!(
            forwarded_client(["9.9.9.9, 198.51.100.7", "10.0.0.2"].into_iter(), 2)
                .unwrap()
                .to_string(),
            "198.51.100.7"
        );
        // Ports, as some gateways append them.
        assert_eq!(one("x, 203.0.113.9:5678").unwrap(), "203.0.113.9");
        assert_eq!(one("[2001:db8::1]:443").unwrap(), "2001:db8::1");
        // Fewer entries than proxies, or garbage: not an address.
        assert!(forwarded_client(["10.0.0.2"].into_iter(), 2).is_none());
        assert!(one("not-an-address").is_none());
        assert!(one("").is_none());
    }

    #[test]
    fn limits_count_an_ipv6_network_as_one_client() {
        let key = |s: &str| limit_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
    }
}
