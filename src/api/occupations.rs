//! `/api/v1/occupations`: the occupation catalog (administrators keep it; everyone reads it).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::Page;
use crate::api::problem::Problem;
use crate::api::upload::{self, ImportParams};
use crate::auth::AuthUser;
use crate::db::occupations::{self, OccupationFilter, OccupationRow};
use crate::db::{self, audit, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::OccupationCode;
use crate::domain::{AuditAction, AuditEntity};
use crate::error::AppError;
use crate::services::imports::csv::{self as import, Column, CsvUpload, ImportReport, Rejections};
use crate::state::AppState;

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

/// Checks an occupation's fields, naming each problem.
fn check_occupation(
    checks: &mut Checks,
    code: &str,
    name: &str,
    source: &str,
) -> (Option<OccupationCode>, Option<String>, Option<String>) {
    let code = checks.with("code", OccupationCode::parse(code));
    let name = checks.text("name", name, 200);
    let source = checks.text("source", source, 200);
    (code, name, source)
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
        check_occupation(&mut checks, &input.code, &input.name, &input.source);
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
            if occupations::find(conn, &row.code)?.is_some() {
                return Err(AppError::conflict(
                    "occupation_exists",
                    "An occupation with this code exists.",
                ));
            }
            occupations::insert(conn, &row)?;
            audit::record(
                conn,
                Some(actor),
                AuditAction::Create,
                AuditEntity::Occupation,
                &row.code,
                &json!({"name": row.name}),
            )?;
            Ok(row)
        })
        .await?;
    crate::services::eligibility::recompute_all_in_background(state.db.clone(), "occupation added");
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

const OCCUPATION_COLUMNS: &[Column] = &[
    Column {
        name: "code",
        aliases: &["职业编码", "职业代码", "编码", "代码"],
        required: true,
    },
    Column {
        name: "name",
        aliases: &["职业名称", "名称", "职业(工种)名称"],
        required: true,
    },
    Column {
        name: "high_skill_catalog",
        aliases: &["高技能人才目录", "高技能人才职业工种目录"],
        required: false,
    },
    Column {
        name: "technician_catalog",
        aliases: &["技师目录", "技师、高级技师职业工种目录"],
        required: false,
    },
    Column {
        name: "priority_industry",
        aliases: &["重点产业紧缺", "本市重点产业紧缺急需"],
        required: false,
    },
    Column {
        name: "source",
        aliases: &["来源", "出处"],
        required: false,
    },
];

/// Reads the occupation CSV and upserts by code inside one transaction.
fn import_occupations(
    conn: &mut DbConnection,
    mut upload: CsvUpload,
    partial: bool,
    default_source: &str,
    actor: i64,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::new(upload.encoding, partial);
    let mut rejected = Rejections::default();
    let columns = upload.columns(OCCUPATION_COLUMNS)?;
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let now = db::now();
    for record in upload.reader.records() {
        report.rows_read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rejected.push(line, "row", format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if !columns.fits(&record, line, &mut rejected) {
            continue;
        }
        let mut row_errors = Vec::new();
        let mut flag = |column: &str| match columns.get(&record, column) {
            None => false,
            Some(v) => import::parse_flag(v).unwrap_or_else(|m| {
                row_errors.push((column.to_owned(), m));
                false
            }),
        };
        let (high, tech, priority) = (
            flag("high_skill_catalog"),
            flag("technician_catalog"),
            flag("priority_industry"),
        );
        let mut checks = Checks::new();
        let (code, name, source) = check_occupation(
            &mut checks,
            columns.get(&record, "code").unwrap_or_default(),
            columns.get(&record, "name").unwrap_or_default(),
            columns.get(&record, "source").unwrap_or(default_source),
        );
        let row = match checks.done(|| {
            Some(OccupationRow {
                code: code?.into_inner(),
                name: name?,
                high_skill_catalog: high,
                technician_catalog: tech,
                priority_industry: priority,
                source: source?,
                created_at: now,
                updated_at: now,
            })
        }) {
            Ok(row) if row_errors.is_empty() => row,
            Ok(_) => {
                for (field, message) in row_errors {
                    rejected.push(line, &field, message);
                }
                continue;
            }
            Err(AppError::Validation(errors)) => {
                let flags = row_errors
                    .into_iter()
                    .map(|(f, m)| crate::error::FieldError::new(f, m));
                rejected.push_all(line, errors.into_iter().chain(flags));
                continue;
            }
            Err(other) => return Err(other),
        };
        if let Some(first) = first_seen.get(&row.code) {
            rejected.push(
                line,
                "code",
                format!("{} appears again (first on line {first})", row.code),
            );
            continue;
        }
        first_seen.insert(row.code.clone(), line);
        match occupations::find(conn, &row.code)? {
            None => {
                occupations::insert(conn, &row)?;
                report.created += 1;
            }
            Some(existing) if existing.same_facts(&row) => report.unchanged += 1,
            Some(_) => {
                occupations::update_facts(conn, &row)?;
                report.updated += 1;
            }
        }
    }
    let report = report.finish(rejected)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Import,
        AuditEntity::Occupation,
        "*",
        &json!({"rows": report.rows_read, "created": report.created, "updated": report.updated, "rejected": report.rejected_count}),
    )?;
    Ok(report)
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
        .write(move |conn| import_occupations(conn, upload, partial, &default_source, actor))
        .await?;
    if report.created + report.updated > 0 {
        crate::services::eligibility::recompute_all_in_background(
            state.db.clone(),
            "occupation catalog imported",
        );
    }
    Ok(web::Json(report))
}

#[derive(Debug, Deserialize)]
pub struct SourceParam {
    pub source: Option<String>,
}
