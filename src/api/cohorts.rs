//! `/api/v1/cohorts`: a program's intakes, and the bulk enrollment of a cohort from CSV.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, RefusedMatches};
use crate::auth::AuthUser;
use crate::db::cohorts::CohortRow;
use crate::domain::{checks::Checks, today_in_shanghai, CohortId, InstitutionId, ProgramId, Role};
use crate::error::AppError;
use crate::services::imports::cohort as cohort_import;
use crate::services::imports::csv::ImportReport;
use crate::services::institutions as institutions_service;
use crate::state::AppState;
use crate::upload::{self, ImportParams};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CohortResponse {
    #[schema(value_type = i64)]
    pub id: CohortId,
    #[schema(value_type = i64)]
    pub program_id: ProgramId,
    #[schema(value_type = i64)]
    pub institution_id: InstitutionId,
    pub name: String,
    pub intake_year: i32,
    pub created_at: DateTime<Utc>,
}

fn cohort_response(row: CohortRow, institution_id: InstitutionId) -> CohortResponse {
    CohortResponse {
        id: row.id,
        program_id: row.program_id,
        institution_id,
        name: row.name,
        intake_year: row.intake_year,
        created_at: row.created_at.and_utc(),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"program_id": 3, "name": "2024级电气1班", "intake_year": 2024}))]
pub struct CreateCohortRequest {
    #[schema(value_type = i64)]
    pub program_id: ProgramId,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub intake_year: i32,
}

/// Create a cohort of a program (administrators, staff of the program's institution).
#[utoipa::path(post, path = "/api/v1/cohorts", tag = "cohorts",
    request_body = CreateCohortRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = CohortResponse),
        (status = 404, description = "No such program (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The program has a cohort of this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_cohort(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateCohortRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff])?;
    let b = body.into_inner();
    let mut checks = Checks::new();
    let name = checks.text("name", &b.name, 100);
    let this_year = today_in_shanghai().year();
    checks.ensure(
        (1990..=this_year + 1).contains(&b.intake_year),
        "intake_year",
        format!("must be between 1990 and {}", this_year + 1),
    );
    let name = checks.done(|| name)?;
    let created = state
        .db
        .write(move |conn| {
            let (row, institution_id) = institutions_service::create_cohort(
                conn,
                &caller,
                b.program_id,
                &name,
                b.intake_year,
            )?;
            Ok(cohort_response(row, institution_id))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/cohorts/{}", created.id)))
        .json(created))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCohortsQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    #[param(value_type = Option<i64>)]
    pub program_id: Option<ProgramId>,
}

/// Cohorts the caller may see (staff: their institution's).
#[utoipa::path(get, path = "/api/v1/cohorts", tag = "cohorts",
    params(ListCohortsQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<CohortResponse>)))]
pub async fn list_cohorts(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListCohortsQuery>,
) -> Result<web::Json<Page<CohortResponse>>, AppError> {
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let page = state
        .db
        .read(move |conn| {
            let rows =
                institutions_service::list_cohorts(conn, &caller, q.program_id, after, limit + 1)?;
            Ok(Page::from_rows(
                rows,
                limit,
                |(r, _)| r.id,
                |(r, institution)| cohort_response(r, institution),
            ))
        })
        .await?;
    Ok(web::Json(page))
}

/// One cohort.
#[utoipa::path(get, path = "/api/v1/cohorts/{id}", tag = "cohorts",
    params(("id" = i64, Path, description = "Cohort id")), security(("bearer" = [])),
    responses((status = 200, description = "The cohort", body = CohortResponse),
        (status = 404, description = "No such cohort (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_cohort(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<CohortId>,
) -> Result<web::Json<CohortResponse>, AppError> {
    let id = id.into_inner();
    let cohort = state
        .db
        .read(move |conn| {
            let (row, institution_id) = scope::visible_cohort(conn, &caller, id)?;
            Ok(cohort_response(row, institution_id))
        })
        .await?;
    Ok(web::Json(cohort))
}

/// Enroll a cohort's learners from a CSV file (administrators, staff of the cohort's institution).
///
/// Columns (header names in English or Chinese): `name` 姓名, `id_number` 身份证号, `email` 邮箱,
/// `kind` 学员类型 (default student), `start_date` 入学日期, `end_date` 毕业日期, `full_time`
/// 全日制 (default yes), `class_type` 班级类型 (default regular), `status` 学籍状态 (default
/// enrolled), `preferred_language` 语言, `hukou` 户籍. Each row needs an identity number or an
/// email: existing learners are matched by identity number, else by email; others are created.
/// UTF-8 (with or without BOM) or GBK/GB18030. Importing the same file again creates nothing.
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/enrollments/import", tag = "cohorts",
    params(("id" = i64, Path, description = "Cohort id"), ImportParams),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportReport),
        (status = 404, description = "No such cohort (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another import enrolled the same learner at the same time; send the file again", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many rows refused as out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once, or the database is out of reach; try again", body = Problem, content_type = "application/problem+json")))]
pub async fn import_enrollments(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: web::Path<CohortId>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff])?;
    let cohort_id = id.into_inner();
    let partial = params.partial.unwrap_or(false);
    let who = caller.clone();
    let target = state
        .db
        .read(move |conn| cohort_import::ImportTarget::check(conn, &who, cohort_id))
        .await?;
    let upload = upload::open(&req, payload).await?;
    let st = state.clone();
    let refused = RefusedMatches::new(state.scope_refusals.clone());
    let (who, sink) = (caller.clone(), refused.clone());
    let report = state
        .db
        .write(move |conn| {
            let ctx = st.cohort_import(&who, &sink, target);
            cohort_import::import_and_refresh(conn, &ctx, upload, partial)
        })
        .await;
    scope::record_refusals(&state.db, &caller, &refused).await;
    let report = report?;
    tracing::info!(
        cohort_id = %cohort_id,
        rows = report.rows_read,
        created = report.created,
        rejected = report.rejected_count,
        "cohort import"
    );
    Ok(web::Json(report))
}
