//! A learner's enrollments, employment spells and awards, under `/api/v1/learners/{id}/…`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::problem::Problem;
use crate::auth::scope::{self, require_learner};
use crate::auth::AuthUser;
use crate::db::records::{self, EmploymentRow, EnrollmentRow, NewEmployment, NewEnrollment};
use crate::db::{self, DbConnection};
use crate::domain::{
    checks::Checks, today_in_shanghai, ClassType, CohortId, EmploymentId, EnrollmentId,
    EnrollmentStatus, InstitutionId, LearnerId, OccupationCode, ProgramId, Role,
};
use crate::error::AppError;
use crate::services::records as records_service;
use crate::state::AppState;

// ---------------------------------------------------------------- enrollments

/// One kind of a learner's records, for a caller who may see the learner (404 otherwise).
pub async fn learner_records<R, T>(
    state: &AppState,
    caller: AuthUser,
    learner_id: LearnerId,
    load: fn(&mut DbConnection, LearnerId) -> diesel::QueryResult<Vec<R>>,
    show: fn(R) -> Result<T, AppError>,
) -> Result<web::Json<Vec<T>>, AppError>
where
    R: Send + 'static,
    T: Send + 'static,
{
    let rows = state
        .db
        .read(move |conn| {
            require_learner(conn, &caller, learner_id)?;
            load(conn, learner_id)?.into_iter().map(show).collect()
        })
        .await?;
    Ok(web::Json(rows))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentResponse {
    #[schema(value_type = i64)]
    pub id: EnrollmentId,
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    #[schema(value_type = i64)]
    pub program_id: ProgramId,
    #[schema(value_type = Option<i64>)]
    pub cohort_id: Option<CohortId>,
    pub start_date: NaiveDate,
    /// Expected or actual graduation.
    pub end_date: NaiveDate,
    pub full_time: bool,
    pub status: EnrollmentStatus,
    pub class_type: ClassType,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn enrollment_response(r: EnrollmentRow) -> Result<EnrollmentResponse, AppError> {
    Ok(EnrollmentResponse {
        status: r.status,
        class_type: r.class_type,
        id: r.id,
        learner_id: r.learner_id,
        program_id: r.program_id,
        cohort_id: r.cohort_id,
        start_date: r.start_date,
        end_date: r.end_date,
        full_time: r.full_time,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"program_id": 3, "start_date": "2023-09-01", "end_date": "2026-06-30",
    "full_time": true, "status": "enrolled", "class_type": "technician_class"}))]
pub struct CreateEnrollmentRequest {
    #[schema(value_type = i64)]
    pub program_id: ProgramId,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[serde(default = "yes")]
    pub full_time: bool,
    /// Default `enrolled`.
    #[schema(value_type = Option<EnrollmentStatus>)]
    pub status: Option<String>,
    /// Default `regular`.
    #[schema(value_type = Option<ClassType>)]
    pub class_type: Option<String>,
}

fn yes() -> bool {
    true
}

/// Enroll a learner in a program (administrators, staff of the program's institution).
#[utoipa::path(post, path = "/api/v1/learners/{id}/enrollments", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = CreateEnrollmentRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = EnrollmentResponse),
        (status = 404, description = "No such learner or program (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same enrollment exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_enrollment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<CreateEnrollmentRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff])?;
    let learner_id = id.into_inner();
    let b = body.into_inner();
    let mut checks = Checks::new();
    checks.ordered(
        "end_date",
        Some(b.start_date),
        Some(b.end_date),
        "start_date",
    );
    let status =
        checks.parse::<EnrollmentStatus>("status", b.status.as_deref().unwrap_or("enrolled"));
    let class_type =
        checks.parse::<ClassType>("class_type", b.class_type.as_deref().unwrap_or("regular"));
    checks.ensure(
        b.start_date <= today_in_shanghai() + chrono::Days::new(366),
        "start_date",
        "must be within a year from today",
    );
    let (status, class_type) = checks.done(|| Some((status?, class_type?)))?;
    let now = db::now();
    let st = state.clone();
    let row = state
        .db
        .write(move |conn| {
            let row = records_service::enroll(
                conn,
                &caller,
                st.link_context(),
                NewEnrollment {
                    learner_id,
                    program_id: b.program_id,
                    cohort_id: None,
                    start_date: b.start_date,
                    end_date: b.end_date,
                    full_time: b.full_time,
                    status,
                    class_type,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            enrollment_response(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// The learner's enrollments.
#[utoipa::path(get, path = "/api/v1/learners/{id}/enrollments", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Enrollments", body = Vec<EnrollmentResponse>),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_enrollments(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<Vec<EnrollmentResponse>>, AppError> {
    learner_records(
        &state,
        caller,
        id.into_inner(),
        records::enrollments_of,
        enrollment_response,
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "graduated", "end_date": "2026-06-30"}))]
pub struct UpdateEnrollmentRequest {
    /// `graduated` or `withdrawn` (from `enrolled`).
    #[schema(value_type = EnrollmentStatus)]
    pub status: String,
    /// The actual end; default: the recorded end date.
    pub end_date: Option<NaiveDate>,
}

/// Close an enrollment: `enrolled` → `graduated` or `withdrawn`.
#[utoipa::path(patch, path = "/api/v1/learners/{id}/enrollments/{enrollment_id}", tag = "learners",
    params(("id" = i64, Path, description = "Learner id"), ("enrollment_id" = i64, Path, description = "Enrollment id")),
    request_body = UpdateEnrollmentRequest, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = EnrollmentResponse),
        (status = 404, description = "No such enrollment (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Transition not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn update_enrollment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(LearnerId, EnrollmentId)>,
    body: JsonBody<UpdateEnrollmentRequest>,
) -> Result<web::Json<EnrollmentResponse>, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff])?;
    let (learner_id, enrollment_id) = path.into_inner();
    let b = body.into_inner();
    let status = b
        .status
        .parse::<EnrollmentStatus>()
        .map_err(|m| AppError::invalid("status", m))?;
    let row = state
        .db
        .write(move |conn| {
            let row = records_service::close_enrollment(
                conn,
                &caller,
                learner_id,
                enrollment_id,
                status,
                b.end_date,
            )?;
            enrollment_response(row)
        })
        .await?;
    Ok(web::Json(row))
}

// ---------------------------------------------------------------- employments

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmploymentResponse {
    #[schema(value_type = i64)]
    pub id: EmploymentId,
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    pub employer_name: String,
    /// The employer when it is a registered institution.
    #[schema(value_type = Option<i64>)]
    pub employer_institution_id: Option<InstitutionId>,
    pub occupation_code: String,
    pub post_title: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub in_shanghai: bool,
    /// 生产工作一线.
    pub frontline: bool,
    /// 专职从事高技能人才培养 (policy 五(四)).
    pub dedicated_trainer: bool,
    pub created_at: DateTime<Utc>,
}

pub fn employment_response(r: EmploymentRow) -> EmploymentResponse {
    EmploymentResponse {
        id: r.id,
        learner_id: r.learner_id,
        employer_name: r.employer_name,
        employer_institution_id: r.employer_institution_id,
        occupation_code: r.occupation_code,
        post_title: r.post_title,
        start_date: r.start_date,
        end_date: r.end_date,
        in_shanghai: r.in_shanghai,
        frontline: r.frontline,
        dedicated_trainer: r.dedicated_trainer,
        created_at: r.created_at.and_utc(),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"employer_name": "上海某电气有限公司", "occupation_code": "6-18-02-04", "post_title": "维修电工",
    "start_date": "2026-07-01", "in_shanghai": true, "frontline": true, "dedicated_trainer": false}))]
pub struct CreateEmploymentRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub employer_name: String,
    /// The employer as a registered institution; HR staff may omit it (their enterprise is used).
    #[schema(value_type = Option<i64>)]
    pub employer_institution_id: Option<InstitutionId>,
    pub occupation_code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub post_title: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    #[serde(default = "yes")]
    pub in_shanghai: bool,
    #[serde(default)]
    pub frontline: bool,
    #[serde(default)]
    pub dedicated_trainer: bool,
}

/// Record an employment spell. Spells may overlap (two jobs at once).
#[utoipa::path(post, path = "/api/v1/learners/{id}/employments", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = CreateEmploymentRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = EmploymentResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_employment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<CreateEmploymentRequest>,
) -> Result<HttpResponse, AppError> {
    let learner_id = id.into_inner();
    scope::may_add_facts(&caller, learner_id)?;
    let b = body.into_inner();
    let mut checks = Checks::new();
    let employer_name = checks.text("employer_name", &b.employer_name, 200);
    let post_title = checks.text("post_title", &b.post_title, 100);
    let code = checks.with("occupation_code", OccupationCode::parse(&b.occupation_code));
    checks.ordered("end_date", Some(b.start_date), b.end_date, "start_date");
    checks.ensure(
        b.start_date <= today_in_shanghai(),
        "start_date",
        "must not be in the future",
    );
    // Tying the spell to an institution opens the learner's record to its staff: the scope
    // module decides who may (HR their own enterprise, which is also their default).
    let employer_institution_id = match (caller.role, b.employer_institution_id) {
        (Role::EmployerHr, None) => caller.institution_id,
        (_, Some(inst)) if !scope::may_bind_employer(&caller, inst) => {
            checks.add(
                "employer_institution_id",
                "you may tie employment only to your own institution; the employer's HR staff \
tie it to their enterprise",
            );
            None
        }
        (_, given) => given,
    };
    let (employer_name, post_title, code) =
        checks.done(|| Some((employer_name?, post_title?, code?.into_inner())))?;
    let now = db::now();
    let row = state
        .db
        .write(move |conn| {
            let row = records_service::record_employment(
                conn,
                &caller,
                NewEmployment {
                    learner_id,
                    employer_name,
                    employer_institution_id,
                    occupation_code: code,
                    post_title,
                    start_date: b.start_date,
                    end_date: b.end_date,
                    in_shanghai: b.in_shanghai,
                    frontline: b.frontline,
                    dedicated_trainer: b.dedicated_trainer,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            Ok(employment_response(row))
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// The learner's employment spells.
#[utoipa::path(get, path = "/api/v1/learners/{id}/employments", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Employment spells", body = Vec<EmploymentResponse>),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_employments(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<Vec<EmploymentResponse>>, AppError> {
    learner_records(
        &state,
        caller,
        id.into_inner(),
        records::employments_of,
        |r| Ok(employment_response(r)),
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndEmploymentRequest {
    pub end_date: NaiveDate,
}

/// End an employment spell.
#[utoipa::path(patch, path = "/api/v1/learners/{id}/employments/{employment_id}", tag = "learners",
    params(("id" = i64, Path, description = "Learner id"), ("employment_id" = i64, Path, description = "Employment id")),
    request_body = EndEmploymentRequest, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = EmploymentResponse),
        (status = 404, description = "No such spell (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "End before start", body = Problem, content_type = "application/problem+json")))]
pub async fn end_employment(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(LearnerId, EmploymentId)>,
    body: JsonBody<EndEmploymentRequest>,
) -> Result<web::Json<EmploymentResponse>, AppError> {
    let (learner_id, employment_id) = path.into_inner();
    scope::may_add_facts(&caller, learner_id)?;
    let end = body.into_inner().end_date;
    let row = state
        .db
        .write(move |conn| {
            records_service::end_employment(conn, &caller, learner_id, employment_id, end)
                .map(employment_response)
        })
        .await?;
    Ok(web::Json(row))
}
