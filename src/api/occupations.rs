//! `/api/v1/occupations`: the occupation catalog (administrators keep it; everyone reads it).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::Page;
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db::occupations::{self, OccupationFilter, OccupationRow};
use crate::db::{self};
use crate::domain::checks::Checks;
use crate::error::AppError;
use crate::services::imports::csv::ImportReport;
use crate::services::imports::occupations as catalog;
use crate::state::AppState;
use crate::upload::{self, ImportParams};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OccupationResponse {
    /// 职业分类大典 code, `D-DD-DD-DD`.
    pub code: String,
    pub name: String,
    /// In the 高技能人才职业工种目录.
    pub high_skill_catalog: bool,
    /// In the 技师、高级技师职业工种目录.
    pub technician_catalog: bool,
    /// 本市重点产业紧缺急需.
    pub priority_industry: bool,
    /// Where the entry came from (catalog edition, file).
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OccupationRow> for OccupationResponse {
    fn from(row: OccupationRow) -> Self {
        Self {
            code: row.code,
            name: row.name,
            high_skill_catalog: row.high_skill_catalog,
            technician_catalog: row.technician_catalog,
            priority_industry: row.priority_industry,
            source: row.source,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "6-18-02-04", "name": "电工", "high_skill_catalog": true,
    "technician_catalog": true, "priority_industry": false, "source": "职业分类大典 2022"
}))]
pub struct OccupationInput {
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub high_skill_catalog: bool,
    #[serde(default)]
    pub technician_catalog: bool,
    #[serde(default)]
    pub priority_industry: bool,
    /// Required: the service ships no occupation as authoritative unless its source is recorded.
    #[schema(min_length = 1, max_length = 200)]
    pub source: String,
}

/// Add one occupation (administrators).
#[utoipa::path(post, path = "/api/v1/occupations", tag = "occupations",
    request_body = OccupationInput, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = OccupationResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_occupation(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<OccupationInput>,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let input = body.into_inner();
    let mut checks = Checks::new();
    let (code, name, source) =
        catalog::check_occupation(&mut checks, &input.code, &input.name, &input.source);
    let now = db::now();
    let row = checks.done(|| {
        Some(OccupationRow {
            code: code?.into_inner(),
            name: name?,
            high_skill_catalog: input.high_skill_catalog,
            technician_catalog: input.technician_catalog,
            priority_industry: input.priority_industry,
            source: source?,
            created_at: now,
            updated_at: now,
        })
    })?;
    let actor = caller.id;
    let row = state
        .db
        .write(move |conn| {
            catalog::add_occupation(conn, actor, &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/occupations/{}", row.code),
        ))
        .json(OccupationResponse::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOccupationsQuery {
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (the last code seen).
    pub cursor: Option<String>,
    /// Codes starting with this (e.g. `6-18`).
    pub code_prefix: Option<String>,
    /// Names containing this text.
    pub name_contains: Option<String>,
    pub high_skill_catalog: Option<bool>,
    pub technician_catalog: Option<bool>,
    pub priority_industry: Option<bool>,
}

/// The catalog, in code order (any account).
#[utoipa::path(get, path = "/api/v1/occupations", tag = "occupations",
    params(ListOccupationsQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<OccupationResponse>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json")))]
pub async fn list_occupations(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<ListOccupationsQuery>,
) -> Result<web::Json<Page<OccupationResponse>>, AppError> {
    let q = query.into_inner();
    let limit = crate::api::pagination::PageParams {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let filter = OccupationFilter {
        code_prefix: q.code_prefix,
        name_contains: q.name_contains,
        technician_catalog: q.technician_catalog,
        high_skill_catalog: q.high_skill_catalog,
        priority_industry: q.priority_industry,
    };
    let after = q.cursor.filter(|c| !c.trim().is_empty());
    let rows = state
        .db
        .read(move |conn| {
            Ok(occupations::list(
                conn,
                &filter,
                after.as_deref(),
                limit + 1,
            )?)
        })
        .await?;
    Ok(web::Json(Page::from_keyed_rows(
        rows,
        limit,
        |r| r.code.clone(),
        OccupationResponse::from,
    )))
}

/// One occupation (any account).
#[utoipa::path(get, path = "/api/v1/occupations/{code}", tag = "occupations",
    params(("code" = String, Path, description = "Occupation code, D-DD-DD-DD")), security(("bearer" = [])),
    responses((status = 200, description = "The occupation", body = OccupationResponse),
        (status = 404, description = "No such occupation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_occupation(
    state: web::Data<AppState>,
    _caller: AuthUser,
    code: web::Path<String>,
) -> Result<web::Json<OccupationResponse>, AppError> {
    let code = code.into_inner();
    let row = state
        .db
        .read(move |conn| {
            occupations::find(conn, &code)?.ok_or(AppError::NotFound { what: "occupation" })
        })
        .await?;
    Ok(web::Json(row.into()))
}

/// Import the catalog from CSV (administrators).
///
/// Columns (English or Chinese headers): `code` (职业编码), `name` (职业名称), and optionally
/// `high_skill_catalog`, `technician_catalog`, `priority_industry` (yes/no, 是/否, 1/0) and
/// `source` (来源; default: the `source` query parameter). UTF-8 (with or without BOM) or GBK.
/// Rows are matched by code: new codes are created, changed rows updated in place, identical
/// rows left alone, so importing the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/occupations/import", tag = "occupations",
    params(ImportParams, ("source" = Option<String>, Query, description = "Source recorded for rows without a source column")),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportReport),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored) or a required column missing", body = Problem, content_type = "application/problem+json")))]
pub async fn import_occupations_csv(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    params: web::Query<ImportParams>,
    source: web::Query<SourceParam>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    caller.require_admin()?;
    let partial = params.partial.unwrap_or(false);
    let default_source = source.into_inner().source.unwrap_or_default();
    let upload = upload::open(&req, payload).await?;
    let actor = caller.id;
    let report = state
        .db
        .write(move |conn| {
            catalog::import_occupations(conn, upload, partial, &default_source, actor)
        })
        .await?;
    Ok(web::Json(report))
}

#[derive(Debug, Deserialize)]
pub struct SourceParam {
    pub source: Option<String>,
}
