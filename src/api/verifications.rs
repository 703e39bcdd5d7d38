//! The enterprise side of sharing: HR staff verify a share code or look at an employee, anyone
//! checks a share's status, and the keys that sign statements.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::client_address::client_address;
use crate::db::shares;
use crate::db::{self};
use crate::domain::{LearnerId, Role, ShareId};
use crate::error::AppError;
use crate::services::sharing::access::Verification;
use crate::services::sharing::{self, ShareStatus};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareStatusResponse {
    #[schema(value_type = i64)]
    pub share_id: ShareId,
    pub status: ShareStatus,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Verify a share by its code (HR staff; only the named enterprise when the share names one).
#[utoipa::path(get, path = "/api/v1/verifications/{code}", tag = "shares",
    params(("code" = String, Path, description = "The share code, e.g. 7KQ2-M9XD-4RTB-8WCF (case and dashes do not matter)")),
    security(("bearer" = [])),
    responses((status = 200, description = "The shared records as they stand today", body = Verification),
        (status = 403, description = "Not an HR account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such share (or not for your enterprise)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The share expired or was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many unknown codes", body = Problem, content_type = "application/problem+json")))]
pub async fn verify_code(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<web::Json<Verification>, AppError> {
    caller.require(&[Role::EmployerHr])?;
    let account = caller.id.to_string();
    let address = client_address(&req, &state.settings);
    let attempt = state.share_code_limiter.attempt(&account, &address).await?;
    let code = code.into_inner();
    let parameters = state.parameters.clone();
    let view = state
        .db
        .write(move |conn| {
            sharing::access::verify_code(conn, &parameters, &caller, &code, db::now())
        })
        .await;
    // A known code (live, expired or revoked) is not a guess; earlier guesses stay counted.
    if !matches!(view, Err(AppError::NotFound { .. })) {
        attempt.not_a_failure().await;
    }
    let view = view?;
    Ok(web::Json(view))
}

/// Whether a share is still valid, for verifiers holding its statement (no login). The
/// identifier is the last segment of the statement's `status_url` claim: unguessable, so that
/// nobody can enumerate shares.
#[utoipa::path(get, path = "/api/v1/verifications/status/{status_id}", tag = "shares",
    params(("status_id" = String, Path, description = "The last segment of a statement's `status_url`")),
    responses((status = 200, description = "active, revoked or expired", body = ShareStatusResponse),
        (status = 404, description = "No such share", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "A bare share id (statements signed before status links were made unguessable): ask for a new share or verify by code", body = Problem, content_type = "application/problem+json")))]
pub async fn share_status(
    state: web::Data<AppState>,
    status_id: web::Path<String>,
) -> Result<web::Json<ShareStatusResponse>, AppError> {
    if status_id.parse::<i64>().is_ok() {
        // The same answer for every number, whether a share has it or not.
        return Err(AppError::Gone {
            code: "status_link_replaced",
            detail: "Status links by share id were replaced by the unguessable link in newer \
statements; verify the share by its code, or ask the learner to share again."
                .into(),
        });
    }
    let id = state
        .status_tokens
        .verify(&status_id)
        .ok_or(AppError::NotFound { what: "share" })?;
    let row = state
        .db
        .read(move |conn| Ok(shares::find_share(conn, id)?))
        .await?
        .ok_or(AppError::NotFound { what: "share" })?;
    Ok(web::Json(ShareStatusResponse {
        share_id: row.id,
        status: sharing::share_status(&row, db::now()),
        expires_at: row.expires_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    }))
}

/// The public keys that verify statements (JWK Set, RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "shares",
    responses((status = 200, description = "The JWK Set", body = Object)))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let set = state.db.read(|conn| sharing::jwks(conn, db::now())).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(set))
}

/// An employee's verified certificates and met milestones, for HR staff of an enterprise where
/// the learner has (or had) an employment spell. Logged and told to the learner.
#[utoipa::path(get, path = "/api/v1/employees/{learner_id}", tag = "shares",
    params(("learner_id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Verified certificates and met milestones as of today", body = Verification),
        (status = 403, description = "Not an HR account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such employee of your enterprise", body = Problem, content_type = "application/problem+json")))]
pub async fn employee(
    state: web::Data<AppState>,
    caller: AuthUser,
    learner_id: web::Path<LearnerId>,
) -> Result<web::Json<Verification>, AppError> {
    caller.require(&[Role::EmployerHr])?;
    let learner_id = learner_id.into_inner();
    let parameters = state.parameters.clone();
    let view = state
        .db
        .write(move |conn| {
            sharing::access::look_at_employee(conn, &parameters, &caller, learner_id)
        })
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyResponse {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    /// Since when it no longer signs.
    pub retired_at: Option<DateTime<Utc>>,
    /// The latest expiry of a statement it signed: it stays in the JWK Set until then.
    pub signed_until: Option<DateTime<Utc>>,
    pub published: bool,
}

/// The signing keys, newest first (admin).
#[utoipa::path(get, path = "/api/v1/admin/signing-keys", tag = "shares", security(("bearer" = [])),
    responses((status = 200, description = "Keys", body = Vec<SigningKeyResponse>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<Vec<SigningKeyResponse>>, AppError> {
    caller.require_admin()?;
    let now = db::now();
    let keys = state.db.read(|conn| Ok(shares::all_keys(conn)?)).await?;
    Ok(web::Json(
        keys.into_iter()
            .map(|k| SigningKeyResponse {
                published: k.retired_at.is_none() || k.signed_until.is_some_and(|t| t > now),
                kid: k.kid,
                algorithm: k.algorithm,
                created_at: k.created_at.and_utc(),
                retired_at: k.retired_at.map(|t| t.and_utc()),
                signed_until: k.signed_until.map(|t| t.and_utc()),
            })
            .collect(),
    ))
}

/// Rotate the signing key: a new key signs from now on; the old one stays published until the
/// last statement it signed has expired.
#[utoipa::path(post, path = "/api/v1/admin/signing-keys/rotate", tag = "shares", security(("bearer" = [])),
    responses((status = 201, description = "The new key", body = SigningKeyResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_key(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let now = db::now();
    let st = state.clone();
    let actor = caller.id;
    let key = state
        .db
        .write(move |conn| sharing::rotate(conn, &st.key_vault, actor, now))
        .await?;
    Ok(HttpResponse::Created().json(SigningKeyResponse {
        kid: key.kid,
        algorithm: key.algorithm,
        created_at: key.created_at.and_utc(),
        retired_at: None,
        signed_until: None,
        published: true,
    }))
}
