//! Learners' rights over their personal information: a copy of everything (PIPL Art. 45),
//! corrections (Art. 46) and deletion (Art. 47).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, RefusedMatches};
use crate::auth::AuthUser;
use crate::db;
use crate::db::corrections::{CorrectionRow, Listing};
use crate::db::erasure as erasure_db;
use crate::domain::today_in_shanghai;
use crate::domain::{
    CorrectionDecision, CorrectionRecord, CorrectionRequestId, CorrectionStatus, LearnerId,
};
use crate::error::AppError;
use crate::services::personal_data::export::{self, RequestedBy};
use crate::services::personal_data::{corrections, erasure};
use crate::state::AppState;

/// A zip file (binary).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipFile(#[allow(dead_code)] Vec<u8>);

fn zip_response(learner_id: LearnerId, zip: Vec<u8>) -> HttpResponse {
    crate::downloads::attachment("application/zip", &export::file_name(learner_id), zip)
}

/// A copy of everything Skillpath holds about the caller: `export.json` (every section),
/// `csv/<section>.csv` (one per kind of record) and a note, in a zip. Audited.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "personal data", security(("bearer" = [])),
    responses((status = 200, description = "The zip", body = ZipFile, content_type = "application/zip"),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn my_export(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    let by = RequestedBy::TheLearner(caller.id);
    Ok(zip_response(
        learner_id,
        export::make_copy(&state.db, learner_id, by).await?,
    ))
}

/// The same copy, produced by staff for a learner who asks for it (college staff of a learner
/// they see, administrators). Audited in the staff member's name.
#[utoipa::path(get, path = "/api/v1/learners/{id}/export", tag = "personal data",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "The zip", body = ZipFile, content_type = "application/zip"),
        (status = 403, description = "Neither college staff nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn learner_export(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<HttpResponse, AppError> {
    let learner_id = id.into_inner();
    let by = RequestedBy::Staff(caller.id);
    state
        .db
        .read(move |conn| scope::require_exporter_of(conn, &caller, learner_id))
        .await?;
    Ok(zip_response(
        learner_id,
        export::make_copy(&state.db, learner_id, by).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"record": "learner", "changes": {"name": "王芳芳"}, "reason": "户口本上的姓名是王芳芳"}))]
pub struct CorrectionRequestBody {
    /// `learner` (your own facts: `name`, `kind`, `kind_effective_from`, `birth_date`),
    /// `enrollment` (`start_date`, `end_date`, `full_time`) or `employment` (`occupation_code`,
    /// `post_title`, `start_date`, `end_date`, `in_shanghai`, `frontline`).
    pub record: CorrectionRecord,
    /// The enrollment's or employment spell's id; absent for `learner`.
    pub record_id: Option<i64>,
    /// The fields to correct and their right values.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// Why the recorded value is wrong (1 to 1000 characters).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Correction {
    pub id: i64,
    pub learner_id: i64,
    pub record: CorrectionRecord,
    pub record_id: Option<i64>,
    /// The fields asked for and their values.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// What those fields held when asked.
    #[schema(value_type = Object)]
    pub current_values: Value,
    pub reason: String,
    /// Whose staff decide (the institution that recorded the fact); absent: administrators.
    pub institution_id: Option<i64>,
    pub status: CorrectionStatus,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn correction(row: CorrectionRow) -> Result<Correction, AppError> {
    let json = |text: &str| {
        serde_json::from_str(text).map_err(|e| AppError::internal("stored correction", e))
    };
    Ok(Correction {
        id: row.id.0,
        learner_id: row.learner_id.0,
        record: row.record,
        record_id: row.record_id,
        changes: json(&row.changes)?,
        current_values: json(&row.current_values)?,
        reason: row.reason,
        institution_id: row.institution_id.map(|i| i.0),
        status: row.status,
        decision_reason: row.decision_reason,
        created_at: row.created_at.and_utc(),
        decided_at: row.decided_at.map(|t| t.and_utc()),
    })
}

/// Ask to correct a fact your college or employer recorded (PIPL Art. 46). Its staff decide; you
/// are told either way.
#[utoipa::path(post, path = "/api/v1/me/corrections", tag = "personal data",
    request_body = CorrectionRequestBody, security(("bearer" = [])),
    responses((status = 201, description = "Asked (pending)", body = Correction),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrollment or employment of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (named): a field you change yourself, one that cannot be corrected, a value that could not be stored", body = Problem, content_type = "application/problem+json")))]
pub async fn request_correction(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CorrectionRequestBody>,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    let body = body.into_inner();
    let form = corrections::CorrectionForm {
        record: body.record,
        record_id: body.record_id,
        changes: body.changes,
        reason: body.reason,
    };
    let app = state.clone();
    let row = state
        .db
        .write(move |conn| {
            corrections::request(
                conn,
                learner_id,
                caller.id,
                form,
                &app.identity_vault,
                db::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(correction(row)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CorrectionQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    #[param(value_type = Option<CorrectionStatus>)]
    pub status: Option<CorrectionStatus>,
}

async fn correction_page(
    state: &AppState,
    listing: Listing,
    query: CorrectionQuery,
) -> Result<Page<Correction>, AppError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let (limit, before) = (page.limit()?, page.after_id()?);
    let status = query.status;
    let rows = state
        .db
        .read(move |conn| corrections::list(conn, listing, status, before, limit + 1))
        .await?;
    Page::from_rows(rows, limit, |r| r.id.0, correction).transpose()
}

/// Your correction requests, newest first.
#[utoipa::path(get, path = "/api/v1/me/corrections", tag = "personal data",
    params(CorrectionQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<Correction>),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn my_corrections(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<CorrectionQuery>,
) -> Result<web::Json<Page<Correction>>, AppError> {
    let listing = Listing::Learner(caller.own_learner_id()?);
    Ok(web::Json(
        correction_page(&state, listing, query.into_inner()).await?,
    ))
}

/// The correction requests the caller decides on, newest first: staff those of their
/// institution, administrators all (`status=pending` for the ones waiting).
#[utoipa::path(get, path = "/api/v1/corrections", tag = "personal data",
    params(CorrectionQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<Correction>),
        (status = 403, description = "Not staff or an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn list_corrections(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<CorrectionQuery>,
) -> Result<web::Json<Page<Correction>>, AppError> {
    let listing = scope::corrections_decided_by(&caller)?;
    Ok(web::Json(
        correction_page(&state, listing, query.into_inner()).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "refuse", "reason": "学籍档案记载的入学日期为2022-09-01"}))]
pub struct CorrectionDecisionBody {
    pub decision: CorrectionDecision,
    /// Required to refuse (1 to 1000 characters); optional to accept.
    #[serde(default)]
    pub reason: String,
}

/// Accept (the fact changes as asked; audited; the learner's milestones recomputed) or refuse
/// (with a reason) a pending correction request. The learner is told either way.
#[utoipa::path(post, path = "/api/v1/corrections/{id}/decision", tag = "personal data",
    params(("id" = i64, Path, description = "Correction request id")),
    request_body = CorrectionDecisionBody, security(("bearer" = [])),
    responses((status = 200, description = "Decided", body = Correction),
        (status = 403, description = "Not staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request that your institution decides", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or the change conflicts with another learner's record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason to refuse, or the change can no longer be stored (named)", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_correction(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<CorrectionRequestId>,
    body: JsonBody<CorrectionDecisionBody>,
) -> Result<web::Json<Correction>, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let app = state.clone();
    let refused = RefusedMatches::new(state.scope_refusals.clone());
    let (who, sink) = (caller.clone(), refused.clone());
    let decided = state
        .db
        .write(move |conn| {
            let cx = corrections::Deciding {
                vault: &app.identity_vault,
                refused: &sink,
                now: db::now(),
            };
            corrections::decide(conn, &who, id, body.decision, &body.reason, &cx)
        })
        .await;
    scope::record_refusals(&state.db, &caller, &refused).await;
    Ok(web::Json(correction(decided?)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletionState {
    /// Whether the learner asked to delete their account (and has not cancelled).
    pub requested: bool,
    pub requested_at: Option<DateTime<Utc>>,
    /// From when their personal information is erased (by the daily job).
    pub erase_after: Option<DateTime<Utc>>,
}

fn deletion_state(row: Option<erasure_db::DeletionRow>) -> DeletionState {
    DeletionState {
        requested: row.is_some(),
        requested_at: row.as_ref().map(|r| r.requested_at.and_utc()),
        erase_after: row.map(|r| r.erase_after.and_utc()),
    }
}

/// Whether you asked to delete your account, and when it will be erased.
#[utoipa::path(get, path = "/api/v1/me/deletion", tag = "personal data", security(("bearer" = [])),
    responses((status = 200, description = "The deletion's state", body = DeletionState),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn deletion(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<DeletionState>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let row = state
        .db
        .read(move |conn| erasure::pending(conn, learner_id))
        .await?;
    Ok(web::Json(deletion_state(row)))
}

/// Ask to delete your account (PIPL Art. 47): after the grace period
/// (`retention.deletion_grace_days`, 14 days) your personal information is erased; until then
/// you can cancel. You are told by inbox and email. Asking again changes nothing.
#[utoipa::path(post, path = "/api/v1/me/deletion", tag = "personal data", security(("bearer" = [])),
    responses((status = 202, description = "Scheduled", body = DeletionState),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn request_deletion(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    let row = state
        .db
        .write(move |conn| {
            erasure::request(conn, learner_id, caller.id, today_in_shanghai(), db::now())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(deletion_state(Some(row))))
}

/// Cancel the deletion of your account. Repeating it changes nothing.
#[utoipa::path(delete, path = "/api/v1/me/deletion", tag = "personal data", security(("bearer" = [])),
    responses((status = 204, description = "Cancelled (or none was pending)"),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_deletion(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    state
        .db
        .write(move |conn| erasure::cancel(conn, learner_id, caller.id, db::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "来函 2026-118", "reason": "本人书面申请并核验身份"}))]
pub struct ErasureBody {
    /// The reference of the verified request (a letter, a ticket): 1 to 200 characters.
    pub reference: String,
    /// How the request was verified: 1 to 1000 characters. Do not write the person's name.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureResult {
    pub learner_id: i64,
    /// What stands for the person in what is kept.
    pub pseudonym: String,
    pub erased_at: DateTime<Utc>,
}

/// Erase a learner's personal information now, on a verified request (administrators). What is
/// kept, pseudonymised, is listed in the documentation; the erasure is audited with the
/// request's reference.
#[utoipa::path(post, path = "/api/v1/learners/{id}/erasure", tag = "personal data",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = ErasureBody, security(("bearer" = [])),
    responses((status = 200, description = "Erased", body = ErasureResult),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such learner (or already erased)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reference or reason (named)", body = Problem, content_type = "application/problem+json")))]
pub async fn erase_learner(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<ErasureBody>,
) -> Result<web::Json<ErasureResult>, AppError> {
    caller.require_admin()?;
    let learner_id = id.into_inner();
    let body = body.into_inner();
    let basis = erasure::ErasureBasis::administrator(&body.reference, &body.reason)?;
    let erased = state
        .db
        .write(move |conn| erasure::erase(conn, learner_id, Some(caller.id), &basis, db::now()))
        .await?;
    Ok(web::Json(ErasureResult {
        learner_id: learner_id.0,
        pseudonym: erased.pseudonym,
        erased_at: erased.erased_at.and_utc(),
    }))
}
