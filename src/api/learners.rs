//! `/api/v1/learners`: the learner record and the facts the rules read.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, require_learner, RefusedMatches};
use crate::auth::AuthUser;
use crate::db::learners::{self, KindChangeRow, LearnerFilter, LearnerRow};
use crate::db::DbConnection;
use crate::domain::{
    checks::Checks, decode_code_list, CohortId, EducationLevel, Hukou, InstitutionId, Language,
    LearnerId, LearnerKind, Role,
};
use crate::error::AppError;
use crate::services::learner_input::{LearnerInput, SELF_EDITABLE};
use crate::services::learners::{self as learners_service};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KindChange {
    pub kind: LearnerKind,
    pub effective_from: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LearnerResponse {
    #[schema(value_type = i64)]
    pub id: LearnerId,
    pub name: String,
    /// The current kind; `kind_history` has every change.
    pub kind: LearnerKind,
    pub kind_history: Vec<KindChange>,
    pub email: Option<String>,
    pub preferred_language: Language,
    pub hukou: Option<Hukou>,
    pub residence_permit_since: Option<NaiveDate>,
    /// Continuous Shanghai social insurance since (no back payment).
    pub social_insurance_since: Option<NaiveDate>,
    pub income_tax_in_shanghai: Option<bool>,
    pub insurance_base_at_least_average_6_of_12: Option<bool>,
    pub education_level: Option<EducationLevel>,
    /// Occupation codes the highest education's major relates to.
    pub education_occupation_codes: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    /// The identity number, masked (`**************1234`: the last four characters); the full number is never returned.
    pub id_number_masked: Option<String>,
    /// The institution that registered the learner, if any.
    #[schema(value_type = Option<i64>)]
    pub registered_by_institution_id: Option<InstitutionId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn learner_response(
    row: LearnerRow,
    history: Vec<KindChangeRow>,
) -> Result<LearnerResponse, AppError> {
    Ok(LearnerResponse {
        kind: row.kind,
        kind_history: history
            .into_iter()
            .map(|h| {
                Ok(KindChange {
                    kind: h.kind,
                    effective_from: h.effective_from,
                })
            })
            .collect::<Result<_, AppError>>()?,
        preferred_language: row.preferred_language,
        hukou: row.hukou,
        education_level: row.education_level,
        education_occupation_codes: decode_code_list(&row.education_occupation_codes),
        id: row.id,
        name: row.name,
        email: row.email,
        residence_permit_since: row.residence_permit_since,
        social_insurance_since: row.social_insurance_since,
        income_tax_in_shanghai: row.income_tax_in_shanghai,
        insurance_base_at_least_average_6_of_12: row.insurance_base_at_least_average_6_of_12,
        birth_date: row.birth_date,
        id_number_masked: row.id_number_masked,
        registered_by_institution_id: row.registered_by_institution_id,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub fn load_learner(conn: &mut DbConnection, id: LearnerId) -> Result<LearnerResponse, AppError> {
    let row = learners::find(conn, id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let history = learners::kind_history(conn, id)?;
    learner_response(row, history)
}

/// The body of a registration: the fields of [`LearnerInput`], of which `name` and `kind` are
/// required here (a change of a learner sends only what changes). The same parser serves both;
/// this type gives the registration its own schema in the OpenAPI document.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct CreateLearnerRequest(pub LearnerInput);

impl utoipa::PartialSchema for CreateLearnerRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::RefOr;
        let mut schema = <LearnerInput as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required = vec!["name".into(), "kind".into()];
            object.description =
                Some("A learner to register: `name` and `kind` are required.".into());
        }
        schema
    }
}

impl ToSchema for CreateLearnerRequest {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <LearnerInput as ToSchema>::schemas(schemas);
    }
}

/// Register a learner (administrators, college staff, HR staff). Staff registrations are tied
/// to their institution, which then sees the learner.
#[utoipa::path(post, path = "/api/v1/learners", tag = "learners",
    request_body = CreateLearnerRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = LearnerResponse),
        (status = 403, description = "Role may not register learners", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Identity number or email already registered, or the person cannot be registered by your institution", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations refused as out of scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_learner(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateLearnerRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Admin, Role::CollegeStaff, Role::EmployerHr])?;
    let checked = body.into_inner().0.check(&state.identity_vault, true)?;
    let registered_by = caller.staff_institution();
    let actor = caller.id;
    let refused = RefusedMatches::new(state.scope_refusals.clone());
    let (who, sink) = (caller.clone(), refused.clone());
    let created = state
        .db
        .write(move |conn| {
            let id = learners_service::register(conn, &who, checked, registered_by, actor, &sink)?;
            load_learner(conn, id)
        })
        .await;
    scope::record_refusals(&state.db, &caller, &refused).await;
    let created = created?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/learners/{}", created.id)))
        .json(created))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLearnersQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Learners tied to this institution (enrolled, employed or registered there).
    #[param(value_type = Option<i64>)]
    pub institution_id: Option<InstitutionId>,
    #[param(value_type = Option<i64>)]
    pub cohort_id: Option<CohortId>,
    #[param(value_type = Option<LearnerKind>)]
    pub kind: Option<String>,
    pub name_prefix: Option<String>,
}

/// Learners the caller may see, in id order.
#[utoipa::path(get, path = "/api/v1/learners", tag = "learners",
    params(ListLearnersQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<LearnerResponse>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn list_learners(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListLearnersQuery>,
) -> Result<web::Json<Page<LearnerResponse>>, AppError> {
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let kind = match &q.kind {
        Some(kind) => Some(
            kind.parse::<LearnerKind>()
                .map_err(|m| AppError::invalid("kind", m))?,
        ),
        None => None,
    };
    let filter = LearnerFilter {
        institution_id: q.institution_id,
        cohort_id: q.cohort_id,
        kind,
        name_prefix: q.name_prefix,
    };
    let page = state
        .db
        .read(move |conn| {
            let rows = learners_service::list(conn, &caller, &filter, after, limit + 1)?;
            Page::from_rows(
                rows,
                limit,
                |(r, _)| r.id,
                |(r, history)| learner_response(r, history),
            )
            .transpose()
        })
        .await?;
    Ok(web::Json(page))
}

/// One learner (within the caller's scope; 404 otherwise).
#[utoipa::path(get, path = "/api/v1/learners/{id}", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "The learner", body = LearnerResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_learner(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<LearnerResponse>, AppError> {
    let id = id.into_inner();
    let learner = state
        .db
        .read(move |conn| {
            require_learner(conn, &caller, id)?;
            load_learner(conn, id)
        })
        .await?;
    Ok(web::Json(learner))
}

/// Change a learner's facts. Staff in scope and administrators change any field; a learner
/// changes their own contact, residence and education facts. A kind change is kept in history.
#[utoipa::path(patch, path = "/api/v1/learners/{id}", tag = "learners",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = LearnerInput, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = LearnerResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Identity number or email belongs to another learner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or fields a learner may not change", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes refused as out of scope", body = Problem, content_type = "application/problem+json")))]
pub async fn update_learner(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<LearnerInput>,
) -> Result<web::Json<LearnerResponse>, AppError> {
    let id = id.into_inner();
    let input = body.into_inner();
    if caller.role == Role::Learner {
        let mut checks = Checks::new();
        for field in input.present_fields() {
            checks.ensure(
                SELF_EDITABLE.contains(&field),
                field,
                "can be changed only by your college or an administrator",
            );
        }
        checks.done(|| Some(()))?;
    }
    let checked = input.check(&state.identity_vault, false)?;
    let actor = caller.id;
    let refused = RefusedMatches::new(state.scope_refusals.clone());
    let (who, sink) = (caller.clone(), refused.clone());
    let updated = state
        .db
        .write(move |conn| {
            learners_service::update(conn, &who, id, checked, actor, &sink)?;
            load_learner(conn, id)
        })
        .await;
    scope::record_refusals(&state.db, &caller, &refused).await;
    Ok(web::Json(updated?))
}
