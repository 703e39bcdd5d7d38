//! `/api/v1/learners`: the learner record and the facts the rules read.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, require_learner, RefusedMatches};
use crate::auth::AuthUser;
use crate::crypto::IdentityVault;
use crate::db::learners::{self, KindChangeRow, LearnerChanges, LearnerFilter, LearnerRow};
use crate::db::DbConnection;
use crate::domain::{
    checks::Checks, decode_code_list, encode_code_list, today_in_shanghai, CohortId,
    EducationLevel, EmailAddress, Hukou, IdentityNumber, InstitutionId, Language, LearnerId,
    LearnerKind, OccupationCode, Role,
};
use crate::error::AppError;
use crate::services::learners::{self as learners_service, CheckedLearner};
use crate::state::AppState;

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn explicit_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

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

/// The facts of a learner as a request carries them (create: `name` and `kind` required).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "王芳", "kind": "student", "email": "wang.fang@example.cn", "preferred_language": "zh-CN",
    "hukou": "other", "id_number": "11010519491231002X"
}))]
pub struct LearnerInput {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = Option<LearnerKind>)]
    pub kind: Option<String>,
    /// Since when the learner is of this kind (default: today).
    pub kind_effective_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[schema(value_type = Option<Language>)]
    pub preferred_language: Option<String>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<Hukou>)]
    pub hukou: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub residence_permit_since: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub social_insurance_since: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<bool>)]
    pub income_tax_in_shanghai: Option<Option<bool>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<bool>)]
    pub insurance_base_at_least_average_6_of_12: Option<Option<bool>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<EducationLevel>)]
    pub education_level: Option<Option<String>>,
    pub education_occupation_codes: Option<Vec<String>>,
    /// Taken from the identity number when one is given.
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    /// 身份证号 (GB 11643, check digit verified). Stored encrypted; answered masked.
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
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

/// What a learner may change in their own record.
const SELF_EDITABLE: &[&str] = &[
    "email",
    "preferred_language",
    "hukou",
    "residence_permit_since",
    "social_insurance_since",
    "income_tax_in_shanghai",
    "insurance_base_at_least_average_6_of_12",
    "education_level",
    "education_occupation_codes",
];

impl LearnerInput {
    fn present_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut mark = |present: bool, name: &'static str| {
            if present {
                fields.push(name);
            }
        };
        mark(self.name.is_some(), "name");
        mark(self.kind.is_some(), "kind");
        mark(self.kind_effective_from.is_some(), "kind_effective_from");
        mark(self.email.is_some(), "email");
        mark(self.preferred_language.is_some(), "preferred_language");
        mark(self.hukou.is_some(), "hukou");
        mark(
            self.residence_permit_since.is_some(),
            "residence_permit_since",
        );
        mark(
            self.social_insurance_since.is_some(),
            "social_insurance_since",
        );
        mark(
            self.income_tax_in_shanghai.is_some(),
            "income_tax_in_shanghai",
        );
        mark(
            self.insurance_base_at_least_average_6_of_12.is_some(),
            "insurance_base_at_least_average_6_of_12",
        );
        mark(self.education_level.is_some(), "education_level");
        mark(
            self.education_occupation_codes.is_some(),
            "education_occupation_codes",
        );
        mark(self.birth_date.is_some(), "birth_date");
        mark(self.id_number.is_some(), "id_number");
        fields
    }

    /// Checks every field present and turns the request into column changes.
    fn check(self, vault: &IdentityVault, creating: bool) -> Result<CheckedLearner, AppError> {
        let mut checks = Checks::new();
        let today = today_in_shanghai();
        if creating {
            checks.ensure(self.name.is_some(), "name", "is required");
            checks.ensure(self.kind.is_some(), "kind", "is required");
        }
        let mut changes = LearnerChanges::default();
        if let Some(name) = &self.name {
            changes.name = checks.text("name", name, 100);
        }
        let kind = self
            .kind
            .as_deref()
            .and_then(|k| checks.parse::<LearnerKind>("kind", k));
        changes.kind = kind;
        if let Some(from) = self.kind_effective_from {
            checks.ensure(self.kind.is_some(), "kind_effective_from", "needs a kind");
            checks.ensure(
                from <= today,
                "kind_effective_from",
                "must not be in the future",
            );
        }
        if let Some(email) = self.email {
            changes.email = Some(
                match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                    None => None,
                    Some(e) => checks
                        .with("email", EmailAddress::parse(e))
                        .map(EmailAddress::into_inner),
                },
            );
        }
        if let Some(lang) = &self.preferred_language {
            changes.preferred_language = checks.parse::<Language>("preferred_language", lang);
        }
        if let Some(hukou) = self.hukou {
            changes.hukou = Some(hukou.and_then(|h| checks.parse::<Hukou>("hukou", &h)));
        }
        for (field, value, slot) in [
            (
                "residence_permit_since",
                self.residence_permit_since,
                &mut changes.residence_permit_since,
            ),
            (
                "social_insurance_since",
                self.social_insurance_since,
                &mut changes.social_insurance_since,
            ),
        ] {
            if let Some(value) = value {
                if let Some(date) = value {
                    checks.ensure(date <= today, field, "must not be in the future");
                }
                *slot = Some(value);
            }
        }
        changes.income_tax_in_shanghai = self.income_tax_in_shanghai;
        changes.insurance_base_at_least_average_6_of_12 =
            self.insurance_base_at_least_average_6_of_12;
        if let Some(level) = self.education_level {
            changes.education_level =
                Some(level.and_then(|l| checks.parse::<EducationLevel>("education_level", &l)));
        }
        let mut education_codes = Vec::new();
        if let Some(codes) = &self.education_occupation_codes {
            for (i, code) in codes.iter().enumerate() {
                if let Some(code) = checks.with(
                    &format!("education_occupation_codes[{i}]"),
                    OccupationCode::parse(code),
                ) {
                    education_codes.push(code.into_inner());
                }
            }
            changes.education_occupation_codes = Some(encode_code_list(&education_codes));
        }
        if let Some(birth) = self.birth_date {
            if let Some(date) = birth {
                checks.ensure(date <= today, "birth_date", "must not be in the future");
            }
            changes.birth_date = Some(birth);
        }
        let mut id_hash = None;
        if let Some(number) = self.id_number {
            match number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                None => {
                    changes.id_number_ciphertext = Some(None);
                    changes.id_number_hash = Some(None);
                    changes.id_number_masked = Some(None);
                }
                Some(raw) => {
                    if let Some(number) = checks.with("id_number", IdentityNumber::parse(raw)) {
                        let sealed = vault.seal(&number).map_err(AppError::Internal)?;
                        if changes.birth_date.is_none() {
                            changes.birth_date = Some(number.birth_date());
                        }
                        id_hash = Some(sealed.hash.clone());
                        changes.id_number_ciphertext = Some(Some(sealed.ciphertext));
                        changes.id_number_hash = Some(Some(sealed.hash));
                        changes.id_number_masked = Some(Some(sealed.masked));
                    }
                }
            }
        }
        let effective_from = self.kind_effective_from.unwrap_or(today);
        checks.done(|| {
            Some(CheckedLearner {
                changes,
                kind,
                effective_from,
                education_codes,
                id_hash,
            })
        })
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
