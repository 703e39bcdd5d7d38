//! `/api/v1/auth`: login, refresh, logout.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::login;
use crate::auth::sessions::{self, Refresh, TokenResponse};
use crate::client_address::client_address;
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
    let attempt = state.login_limiter.attempt(&account, &address).await?;

    let user = login::authenticate(&state.db, &account, password)
        .await?
        .ok_or_else(invalid_credentials)?;
    attempt.succeeded().await;
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
