//! `/api/v1/learners/{id}/awards`: competition medals and honours.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::records::learner_records;
use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::scope::{self};
use crate::auth::AuthUser;
use crate::db::records::{self, AwardRow, NewAward};
use crate::db::{self};
use crate::domain::{checks::Checks, today_in_shanghai, AwardId, AwardKind, LearnerId};
use crate::error::AppError;
use crate::services::records as records_service;
use crate::state::AppState;

// ---------------------------------------------------------------- awards

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AwardResponse {
    #[schema(value_type = i64)]
    pub id: AwardId,
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    pub kind: AwardKind,
    pub title: String,
    pub awarded_on: NaiveDate,
}

fn award_response(r: AwardRow) -> Result<AwardResponse, AppError> {
    Ok(AwardResponse {
        kind: r.kind,
        id: r.id,
        learner_id: r.learner_id,
        title: r.title,
        awarded_on: r.awarded_on,
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "national_competition_medal", "title": "全国职业技能大赛 电工项目 铜牌", "awarded_on": "2025-10-20"}))]
pub struct CreateAwardRequest {
    #[schema(value_type = AwardKind)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub awarded_on: NaiveDate,
}

/// Record an award (administrators, college staff in scope, the learner).
#[utoipa::path(post, path = "/api/v1/learners/{id}/awards", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = CreateAwardRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = AwardResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_award(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<CreateAwardRequest>,
) -> Result<HttpResponse, AppError> {
    let learner_id = id.into_inner();
    scope::may_add_facts(&caller, learner_id)?;
    let b = body.into_inner();
    let mut checks = Checks::new();
    let kind = checks.parse::<AwardKind>("kind", &b.kind);
    let title = checks.text("title", &b.title, 200);
    checks.ensure(
        b.awarded_on <= today_in_shanghai(),
        "awarded_on",
        "must not be in the future",
    );
    let (kind, title) = checks.done(|| Some((kind?, title?)))?;
    let _actor = caller.id;
    let row = state
        .db
        .write(move |conn| {
            let row = records_service::record_award(
                conn,
                &caller,
                NewAward {
                    learner_id,
                    kind,
                    title,
                    awarded_on: b.awarded_on,
                    created_at: db::now(),
                },
            )?;
            award_response(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// The learner's awards.
#[utoipa::path(get, path = "/api/v1/learners/{id}/awards", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Awards", body = Vec<AwardResponse>),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_awards(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<Vec<AwardResponse>>, AppError> {
    learner_records(
        &state,
        caller,
        id.into_inner(),
        records::awards_of,
        award_response,
    )
    .await
}
