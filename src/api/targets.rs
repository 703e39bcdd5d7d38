//! `/api/v1/institutions/{id}/kpis` and the records the targets are counted from:
//! `/training-deliveries`, `/teachers`, `/teacher-development` (policy 四, annex). The
//! institution's staff and administrators; learners and evaluators never.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::{scope, AuthUser};
use crate::db::institution_records::{DeliveryRow, DevelopmentRow, TeacherYearRow};
use crate::domain::checks::Checks;
use crate::domain::{
    today_in_shanghai, DeliveryKind, DevelopmentKind, InstitutionId, SkillLevel, TargetKind,
    TeacherDevelopmentId, TeacherYearId, TrainingDeliveryId,
};
use crate::error::AppError;
use crate::services::imports::csv::ImportReport;
use crate::services::imports::institution_records::{import_records, RecordFile};
use crate::services::targets::{self, DeliveryForm, DevelopmentForm, Figure, Targets, TeacherForm};
use crate::state::AppState;
use crate::upload::{self, ImportParams};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The calendar year (default: this year in Shanghai).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

impl YearQuery {
    fn year(&self, today: NaiveDate) -> Result<i32, AppError> {
        match self.year {
            Some(y) if !(2000..=2100).contains(&y) => {
                Err(AppError::invalid("year", "must be between 2000 and 2100"))
            }
            Some(y) => Ok(y),
            None => Ok(today.year()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FigureResponse {
    pub target: TargetKind,
    /// The policy clause the target comes from.
    pub clause: String,
    /// Person-times, a count, or (for the share) a fraction from 0 to 1; null when nothing is
    /// recorded to count.
    pub value: Option<f64>,
    /// What the value must reach; for the share, the year before's, which it must exceed. Null:
    /// no threshold in force for the year (the 十四五 figures ran 2021–2025), or no year before.
    pub threshold: Option<f64>,
    pub met: Option<bool>,
    /// For the year in progress: the value at this pace by 31 December.
    pub projection: Option<f64>,
    /// The ids of the records counted (deliveries, activities, teachers, partnerships).
    pub records: Vec<i64>,
}

impl From<Figure> for FigureResponse {
    fn from(f: Figure) -> Self {
        Self {
            target: f.target,
            clause: f.clause.to_owned(),
            value: f.value,
            threshold: f.threshold,
            met: f.met,
            projection: f.projection,
            records: f.records,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpisResponse {
    #[schema(value_type = i64)]
    pub institution_id: InstitutionId,
    pub institution_name: String,
    pub year: i32,
    /// The figures count records to this day: 31 December, or today in the year in progress.
    pub as_of: NaiveDate,
    /// Whether a designation period overlaps the year (the targets bind designated institutions).
    pub designated: bool,
    pub figures: Vec<FigureResponse>,
}

impl From<Targets> for KpisResponse {
    fn from(t: Targets) -> Self {
        Self {
            institution_id: t.institution.id,
            institution_name: t.institution.name,
            year: t.year,
            as_of: t.as_of,
            designated: t.designated,
            figures: t.figures.into_iter().map(Into::into).collect(),
        }
    }
}

/// The institution's yearly targets, counted from its records.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/kpis", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "Each target: its figure, threshold, verdict, clause and records", body = KpisResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A year not begun or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn kpis(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    query: web::Query<YearQuery>,
) -> Result<web::Json<KpisResponse>, AppError> {
    let id = id.into_inner();
    let today = today_in_shanghai();
    let year = query.year(today)?;
    let figures = state
        .db
        .read(move |conn| targets::targets(conn, &caller, id, year, today))
        .await?;
    Ok(web::Json(figures.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"delivered_on": "2026-06-30", "kind": "training", "occupation_code": "6-18-02-04",
    "level": "senior_worker", "person_times": 40, "note": "高级工培训班第3期"}))]
pub struct DeliveryRequest {
    /// The day the training or assessment ended; not after today.
    pub delivered_on: NaiveDate,
    #[schema(value_type = DeliveryKind)]
    pub kind: String,
    #[schema(max_length = 20)]
    pub occupation_code: String,
    #[schema(value_type = SkillLevel)]
    pub level: String,
    #[schema(minimum = 1, maximum = 100000)]
    pub person_times: i32,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    #[schema(value_type = i64)]
    pub id: TrainingDeliveryId,
    pub delivered_on: NaiveDate,
    pub kind: DeliveryKind,
    pub occupation_code: String,
    pub level: SkillLevel,
    pub person_times: i32,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryResponse {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            delivered_on: d.delivered_on,
            kind: d.kind,
            occupation_code: d.occupation_code,
            level: d.level,
            person_times: d.person_times,
            note: d.note,
            created_at: d.created_at.and_utc(),
        }
    }
}

/// Record training or assessment the institution delivered.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/training-deliveries", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = DeliveryRequest, security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = DeliveryResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_delivery(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<DeliveryRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let kind = checks.parse::<DeliveryKind>("kind", &body.kind);
    let level = checks.parse::<SkillLevel>("level", &body.level);
    let code = checks.with(
        "occupation_code",
        crate::domain::OccupationCode::parse(&body.occupation_code),
    );
    let note = checks.optional_text("note", body.note.as_deref(), 500);
    let form = checks.done(|| {
        Some(DeliveryForm {
            delivered_on: body.delivered_on,
            kind: kind?,
            occupation_code: code?.into_inner(),
            level: level?,
            person_times: body.person_times,
            note,
        })
    })?;
    let today = today_in_shanghai();
    let row = state
        .db
        .write(move |conn| targets::record_delivery(conn, &caller, id, &form, today))
        .await?;
    Ok(HttpResponse::Created().json(DeliveryResponse::from(row)))
}

/// The training and assessment recorded for a year.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/training-deliveries", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "Deliveries, in date order", body = [DeliveryResponse]),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year", body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    query: web::Query<YearQuery>,
) -> Result<web::Json<Vec<DeliveryResponse>>, AppError> {
    let id = id.into_inner();
    let year = query.year(today_in_shanghai())?;
    let rows = state
        .db
        .read(move |conn| targets::deliveries(conn, &caller, id, year))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2026, "staff_number": "T0012", "name": "张老师", "dual_qualified": true, "integrated": false}))]
pub struct TeacherRequest {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[schema(min_length = 1, max_length = 50)]
    pub staff_number: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 双师型 that year.
    pub dual_qualified: bool,
    /// 一体化 that year.
    pub integrated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeacherResponse {
    #[schema(value_type = i64)]
    pub id: TeacherYearId,
    pub year: i32,
    pub staff_number: String,
    pub name: String,
    pub dual_qualified: bool,
    pub integrated: bool,
    pub created_at: DateTime<Utc>,
}

impl From<TeacherYearRow> for TeacherResponse {
    fn from(t: TeacherYearRow) -> Self {
        Self {
            id: t.id,
            year: t.year,
            staff_number: t.staff_number,
            name: t.name,
            dual_qualified: t.dual_qualified,
            integrated: t.integrated,
            created_at: t.created_at.and_utc(),
        }
    }
}

/// Record a teacher of a year with their qualifications that year.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/teachers", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = TeacherRequest, security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = TeacherResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This staff number is recorded for the year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_teacher(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<TeacherRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let staff_number = checks.text("staff_number", &body.staff_number, 50);
    let name = checks.text("name", &body.name, 100);
    let form = checks.done(|| {
        Some(TeacherForm {
            year: body.year,
            staff_number: staff_number?,
            name: name?,
            dual_qualified: body.dual_qualified,
            integrated: body.integrated,
        })
    })?;
    let row = state
        .db
        .write(move |conn| targets::record_teacher(conn, &caller, id, &form))
        .await?;
    Ok(HttpResponse::Created().json(TeacherResponse::from(row)))
}

/// The teachers recorded for a year.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/teachers", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "Teachers, by staff number", body = [TeacherResponse]),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year", body = Problem, content_type = "application/problem+json")))]
pub async fn list_teachers(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    query: web::Query<YearQuery>,
) -> Result<web::Json<Vec<TeacherResponse>>, AppError> {
    let id = id.into_inner();
    let year = query.year(today_in_shanghai())?;
    let rows = state
        .db
        .read(move |conn| targets::teachers(conn, &caller, id, year))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"held_on": "2026-07-15", "kind": "enterprise_practice", "person_times": 12,
    "description": "暑期教师企业实践"}))]
pub struct DevelopmentRequest {
    /// The day it ended; not after today.
    pub held_on: NaiveDate,
    #[schema(value_type = DevelopmentKind)]
    pub kind: String,
    #[schema(minimum = 1, maximum = 100000)]
    pub person_times: i32,
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DevelopmentResponse {
    #[schema(value_type = i64)]
    pub id: TeacherDevelopmentId,
    pub held_on: NaiveDate,
    pub kind: DevelopmentKind,
    pub person_times: i32,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl From<DevelopmentRow> for DevelopmentResponse {
    fn from(d: DevelopmentRow) -> Self {
        Self {
            id: d.id,
            held_on: d.held_on,
            kind: d.kind,
            person_times: d.person_times,
            description: d.description,
            created_at: d.created_at.and_utc(),
        }
    }
}

/// Record teacher training or teachers' enterprise practice.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/teacher-development", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = DevelopmentRequest, security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = DevelopmentResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_development(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<DevelopmentRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let kind = checks.parse::<DevelopmentKind>("kind", &body.kind);
    let description = checks.text("description", &body.description, 500);
    let form = checks.done(|| {
        Some(DevelopmentForm {
            held_on: body.held_on,
            kind: kind?,
            person_times: body.person_times,
            description: description?,
        })
    })?;
    let today = today_in_shanghai();
    let row = state
        .db
        .write(move |conn| targets::record_development(conn, &caller, id, &form, today))
        .await?;
    Ok(HttpResponse::Created().json(DevelopmentResponse::from(row)))
}

/// The teacher development recorded for a year.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/teacher-development", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "Activities, in date order", body = [DevelopmentResponse]),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year", body = Problem, content_type = "application/problem+json")))]
pub async fn list_development(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    query: web::Query<YearQuery>,
) -> Result<web::Json<Vec<DevelopmentResponse>>, AppError> {
    let id = id.into_inner();
    let year = query.year(today_in_shanghai())?;
    let rows = state
        .db
        .read(move |conn| targets::development(conn, &caller, id, year))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// The city-wide table: every institution designated in the year, with its targets
/// (administrators).
#[utoipa::path(get, path = "/api/v1/kpis", tag = "designations",
    params(YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "One entry per designated institution", body = [KpisResponse]),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A year not begun or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn city_kpis(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<YearQuery>,
) -> Result<web::Json<Vec<KpisResponse>>, AppError> {
    let (_, table) = city_table(&state, caller, &query).await?;
    Ok(web::Json(table.into_iter().map(Into::into).collect()))
}

/// The year asked for and the city-wide table of it.
async fn city_table(
    state: &AppState,
    caller: AuthUser,
    query: &YearQuery,
) -> Result<(i32, Vec<Targets>), AppError> {
    let today = today_in_shanghai();
    let year = query.year(today)?;
    let table = state
        .db
        .read(move |conn| targets::city(conn, &caller, year, today))
        .await?;
    Ok((year, table))
}

/// The city-wide table as CSV (UTF-8 with a byte-order mark, as spreadsheets expect): one row
/// per institution and target.
#[utoipa::path(get, path = "/api/v1/kpis/export", tag = "designations",
    params(YearQuery), security(("bearer" = [])),
    responses((status = 200, description = "institution_id, institution, year, as_of, target, clause, value, threshold, met, projection",
            body = String, content_type = "text/csv"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A year not begun or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn city_kpis_csv(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let (year, table) = city_table(&state, caller, &query).await?;
    let csv = targets_csv(&table).map_err(|e| AppError::internal("kpi export", e))?;
    Ok(crate::downloads::attachment(
        "text/csv; charset=utf-8",
        &format!("kpis-{year}.csv"),
        csv,
    ))
}

fn targets_csv(table: &[Targets]) -> Result<Vec<u8>, String> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record([
        "institution_id",
        "institution",
        "year",
        "as_of",
        "target",
        "clause",
        "value",
        "threshold",
        "met",
        "projection",
    ])
    .map_err(|e| e.to_string())?;
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for t in table {
        for f in &t.figures {
            out.write_record([
                t.institution.id.to_string(),
                t.institution.name.clone(),
                t.year.to_string(),
                t.as_of.to_string(),
                f.target.to_string(),
                f.clause.to_owned(),
                number(f.value),
                number(f.threshold),
                f.met.map(|m| m.to_string()).unwrap_or_default(),
                number(f.projection),
            ])
            .map_err(|e| e.to_string())?;
        }
    }
    out.into_inner().map_err(|e| e.to_string())
}

/// Reads an upload of `file`'s records into the institution, after the caller's scope is known
/// (no upload is read for a caller who may not import).
async fn import_file(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: InstitutionId,
    params: &ImportParams,
    payload: web::Payload,
    file: RecordFile,
) -> Result<web::Json<ImportReport>, AppError> {
    scope::require_acting_for(&caller, id)?;
    let partial = params.partial.unwrap_or(false);
    let upload = upload::open(&req, payload).await?;
    let today = today_in_shanghai();
    let report = state
        .db
        .write(move |conn| import_records(conn, &caller, id, file, upload, partial, today))
        .await?;
    Ok(web::Json(report))
}

/// Import training and assessment deliveries from CSV.
///
/// Columns (English or Chinese headers): `delivered_on` 日期, `kind` 类型 (`training` 培训 or
/// `assessment` 评价), `occupation_code` 职业编码, `level` 等级 (e.g. `senior_worker` or 高级工),
/// `person_times` 人次, optionally `note` 备注. UTF-8 (with or without BOM) or GBK.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/training-deliveries/import", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ImportParams),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, description = "Imported", body = ImportReport),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once, or the database is out of reach; try again", body = Problem, content_type = "application/problem+json")))]
pub async fn import_deliveries(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: web::Path<InstitutionId>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    let file = RecordFile::TrainingDeliveries;
    import_file(state, caller, req, id.into_inner(), &params, payload, file).await
}

/// Import each year's teachers from CSV.
///
/// Columns: `year` 年度, `staff_number` 工号, `name` 姓名, `dual_qualified` 双师型 and
/// `integrated` 一体化 (yes/no, 是/否, 1/0). A staff number is recorded once a year.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/teachers/import", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ImportParams),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, description = "Imported", body = ImportReport),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once, or the database is out of reach; try again", body = Problem, content_type = "application/problem+json")))]
pub async fn import_teachers(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: web::Path<InstitutionId>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    let file = RecordFile::Teachers;
    import_file(state, caller, req, id.into_inner(), &params, payload, file).await
}

/// Import teacher training and enterprise practice from CSV.
///
/// Columns: `held_on` 日期, `kind` 类型 (`teacher_training` 师资培训 or `enterprise_practice`
/// 企业实践), `person_times` 人次, `description` 内容.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/teacher-development/import", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ImportParams),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, description = "Imported", body = ImportReport),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once, or the database is out of reach; try again", body = Problem, content_type = "application/problem+json")))]
pub async fn import_development(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: web::Path<InstitutionId>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    let file = RecordFile::TeacherDevelopment;
    import_file(state, caller, req, id.into_inner(), &params, payload, file).await
}

/// Import partnerships from CSV.
///
/// Columns: `partner_name` 合作单位, `partner_kind` 类型 (`enterprise` 企业 or `college` 院校),
/// `started_on` 开始日期, optionally `ended_on` 结束日期 and `agreement_ref` 协议编号.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/partnerships/import", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ImportParams),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, description = "Imported", body = ImportReport),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows rejected (all-or-nothing mode: nothing stored)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once, or the database is out of reach; try again", body = Problem, content_type = "application/problem+json")))]
pub async fn import_partnerships(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    id: web::Path<InstitutionId>,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, AppError> {
    let file = RecordFile::Partnerships;
    import_file(state, caller, req, id.into_inner(), &params, payload, file).await
}
