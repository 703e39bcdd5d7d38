//! Learners' rights over their personal information: a copy of everything (PIPL Art. 45).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::api::problem::Problem;
use crate::auth::scope;
use crate::auth::AuthUser;
use crate::db;
use crate::domain::LearnerId;
use crate::error::AppError;
use crate::services::personal_data::export::{self, RequestedBy};
use crate::state::AppState;

/// A zip file (binary).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipFile(#[allow(dead_code)] Vec<u8>);

fn zip_response(learner_id: LearnerId, zip: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"skillpath-learner-{}.zip\"",
                learner_id.0
            ),
        ))
        .body(zip)
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
    let zip = state
        .db
        .write(move |conn| export::export_zip(conn, learner_id, by, db::now()))
        .await?;
    Ok(zip_response(learner_id, zip))
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
    let zip = state
        .db
        .write(move |conn| {
            scope::require_exporter_of(conn, &caller, learner_id)?;
            export::export_zip(conn, learner_id, RequestedBy::Staff(caller.id), db::now())
        })
        .await?;
    Ok(zip_response(learner_id, zip))
}
