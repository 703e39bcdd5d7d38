//! `/api/v1/institutions/{id}/designation-applications`: an institution's application to become
//! a 新型技师学院 and the steps taken on it (policy 六); `/partnerships`: the partnerships its
//! conditions count (annex 一.2 / 二.2). Staff act for their own institution (draft, submit,
//! withdraw, partnerships); administrators record the reviewing bodies' decisions.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::institutions::DesignationResponse;
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db::designation_applications::{ApplicationContents, ApplicationRow, StepRow};
use crate::db::partnerships::PartnershipRow;
use crate::domain::checks::Checks;
use crate::domain::{
    today_in_shanghai, ApplicationState, ApplicationStep, DesignationApplicationId,
    DesignationStepId, InstitutionId, PartnerKind, PartnershipId, ReviewBody, StepDecision, UserId,
};
use crate::error::AppError;
use crate::services::designations::{
    self, workflow, ApplicationForm, ApplicationView, Project, StepAction, StepForm,
};
use crate::services::partnerships::{self, PartnershipForm};
use crate::state::AppState;

const LONG_TEXT: usize = 4000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRequest {
    /// The occupation (职业分类大典 code) the project trains for; in the catalog.
    #[schema(max_length = 20)]
    pub occupation_code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// An application as the institution states it (annex: the conditions with their evidence).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "run_by_industry": false, "goals": "在校生高级工、职工技师",
    "industry_need": "服务集成电路产业", "partnership_evidence": "与3家企业签订合作协议",
    "separate_departments": true, "organisation_evidence": "培训部与评价部分设",
    "facilities_evidence": "实训中心 5000㎡", "yearly_training_volume": 260,
    "volume_evidence": "2025年高级工以上培训 260 人次",
    "projects": [{"occupation_code": "6-18-02-04", "name": "电工"}]}))]
pub struct ApplicationRequest {
    /// 行业企业举办: a school run by an industry or enterprise (its industry department reviews too).
    #[serde(default)]
    pub run_by_industry: bool,
    /// 培养目标 (三(三)).
    #[schema(max_length = 4000)]
    pub goals: String,
    /// Annex 一.1 / 二.1: the projects serve the city's industries.
    #[schema(max_length = 4000)]
    pub industry_need: String,
    /// Annex 一.2 / 二.2: the stable partnerships (recorded under /partnerships as well).
    #[schema(max_length = 4000)]
    pub partnership_evidence: String,
    /// Annex 一.3 / 二.3: training and assessment in separate departments (考培分离).
    pub separate_departments: bool,
    #[schema(max_length = 4000)]
    pub organisation_evidence: String,
    /// Annex 一.3 / 二.3: sites, equipment, courses.
    #[schema(max_length = 4000)]
    pub facilities_evidence: String,
    /// Annex 一.4 / 二.4: the yearly training (assessment) volume, person-times.
    #[schema(minimum = 0, maximum = 1000000)]
    pub yearly_training_volume: i32,
    #[schema(max_length = 4000)]
    pub volume_evidence: String,
    /// 培养项目: the occupations applied for.
    #[schema(min_items = 1, max_items = 50)]
    pub projects: Vec<ProjectRequest>,
}

impl ApplicationRequest {
    fn parse(self) -> Result<ApplicationForm, AppError> {
        let mut checks = Checks::new();
        let mut text = |field: &str, value: &str| checks.text(field, value, LONG_TEXT);
        let goals = text("goals", &self.goals);
        let industry_need = text("industry_need", &self.industry_need);
        let partnership_evidence = text("partnership_evidence", &self.partnership_evidence);
        let organisation_evidence = text("organisation_evidence", &self.organisation_evidence);
        let facilities_evidence = text("facilities_evidence", &self.facilities_evidence);
        let volume_evidence = text("volume_evidence", &self.volume_evidence);
        checks.ensure(
            (0..=1_000_000).contains(&self.yearly_training_volume),
            "yearly_training_volume",
            "must be between 0 and 1000000",
        );
        checks.ensure(
            (1..=50).contains(&self.projects.len()),
            "projects",
            "name between 1 and 50 training projects",
        );
        let mut projects = Vec::new();
        for (i, p) in self.projects.iter().enumerate() {
            let code = checks.with(
                &format!("projects[{i}].occupation_code"),
                crate::domain::OccupationCode::parse(&p.occupation_code),
            );
            let name = checks.text(&format!("projects[{i}].name"), &p.name, 200);
            if let (Some(code), Some(name)) = (code, name) {
                projects.push(Project {
                    occupation_code: code.into_inner(),
                    name,
                });
            }
        }
        checks.done(|| {
            Some(ApplicationForm {
                contents: ApplicationContents {
                    run_by_industry: self.run_by_industry,
                    goals: goals?,
                    industry_need: industry_need?,
                    partnership_evidence: partnership_evidence?,
                    separate_departments: self.separate_departments,
                    organisation_evidence: organisation_evidence?,
                    facilities_evidence: facilities_evidence?,
                    yearly_training_volume: self.yearly_training_volume,
                    volume_evidence: volume_evidence?,
                },
                projects,
            })
        })
    }
}

/// A step on the application. `step` says which; each takes its own fields besides the common
/// `decided_on` (default today), `reason`, `document_ref` and `body_name`:
/// `submit`, `withdraw` (the institution's staff); `preliminary_review` (`body`, `body_name`,
/// `approved`); `city_education_consent` (`body_name`, `approved`); `expert_review` (`approved`,
/// and when approved `notice_from`, `notice_until`); `objection` (`received_on`, `upheld`);
/// `designate` (`batch`); `evaluate` (`year`, `meets`, and when short `rectification_due`);
/// `re_evaluate` (`meets`; short ends the designation). A refusal or shortfall needs a `reason`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"step": "preliminary_review", "body": "district_education",
    "body_name": "浦东新区教育局", "approved": true, "decided_on": "2026-03-02",
    "document_ref": "浦教〔2026〕12号"}))]
pub struct StepRequest {
    #[schema(value_type = ApplicationStep)]
    pub step: String,
    pub decided_on: Option<NaiveDate>,
    #[schema(value_type = Option<ReviewBody>)]
    pub body: Option<String>,
    #[schema(max_length = 200)]
    pub body_name: Option<String>,
    pub approved: Option<bool>,
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[schema(max_length = 200)]
    pub document_ref: Option<String>,
    pub notice_from: Option<NaiveDate>,
    pub notice_until: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub upheld: Option<bool>,
    #[schema(max_length = 100)]
    pub batch: Option<String>,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub meets: Option<bool>,
    pub rectification_due: Option<NaiveDate>,
}

impl StepRequest {
    fn parse(self, today: NaiveDate) -> Result<StepForm, AppError> {
        let mut checks = Checks::new();
        let kind = checks.parse::<ApplicationStep>("step", &self.step);
        let body_name = checks.optional_text("body_name", self.body_name.as_deref(), 200);
        let reason = checks.optional_text("reason", self.reason.as_deref(), 2000);
        let document_ref = checks.optional_text("document_ref", self.document_ref.as_deref(), 200);
        let batch = checks.optional_text("batch", self.batch.as_deref(), 100);
        let body = self
            .body
            .as_deref()
            .and_then(|b| checks.parse::<ReviewBody>("body", b));
        let Some(kind) = kind else {
            return checks.done(|| None);
        };
        // The fields each step takes; any other is refused, so a mistaken step is not recorded
        // with facts it ignores.
        let used: &[&str] = match kind {
            ApplicationStep::Submit | ApplicationStep::Withdraw => &[],
            ApplicationStep::PreliminaryReview => &["body", "approved"],
            ApplicationStep::CityEducationConsent => &["approved"],
            ApplicationStep::ExpertReview => &["approved", "notice_from", "notice_until"],
            ApplicationStep::Objection => &["received_on", "upheld"],
            ApplicationStep::Designate => &["batch"],
            ApplicationStep::Evaluate => &["year", "meets", "rectification_due"],
            ApplicationStep::ReEvaluate => &["meets"],
        };
        let given = [
            ("body", self.body.is_some()),
            ("approved", self.approved.is_some()),
            ("notice_from", self.notice_from.is_some()),
            ("notice_until", self.notice_until.is_some()),
            ("received_on", self.received_on.is_some()),
            ("upheld", self.upheld.is_some()),
            ("batch", self.batch.is_some()),
            ("year", self.year.is_some()),
            ("meets", self.meets.is_some()),
            ("rectification_due", self.rectification_due.is_some()),
        ];
        for (field, present) in given {
            checks.ensure(
                !present || used.contains(&field),
                field,
                format!("is not a field of the step {kind}"),
            );
        }
        let mut required = |field: &str, present: bool| {
            checks.ensure(present, field, format!("is required for the step {kind}"));
        };
        for field in used {
            let present = match *field {
                "body" => self.body.is_some(),
                "approved" => self.approved.is_some(),
                "received_on" => self.received_on.is_some(),
                "upheld" => self.upheld.is_some(),
                "batch" => self.batch.is_some(),
                "year" => self.year.is_some(),
                "meets" => self.meets.is_some(),
                // Required only in some outcomes: the service says when.
                _ => true,
            };
            required(field, present);
        }
        if let (Some(from), Some(until)) = (self.notice_from, self.notice_until) {
            checks.ensure(
                until >= from,
                "notice_until",
                "must not be before notice_from",
            );
        }
        checks.ensure(
            self.notice_from.is_some() == self.notice_until.is_some(),
            "notice_until",
            "give both notice_from and notice_until",
        );
        let action = match kind {
            ApplicationStep::Submit => Some(StepAction::Submit),
            ApplicationStep::Withdraw => Some(StepAction::Withdraw),
            ApplicationStep::PreliminaryReview => body
                .zip(self.approved)
                .map(|(body, approved)| StepAction::PreliminaryReview { body, approved }),
            ApplicationStep::CityEducationConsent => self
                .approved
                .map(|approved| StepAction::CityEducationConsent { approved }),
            ApplicationStep::ExpertReview => {
                self.approved.map(|approved| StepAction::ExpertReview {
                    approved,
                    notice: self.notice_from.zip(self.notice_until),
                })
            }
            ApplicationStep::Objection => {
                self.received_on
                    .zip(self.upheld)
                    .map(|(received_on, upheld)| StepAction::Objection {
                        received_on,
                        upheld,
                    })
            }
            ApplicationStep::Designate => batch.map(|batch| StepAction::Designate { batch }),
            ApplicationStep::Evaluate => {
                self.year
                    .zip(self.meets)
                    .map(|(year, meets)| StepAction::Evaluate {
                        year,
                        meets,
                        rectification_due: self.rectification_due,
                    })
            }
            ApplicationStep::ReEvaluate => self.meets.map(|meets| StepAction::ReEvaluate { meets }),
        };
        checks.done(|| {
            Some(StepForm {
                decided_on: self.decided_on.unwrap_or(today),
                body_name,
                reason,
                document_ref,
                action: action?,
            })
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    pub occupation_code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepResponse {
    #[schema(value_type = i64)]
    pub id: DesignationStepId,
    pub step: ApplicationStep,
    pub from_state: ApplicationState,
    pub to_state: ApplicationState,
    /// The deciding body (none for the institution's own steps).
    pub body: Option<ReviewBody>,
    pub body_name: Option<String>,
    pub decision: Option<StepDecision>,
    pub reason: Option<String>,
    pub document_ref: Option<String>,
    pub decided_on: NaiveDate,
    /// The step's own facts: a notice period, a deadline, a year, a batch.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The account that recorded it.
    #[schema(value_type = Option<i64>)]
    pub recorded_by: Option<UserId>,
    pub recorded_at: DateTime<Utc>,
}

impl From<StepRow> for StepResponse {
    fn from(s: StepRow) -> Self {
        Self {
            id: s.id,
            step: s.step,
            from_state: s.from_state,
            to_state: s.to_state,
            body: s.body,
            body_name: s.body_name,
            decision: s.decision,
            reason: s.reason,
            document_ref: s.document_ref,
            decided_on: s.decided_on,
            details: serde_json::from_str(&s.details).unwrap_or_default(),
            recorded_by: s.actor,
            recorded_at: s.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerStanding {
    /// Stable partnerships of the kind the conditions count, on `as_of`.
    pub stable: usize,
    /// How many the annex asks for.
    pub needed: u32,
    #[schema(value_type = PartnerKind)]
    pub kind: PartnerKind,
    pub as_of: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationResponse {
    #[schema(value_type = i64)]
    pub id: DesignationApplicationId,
    #[schema(value_type = i64)]
    pub institution_id: InstitutionId,
    pub institution_name: String,
    pub state: ApplicationState,
    /// The kinds of step the state allows now.
    pub open_steps: Vec<ApplicationStep>,
    /// In preliminary review: the bodies whose decision is awaited.
    pub awaiting: Vec<ReviewBody>,
    pub run_by_industry: bool,
    pub goals: String,
    pub industry_need: String,
    pub partnership_evidence: String,
    pub separate_departments: bool,
    pub organisation_evidence: String,
    pub facilities_evidence: String,
    pub yearly_training_volume: i32,
    pub volume_evidence: String,
    pub projects: Vec<ProjectResponse>,
    pub partners: PartnerStanding,
    pub submitted_on: Option<NaiveDate>,
    pub notice_from: Option<NaiveDate>,
    pub notice_until: Option<NaiveDate>,
    pub rectification_due: Option<NaiveDate>,
    /// The designation period the application opened (挂牌), ended when it was withdrawn (摘牌).
    pub designation: Option<DesignationResponse>,
    /// Every step, oldest first.
    pub steps: Vec<StepResponse>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ApplicationView> for ApplicationResponse {
    fn from(v: ApplicationView) -> Self {
        let a = v.application;
        Self {
            id: a.id,
            institution_id: a.institution_id,
            institution_name: v.institution.name.clone(),
            state: a.state,
            open_steps: workflow::open_steps(a.state).to_vec(),
            awaiting: v.awaiting,
            run_by_industry: a.contents.run_by_industry,
            goals: a.contents.goals,
            industry_need: a.contents.industry_need,
            partnership_evidence: a.contents.partnership_evidence,
            separate_departments: a.contents.separate_departments,
            organisation_evidence: a.contents.organisation_evidence,
            facilities_evidence: a.contents.facilities_evidence,
            yearly_training_volume: a.contents.yearly_training_volume,
            volume_evidence: a.contents.volume_evidence,
            projects: v
                .projects
                .into_iter()
                .map(|p| ProjectResponse {
                    occupation_code: p.occupation_code,
                    name: p.name,
                })
                .collect(),
            partners: PartnerStanding {
                stable: v.stable_partners,
                needed: v.partners_needed,
                kind: designations::partner_kind_for(&v.institution),
                as_of: v.as_of,
            },
            submitted_on: a.submitted_on,
            notice_from: a.notice_from,
            notice_until: a.notice_until,
            rectification_due: a.rectification_due,
            designation: v.designation.map(Into::into),
            steps: v.steps.into_iter().map(Into::into).collect(),
            created_at: a.created_at.and_utc(),
            updated_at: a.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    #[schema(value_type = i64)]
    pub id: DesignationApplicationId,
    pub state: ApplicationState,
    pub submitted_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

impl From<ApplicationRow> for ApplicationSummary {
    fn from(a: ApplicationRow) -> Self {
        Self {
            id: a.id,
            state: a.state,
            submitted_on: a.submitted_on,
            updated_at: a.updated_at.and_utc(),
        }
    }
}

type ApplicationPath = web::Path<(InstitutionId, DesignationApplicationId)>;

/// Start an application (a draft) to become a 新型技师学院 (the institution's staff or an administrator).
#[utoipa::path(post, path = "/api/v1/institutions/{id}/designation-applications", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = ApplicationRequest, security(("bearer" = [])),
    responses((status = 201, description = "The draft", body = ApplicationResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An application is in progress, or the institution is designated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_application(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<ApplicationRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = body.into_inner().parse()?;
    let today = today_in_shanghai();
    let view = state
        .db
        .write(move |conn| designations::create(conn, &caller, id, &form, today))
        .await?;
    Ok(HttpResponse::Created().json(ApplicationResponse::from(view)))
}

/// An institution's applications, newest first.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/designation-applications", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")), security(("bearer" = [])),
    responses((status = 200, description = "Applications", body = [ApplicationSummary]),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json")))]
pub async fn list_applications(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
) -> Result<web::Json<Vec<ApplicationSummary>>, AppError> {
    let id = id.into_inner();
    let rows = state
        .db
        .read(move |conn| designations::list(conn, &caller, id))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// An application with its history.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/designation-applications/{application_id}", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ("application_id" = i64, Path, description = "Application id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The application", body = ApplicationResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json")))]
pub async fn get_application(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: ApplicationPath,
) -> Result<web::Json<ApplicationResponse>, AppError> {
    let (id, application_id) = path.into_inner();
    let today = today_in_shanghai();
    let view = state
        .db
        .read(move |conn| designations::view(conn, &caller, id, application_id, today))
        .await?;
    Ok(web::Json(view.into()))
}

/// Replace a draft's contents and projects.
#[utoipa::path(put, path = "/api/v1/institutions/{id}/designation-applications/{application_id}", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ("application_id" = i64, Path, description = "Application id")),
    request_body = ApplicationRequest, security(("bearer" = [])),
    responses((status = 200, description = "The draft", body = ApplicationResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Submitted: no longer a draft", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn update_application(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: ApplicationPath,
    body: JsonBody<ApplicationRequest>,
) -> Result<web::Json<ApplicationResponse>, AppError> {
    let (id, application_id) = path.into_inner();
    let form = body.into_inner().parse()?;
    let today = today_in_shanghai();
    let view = state
        .db
        .write(move |conn| designations::update(conn, &caller, id, application_id, &form, today))
        .await?;
    Ok(web::Json(view.into()))
}

/// Take a step: submit or withdraw (the institution's staff), or record a body's decision
/// (administrators). Each step reaches the institution's staff in their inbox and by email.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/designation-applications/{application_id}/steps", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ("application_id" = i64, Path, description = "Application id")),
    request_body = StepRequest, security(("bearer" = [])),
    responses((status = 200, description = "The application after the step", body = ApplicationResponse),
        (status = 403, description = "The step is not the caller's to take", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The application's state does not allow the step", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or missing facts of the step", body = Problem, content_type = "application/problem+json")))]
pub async fn take_step(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: ApplicationPath,
    body: JsonBody<StepRequest>,
) -> Result<web::Json<ApplicationResponse>, AppError> {
    let (id, application_id) = path.into_inner();
    let today = today_in_shanghai();
    let form = body.into_inner().parse(today)?;
    let view = state
        .db
        .write(move |conn| designations::take_step(conn, &caller, id, application_id, &form, today))
        .await?;
    Ok(web::Json(view.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_name": "上海某集成电路有限公司", "partner_kind": "enterprise",
    "started_on": "2024-09-01", "agreement_ref": "校企合作协议 2024-07"}))]
pub struct PartnershipRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub partner_name: String,
    /// `enterprise` for a college's partners, `college` for an enterprise's.
    #[schema(value_type = PartnerKind)]
    pub partner_kind: String,
    /// The partner, when Skillpath knows it as an institution.
    #[schema(value_type = Option<i64>)]
    pub partner_institution_id: Option<InstitutionId>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    #[schema(max_length = 200)]
    pub agreement_ref: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnershipResponse {
    #[schema(value_type = i64)]
    pub id: PartnershipId,
    #[schema(value_type = i64)]
    pub institution_id: InstitutionId,
    pub partner_name: String,
    pub partner_kind: PartnerKind,
    #[schema(value_type = Option<i64>)]
    pub partner_institution_id: Option<InstitutionId>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub agreement_ref: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<PartnershipRow> for PartnershipResponse {
    fn from(p: PartnershipRow) -> Self {
        Self {
            id: p.id,
            institution_id: p.institution_id,
            partner_name: p.partner_name,
            partner_kind: p.partner_kind,
            partner_institution_id: p.partner_institution_id,
            started_on: p.started_on,
            ended_on: p.ended_on,
            agreement_ref: p.agreement_ref,
            created_at: p.created_at.and_utc(),
        }
    }
}

/// Record a partnership of the institution (its staff or an administrator).
#[utoipa::path(post, path = "/api/v1/institutions/{id}/partnerships", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")),
    request_body = PartnershipRequest, security(("bearer" = [])),
    responses((status = 201, description = "Recorded", body = PartnershipResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_partnership(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
    body: JsonBody<PartnershipRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = Checks::new();
    let partner_name = checks.text("partner_name", &body.partner_name, 200);
    let partner_kind = checks.parse::<PartnerKind>("partner_kind", &body.partner_kind);
    let agreement_ref = checks.optional_text("agreement_ref", body.agreement_ref.as_deref(), 200);
    checks.ordered(
        "ended_on",
        Some(body.started_on),
        body.ended_on,
        "started_on",
    );
    let form = checks.done(|| {
        Some(PartnershipForm {
            partner_name: partner_name?,
            partner_kind: partner_kind?,
            partner_institution_id: body.partner_institution_id,
            started_on: body.started_on,
            ended_on: body.ended_on,
            agreement_ref,
        })
    })?;
    let row = state
        .db
        .write(move |conn| partnerships::record(conn, &caller, id, &form))
        .await?;
    Ok(HttpResponse::Created().json(PartnershipResponse::from(row)))
}

/// An institution's partnerships, earliest first.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/partnerships", tag = "designations",
    params(("id" = i64, Path, description = "Institution id")), security(("bearer" = [])),
    responses((status = 200, description = "Partnerships", body = [PartnershipResponse]),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json")))]
pub async fn list_partnerships(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<InstitutionId>,
) -> Result<web::Json<Vec<PartnershipResponse>>, AppError> {
    let id = id.into_inner();
    let rows = state
        .db
        .read(move |conn| partnerships::list(conn, &caller, id))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPartnershipRequest {
    /// The partnership's last day.
    pub ended_on: NaiveDate,
}

/// Record the end of a partnership.
#[utoipa::path(post, path = "/api/v1/institutions/{id}/partnerships/{partnership_id}/end", tag = "designations",
    params(("id" = i64, Path, description = "Institution id"), ("partnership_id" = i64, Path, description = "Partnership id")),
    request_body = EndPartnershipRequest, security(("bearer" = [])),
    responses((status = 200, description = "Ended", body = PartnershipResponse),
        (status = 403, description = "Not the institution's staff or an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partnership", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn end_partnership(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(InstitutionId, PartnershipId)>,
    body: JsonBody<EndPartnershipRequest>,
) -> Result<web::Json<PartnershipResponse>, AppError> {
    let (id, partnership_id) = path.into_inner();
    let ended_on = body.into_inner().ended_on;
    let row = state
        .db
        .write(move |conn| partnerships::end(conn, &caller, id, partnership_id, ended_on))
        .await?;
    Ok(web::Json(row.into()))
}
