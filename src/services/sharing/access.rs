//! HR staff look at a learner's records, through a share or as the employer: every look is
//! logged and told to the learner.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Selection, VerifiedView};
use crate::auth::{scope, AuthUser};
use crate::db::shares::{self, NewAccess, ShareRow};
use crate::db::{self, institutions, learners, DbConnection};
use crate::domain::{today_in_shanghai, AccessBasis, CertificateId, LearnerId, ShareId, SHANGHAI};
use crate::error::AppError;
use crate::notify::{self, Category, Notice};
use crate::services::eligibility::ParameterCache;

/// What an HR user gets for a code, or for an employee.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// `share` or `employment`.
    #[schema(value_type = String)]
    pub basis: AccessBasis,
    #[schema(value_type = Option<i64>)]
    pub share_id: Option<ShareId>,
    pub purpose: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub view: VerifiedView,
}

/// A look through a share, or else as the learner's employer.
fn basis_of(share: Option<&ShareRow>) -> AccessBasis {
    if share.is_some() {
        AccessBasis::Share
    } else {
        AccessBasis::Employment
    }
}

/// Logs an HR user's look at a learner's records and tells the learner (their preferences apply).
fn log_access(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner: &learners::LearnerRow,
    share: Option<&ShareRow>,
) -> Result<(), AppError> {
    let learner_id = learner.id;
    let now = db::now();
    let access_id = shares::insert_access(
        conn,
        &NewAccess {
            learner_id,
            share_id: share.map(|s| s.id),
            user_id: caller.id,
            institution_id: caller.institution_id,
            basis: basis_of(share),
            accessed_at: now,
        },
    )?;
    let enterprise = match caller.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    }
    .unwrap_or_default();
    let when = now
        .and_utc()
        .with_timezone(&SHANGHAI)
        .format("%Y-%m-%d %H:%M");
    let (kind, message) = notify::messages::viewed_message(
        &enterprise,
        &caller.email,
        share.map(|s| s.purpose.as_str()),
        &when.to_string(),
    );
    notify::produce(
        conn,
        &Notice {
            recipient: notify::Recipient::Learner(learner_id),
            email: learner.email.as_deref(),
            event_key: format!("access:{access_id}"),
            category: Category::Share,
            kind,
            message,
            due_at: None,
            secret: None,
        },
        now,
    )
}

/// The share a code names, for this HR user: a share for another enterprise is no share.
pub fn find_by_code(
    conn: &mut DbConnection,
    caller: &AuthUser,
    code: &str,
) -> Result<Option<ShareRow>, AppError> {
    let Some(code) = super::normalize_code(code) else {
        return Ok(None);
    };
    Ok(shares::find_share_by_code(conn, &super::code_hash(&code))?
        .filter(|s| scope::may_use_share(caller, s)))
}

/// What an HR user sees for a share code: `NotFound` for a code that names no share for them
/// (a guess, for the limiter), `Gone` for one revoked or expired, else the shared records as
/// they stand today, the look logged and told to the learner. Run inside a write transaction.
pub fn verify_code(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    caller: &AuthUser,
    code: &str,
    now: chrono::NaiveDateTime,
) -> Result<Verification, AppError> {
    let share = find_by_code(conn, caller, code)?.ok_or(AppError::NotFound { what: "share" })?;
    super::require_active(&share, now)?;
    look_through(conn, parameters, caller, &share)
}

/// What an HR user sees through an active share: what it names, as it stands today.
pub fn look_through(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    caller: &AuthUser,
    share: &ShareRow,
) -> Result<Verification, AppError> {
    let learner =
        learners::find(conn, share.learner_id)?.ok_or(AppError::NotFound { what: "share" })?;
    let certificate_ids: Vec<CertificateId> = super::json_list(&share.certificate_ids)?;
    let milestone_keys: Vec<String> = super::json_list(&share.milestone_keys)?;
    let selection = Selection::Named {
        certificate_ids: &certificate_ids,
        milestone_keys: &milestone_keys,
    };
    look(conn, parameters, caller, &learner, Some(share), &selection)
}

/// What HR staff see of an employee of their enterprise: verified certificates and met
/// milestones. Anyone else is no employee.
pub fn look_at_employee(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    caller: &AuthUser,
    learner_id: LearnerId,
) -> Result<Verification, AppError> {
    let employed = scope::employs(conn, caller, learner_id)?;
    let learner = learners::find(conn, learner_id)?
        .filter(|_| employed)
        .ok_or(AppError::NotFound { what: "employee" })?;
    look(
        conn,
        parameters,
        caller,
        &learner,
        None,
        &Selection::VerifiedAndMet,
    )
}

/// What an HR user sees of a learner now, logged and told to the learner.
pub fn look(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    caller: &AuthUser,
    learner: &learners::LearnerRow,
    share: Option<&ShareRow>,
    selection: &Selection<'_>,
) -> Result<Verification, AppError> {
    let view = super::Records::load(conn, parameters, learner.id, today_in_shanghai())?
        .view(&learner.name, selection)?;
    log_access(conn, caller, learner, share)?;
    Ok(Verification {
        basis: basis_of(share),
        share_id: share.map(|s| s.id),
        purpose: share.map(|s| s.purpose.clone()),
        expires_at: share.map(|s| s.expires_at.and_utc()),
        view,
    })
}
