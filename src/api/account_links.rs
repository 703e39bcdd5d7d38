//! Getting in: staff invite a learner to activate their account; anyone asks for a password
//! reset. Both send a one-time link by email (`services::account_links`); the link opens a page
//! of the web face, where the person chooses their password.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::client_address::client_address;
use crate::db;
use crate::domain::{EmailAddress, LearnerId};
use crate::error::AppError;
use crate::services::account_links::{self, Invitation};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "wangfang@example.org"}))]
pub struct PasswordResetRequest {
    /// The address the account logs in with.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetAccepted {
    pub detail: String,
}

/// Ask for a password-reset link by email.
///
/// The answer is the same whether or not an account uses the address; only the mailbox learns
/// it. The link opens `/reset/{token}` (the web face), works once and expires
/// (`SKILLPATH_PASSWORD_RESET_MINUTES`). Requests are limited per address asked for and per
/// client.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted: a link is on its way if the address has an account", body = PasswordResetAccepted),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<PasswordResetRequest>,
) -> Result<HttpResponse, AppError> {
    let raw = body.into_inner().email;
    let email = EmailAddress::parse(&raw).map_err(|m| AppError::invalid("email", m))?;
    let client = client_address(&req, &state.settings);
    // Every request counts: no mailbox can be flooded with links.
    let _counted = state.reset_limiter.attempt(email.as_str(), &client).await?;
    let st = state.clone();
    state
        .db
        .write(move |conn| {
            account_links::request_reset(conn, st.link_context(), email.as_str(), db::now())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(PasswordResetAccepted {
        detail: "If an account uses this address, a link to reset its password is on its way."
            .into(),
    }))
}

/// What became of an invitation.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationResult {
    /// The email is queued; earlier invitations no longer work.
    Sent,
    /// The learner has an account already.
    AlreadyActive,
    /// No email address is recorded for the learner.
    NoEmail,
    /// Another account uses the learner's address.
    AddressInUse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    pub result: InvitationResult,
}

/// Invite a learner to activate their account (college staff of their institution, admins).
///
/// A one-time link goes to the learner's address; it opens `/welcome/{token}` (the web face),
/// where they choose a password. A new invitation replaces earlier ones. Learners enrolled by
/// staff or a cohort import are invited once by themselves.
#[utoipa::path(post, path = "/api/v1/learners/{id}/invitation", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses(
        (status = 200, description = "What became of the invitation", body = InvitationResponse),
        (status = 403, description = "Role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn invite_learner(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<InvitationResponse>, AppError> {
    let learner_id = id.into_inner();
    let st = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            account_links::invite_by(conn, st.link_context(), &caller, learner_id, db::now())
        })
        .await?;
    let result = match outcome {
        Invitation::Sent => InvitationResult::Sent,
        Invitation::AlreadyActive => InvitationResult::AlreadyActive,
        Invitation::NoEmail => InvitationResult::NoEmail,
        Invitation::AddressInUse => InvitationResult::AddressInUse,
    };
    Ok(web::Json(InvitationResponse { result }))
}
