//! `/api/v1/institutions`: institutions, their 新型技师学院 designation periods, and programs.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, require_institution};
use crate::auth::AuthUser;
use crate::db::institutions::{self, DesignationRow, InstitutionRow, ProgramRow};
use crate::db::DbConnection;
use crate::domain::{
    checks::Checks, DesignationId, InstitutionId, InstitutionKind, OccupationCode, ProgramId,
};
use crate::error::AppError;
use crate::services::institutions as institutions_service;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DesignationResponse {
    #[schema(value_type = i64)]
    pub id: DesignationId,
    /// The batch (批次) of the designation.
    pub batch: String,
    pub designated_from: NaiveDate,
    /// Set when the designation ended (摘牌) or was granted for a fixed period.
    pub designated_until: Option<NaiveDate>,
    pub end_reason: Option<String>,
}

impl From<DesignationRow> for DesignationResponse {
    fn from(r: DesignationRow) -> Self {
        Self {
            id: r.id,
            batch: r.batch,
            designated_from: r.designated_from,
            designated_until: r.designated_until,
            end_reason: r.end_reason,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstitutionResponse {
    #[schema(value_type = i64)]
    pub id: InstitutionId,
    pub name: String,
    pub kind: InstitutionKind,
    /// 经评估认定: what the national application rules ask of some secondary and higher
    /// vocational institutions.
    pub assessed: bool,
    /// Every designation period as 新型技师学院, oldest first.
    pub designations: Vec<DesignationResponse>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn institution_response(
    row: InstitutionRow,
    designations: Vec<DesignationRow>,
) -> Result<InstitutionResponse, AppError> {
    Ok(InstitutionResponse {
        kind: row.kind,
        id: row.id,
        name: row.name,
        assessed: row.assessed,
        designations: designations.into_iter().map(Into::into).collect(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn load_institution(
    conn: &mut DbConnection,
    id: InstitutionId,
) -> Result<InstitutionResponse, AppError> {
    let row = institutions::find(conn, id)?.ok_or(AppError::NotFound {
        what: "institution",
    })?;
    let designations = institutions::designations_of(conn, id)?;
    institution_response(row, designations)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "上海市某技师学院", "kind": "technician_college", "assessed": false}))]
pub struct CreateInstitutionRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(value_type = InstitutionKind)]
    pub kind: String,
    #[serde(default)]
    pub assessed: bool,
}

/// Register an institution (administrators).
#[utoipa::path(post, path = "/api/v1/institutions", tag = "institutions",
    request_body = CreateInstitutionRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = InstitutionResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_institution(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateInstitutionRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let body = body.into_inner();
    let mut checks = Checks::new();
    let name = checks.text("name", &body.name, 200);
    let kind = checks.parse::<InstitutionKind>("kind", &body.kind);
    let (name, kind) = checks.done(|| Some((name?, kind?)))?;
    let actor = caller.id;
    let created = state
        .db
        .write(move |conn| {
            let row =
                institutions_service::create_institution(conn, actor, &name, kind, body.assessed)?;
            institution_response(row, Vec::new())
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/institutions/{}", created.id),
        ))
        .json(created))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListInstitutionsQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    #[param(value_type = Option<InstitutionKind>)]
    pub kind: Option<String>,
}

/// Institutions the caller may see: all for administrators and evaluators, one's own for staff.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "institutions",
    params(ListInstitutionsQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<InstitutionResponse>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json")))]
pub async fn list_institutions(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListInstitutionsQuery>,
) -> Result<web::Json<Page<InstitutionResponse>>, AppError> {
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let kind = match &q.kind {
        Some(kind) => Some(
            kind.parse::<InstitutionKind>()
                .map_err(|m| AppError::invalid("kind", m))?,
        ),
        None => None,
    };
    let page = state
        .db
        .read(move |conn| {
            let rows = institutions_service::list(conn, &caller, kind, after, limit + 1)?;
            Page::from_rows(
                rows,
                limit,
                |(r, _)| r.id,
                |(r, own)| institution_response(r, own),
            )
            .transpose()
        })
        .await?;
    Ok(web::Json(page))
}

/// One institution with its designation history.
#[utoipa::path(get, path = "/api/v1/institutions/{id}", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id")), security(("bearer" = [])),
    responses((status = 200, description = "The institution", body = InstitutionResponse),
        (status = 404, description = "No such institution (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_institution(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
) -> Result<web::Json<InstitutionResponse>, AppError> {
    let id = id.into_inner();
    require_institution(&caller, id)?;
    Ok(web::Json(
        state
            .db
            .read(move |conn| load_institution(conn, id))
            .await?,
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstitutionRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub assessed: Option<bool>,
}

/// Rename an institution or set its `assessed` flag (administrators).
#[utoipa::path(patch, path = "/api/v1/institutions/{id}", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = UpdateInstitutionRequest, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = InstitutionResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another institution has this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn update_institution(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<UpdateInstitutionRequest>,
) -> Result<web::Json<InstitutionResponse>, AppError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let name = body.name.as_deref().map(|n| checks.text("name", n, 200));
    let name = checks.done(|| match name {
        Some(n) => Some(Some(n?)),
        None => Some(None),
    })?;
    let actor = caller.id;
    let updated = state
        .db
        .write(move |conn| {
            institutions_service::update_institution(
                conn,
                actor,
                id,
                name.as_deref(),
                body.assessed,
            )?;
            load_institution(conn, id)
        })
        .await?;
    Ok(web::Json(updated))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"batch": "2022年第一批", "designated_from": "2022-03-01"}))]
pub struct CreateDesignationRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub batch: String,
    pub designated_from: NaiveDate,
    pub designated_until: Option<NaiveDate>,
}

/// Record a designation period as 新型技师学院 (administrators). Periods of one institution may
/// not overlap.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/designations", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = CreateDesignationRequest, security(("bearer" = [])),
    responses((status = 201, description = "Recorded; the institution with its history", body = InstitutionResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Overlaps another period", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_designation(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<CreateDesignationRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let batch = checks.text("batch", &body.batch, 100);
    checks.ordered(
        "designated_until",
        Some(body.designated_from),
        body.designated_until,
        "designated_from",
    );
    let batch = checks.done(|| batch)?;
    let actor = caller.id;
    let institution = state
        .db
        .write(move |conn| {
            institutions_service::add_designation(
                conn,
                actor,
                id,
                &batch,
                body.designated_from,
                body.designated_until,
            )?;
            load_institution(conn, id)
        })
        .await?;
    Ok(HttpResponse::Created().json(institution))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"designated_until": "2025-12-31", "reason": "年度评估不合格，摘牌"}))]
pub struct EndDesignationRequest {
    /// The last day the designation held.
    pub designated_until: NaiveDate,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// End a designation period (摘牌), recording the date and the reason (administrators).
#[utoipa::path(post, path = "/api/v1/institutions/{id}/designations/{designation_id}/end", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id"), ("designation_id" = i64, Path, description = "Designation id")),
    request_body = EndDesignationRequest, security(("bearer" = [])),
    responses((status = 200, description = "Ended; the institution with its history", body = InstitutionResponse),
        (status = 404, description = "No such designation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn end_designation(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(InstitutionId, DesignationId)>,
    body: JsonBody<EndDesignationRequest>,
) -> Result<web::Json<InstitutionResponse>, AppError> {
    caller.require_admin()?;
    let (id, designation_id) = path.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let reason = checks.text("reason", &body.reason, 500);
    let reason = checks.done(|| reason)?;
    let actor = caller.id;
    let institution = state
        .db
        .write(move |conn| {
            institutions_service::end_designation(
                conn,
                actor,
                id,
                designation_id,
                body.designated_until,
                &reason,
            )?;
            load_institution(conn, id)
        })
        .await?;
    Ok(web::Json(institution))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgramResponse {
    #[schema(value_type = i64)]
    pub id: ProgramId,
    #[schema(value_type = i64)]
    pub institution_id: InstitutionId,
    pub name: String,
    /// The program's primary occupation.
    pub occupation_code: String,
    /// Further occupations a certificate may be in and still count as "related".
    pub related_occupation_codes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Programs with their related occupations, in one query for the related codes.
pub fn program_responses(
    conn: &mut DbConnection,
    rows: Vec<ProgramRow>,
) -> Result<Vec<ProgramResponse>, AppError> {
    let ids: Vec<ProgramId> = rows.iter().map(|r| r.id).collect();
    let mut related: BTreeMap<ProgramId, Vec<String>> = BTreeMap::new();
    for (program_id, code) in institutions::related_occupations(conn, &ids)? {
        related.entry(program_id).or_default().push(code);
    }
    Ok(rows
        .into_iter()
        .map(|r| ProgramResponse {
            related_occupation_codes: related.remove(&r.id).unwrap_or_default(),
            id: r.id,
            institution_id: r.institution_id,
            name: r.name,
            occupation_code: r.occupation_code,
            created_at: r.created_at.and_utc(),
        })
        .collect())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "电气自动化设备安装与维修", "occupation_code": "6-31-01-03", "related_occupation_codes": ["6-18-02-04"]}))]
pub struct CreateProgramRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub occupation_code: String,
    #[serde(default)]
    pub related_occupation_codes: Vec<String>,
}

/// Add a program (administrators, or staff of the institution). Occupation codes must exist.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/programs", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = CreateProgramRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = ProgramResponse),
        (status = 404, description = "No such institution (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A program of this name exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown occupation codes", body = Problem, content_type = "application/problem+json")))]
pub async fn create_program(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<CreateProgramRequest>,
) -> Result<HttpResponse, AppError> {
    let institution_id = id.into_inner();
    require_institution(&caller, institution_id)?;
    if !caller.manages_institution(institution_id) {
        return Err(AppError::Forbidden);
    }
    let body = body.into_inner();
    let mut checks = Checks::new();
    let name = checks.text("name", &body.name, 200);
    let primary = checks.with(
        "occupation_code",
        OccupationCode::parse(&body.occupation_code),
    );
    let mut related = Vec::new();
    for (i, code) in body.related_occupation_codes.iter().enumerate() {
        if let Some(code) = checks.with(
            &format!("related_occupation_codes[{i}]"),
            OccupationCode::parse(code),
        ) {
            if !related.contains(&code.as_str().to_owned())
                && Some(code.as_str()) != primary.as_ref().map(|p| p.as_str())
            {
                related.push(code.into_inner());
            }
        }
    }
    let (name, primary) = checks.done(|| Some((name?, primary?.into_inner())))?;
    let actor = caller.id;
    let program = state
        .db
        .write(move |conn| {
            let row = institutions_service::create_program(
                conn,
                actor,
                institution_id,
                &name,
                &primary,
                &related,
            )?;
            program_responses(conn, vec![row])?
                .pop()
                .ok_or(AppError::NotFound { what: "program" })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/programs/{}", program.id)))
        .json(program))
}

/// The institution's programs.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/programs", tag = "institutions",
    params(("id" = i64, Path, description = "Institution id")), security(("bearer" = [])),
    responses((status = 200, description = "Programs", body = Vec<ProgramResponse>),
        (status = 404, description = "No such institution (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_programs(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
) -> Result<web::Json<Vec<ProgramResponse>>, AppError> {
    let institution_id = id.into_inner();
    require_institution(&caller, institution_id)?;
    let programs = state
        .db
        .read(move |conn| {
            institutions::find(conn, institution_id)?.ok_or(AppError::NotFound {
                what: "institution",
            })?;
            let rows = institutions::programs_of(conn, institution_id)?;
            program_responses(conn, rows)
        })
        .await?;
    Ok(web::Json(programs))
}

/// One program.
#[utoipa::path(get, path = "/api/v1/programs/{id}", tag = "institutions",
    params(("id" = i64, Path, description = "Program id")), security(("bearer" = [])),
    responses((status = 200, description = "The program", body = ProgramResponse),
        (status = 404, description = "No such program (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_program(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<ProgramId>,
) -> Result<web::Json<ProgramResponse>, AppError> {
    let id = id.into_inner();
    let program = state
        .db
        .read(move |conn| {
            let row = scope::visible_program(conn, &caller, id)?;
            program_responses(conn, vec![row])?
                .pop()
                .ok_or(AppError::NotFound { what: "program" })
        })
        .await?;
    Ok(web::Json(program))
}
