//! The rules, their parameters, and each learner's milestones: `/api/v1/rules…`,
//! `/api/v1/learners/{id}/milestones`, `/api/v1/me/progress`, `/api/v1/me/what-if`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use actix_web::http::header::{self, ContentEncoding, Encoding, Header};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::body::JsonBody;
use crate::api::extractor::VerifiedToken;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::require_learner;
use crate::auth::AuthUser;
use crate::db::milestones::{self};
use crate::db::progress_snapshots;
use crate::domain::{
    checks::Checks, today_in_shanghai, CertificateKind, LearnerId, OccupationCode, SkillLevel,
};
use crate::error::AppError;
use crate::rules::facts::EmploymentFact;
use crate::rules::next_steps::{next_steps as order_next_steps, NextStep};
use crate::rules::params::{self, ParameterValue};
use crate::rules::{self, Milestone, Parameters, RuleInfo};
use crate::services::eligibility;
use crate::services::eligibility::progress::{self, ProgressBody};
use crate::services::eligibility::what_if::{self, WhatIfChange};
use crate::services::policy::{self, NewValue};
use crate::state::AppState;

/// The rules the engine applies, with their titles and citations.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", security(("bearer" = [])),
    responses((status = 200, description = "The rules", body = Vec<RuleInfo>)))]
pub async fn list_rules(_caller: AuthUser) -> web::Json<Vec<RuleInfo>> {
    web::Json(rules::catalog())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterEntry {
    #[serde(flatten)]
    pub value: ParameterValue,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParametersResponse {
    pub as_of: NaiveDate,
    /// The digest that milestones computed under these values carry.
    pub parameters_version: String,
    /// The value of each parameter (and per-occupation override) in force on `as_of`.
    pub in_force: Vec<ParameterEntry>,
    /// Values that take effect after `as_of`.
    pub scheduled: Vec<ParameterEntry>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The evaluation date (default: today in Shanghai).
    pub as_of: Option<NaiveDate>,
}

fn entry(value: ParameterValue) -> ParameterEntry {
    let description = params::definition(&value.name)
        .map(|d| d.description.to_owned())
        .unwrap_or_default();
    ParameterEntry { value, description }
}

/// Parameter values in force on a date and those scheduled after it.
#[utoipa::path(get, path = "/api/v1/rules/parameters", tag = "rules", params(AsOfQuery), security(("bearer" = [])),
    responses((status = 200, description = "Parameters", body = ParametersResponse)))]
pub async fn list_parameters(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<AsOfQuery>,
) -> Result<web::Json<ParametersResponse>, AppError> {
    let as_of = query.as_of.unwrap_or_else(today_in_shanghai);
    let values = state.db.read(eligibility::parameter_values).await?;
    let version = Parameters::in_force(&values, as_of).version;
    // In force: per (name, occupation), the latest value whose period contains the date.
    let mut in_force: Vec<ParameterValue> = Vec::new();
    for v in values.iter().filter(|v| v.in_force_on(as_of)) {
        match in_force
            .iter_mut()
            .find(|x| x.name == v.name && x.occupation_code == v.occupation_code)
        {
            Some(existing) if existing.effective_from <= v.effective_from => *existing = v.clone(),
            Some(_) => {}
            None => in_force.push(v.clone()),
        }
    }
    let scheduled = values
        .iter()
        .filter(|v| v.effective_from > as_of)
        .cloned()
        .map(entry)
        .collect();
    Ok(web::Json(ParametersResponse {
        as_of,
        parameters_version: version,
        in_force: in_force.into_iter().map(entry).collect(),
        scheduled,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "sh489.technician_after_senior_worker.holding_years", "value": 3,
    "effective_from": "2027-01-01", "source": "沪人社职〔2026〕1号", "clause": "三", "note": ""}))]
pub struct NewParameterRequest {
    pub name: String,
    /// Only for parameters that may be overridden per occupation.
    pub occupation_code: Option<String>,
    /// Any JSON value: a number, a list, an object, as the parameter needs.
    pub value: Value,
    /// Not before today: history is never edited.
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    #[schema(min_length = 1, max_length = 300)]
    pub source: String,
    #[schema(min_length = 1, max_length = 100)]
    pub clause: String,
    #[serde(default)]
    pub note: String,
}

/// Add a parameter value from a date (administrators). Every affected learner's milestones are
/// recomputed (in the background); milestones change from that date, not before.
#[utoipa::path(post, path = "/api/v1/rules/parameters", tag = "rules", request_body = NewParameterRequest, security(("bearer" = [])),
    responses((status = 201, description = "Added", body = ParametersResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter, wrong value, or a date in the past", body = Problem, content_type = "application/problem+json")))]
pub async fn add_parameter(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<NewParameterRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let b = body.into_inner();
    let mut checks = Checks::new();
    let today = today_in_shanghai();
    let def = params::definition(&b.name);
    match def {
        None => checks.add(
            "name",
            "is not a parameter of the rules (see GET /api/v1/rules/parameters)",
        ),
        Some(def) => {
            if let Err(message) = params::check_value(def, &b.value) {
                checks.add("value", message);
            }
            if b.occupation_code.is_some() && !def.per_occupation {
                checks.add(
                    "occupation_code",
                    "this parameter cannot be set per occupation",
                );
            }
        }
    }
    let occupation = b
        .occupation_code
        .as_deref()
        .and_then(|c| checks.with("occupation_code", OccupationCode::parse(c)));
    checks.ensure(
        b.effective_from >= today,
        "effective_from",
        format!("must not be before today ({today}): history is never edited"),
    );
    checks.ordered(
        "effective_until",
        Some(b.effective_from),
        b.effective_until,
        "effective_from",
    );
    let source = checks.text("source", &b.source, 300);
    let clause = checks.text("clause", &b.clause, 100);
    let (source, clause) = checks.done(|| Some((source?, clause?)))?;
    let actor = caller.id;
    let new = NewValue {
        name: b.name,
        occupation_code: occupation,
        value: b.value,
        effective_from: b.effective_from,
        effective_until: b.effective_until,
        source,
        clause,
        note: b.note,
    };
    let name = new.name.clone();
    state
        .db
        .write(move |conn| policy::add_value(conn, actor, &new))
        .await?;
    tracing::info!(parameter = %name, by = %actor, "parameter value added");
    let listed = list_parameters(state, caller, web::Query(AsOfQuery { as_of: None })).await?;
    Ok(HttpResponse::Created().json(listed.into_inner()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MilestonesResponse {
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    pub as_of: NaiveDate,
    pub parameters_version: String,
    pub milestones: Vec<Milestone>,
}

/// A learner's milestones on a date (within the caller's scope).
#[utoipa::path(get, path = "/api/v1/learners/{id}/milestones", tag = "rules",
    params(("id" = i64, Path, description = "Learner id"), AsOfQuery), security(("bearer" = [])),
    responses((status = 200, description = "Milestones", body = MilestonesResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn learner_milestones(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    query: web::Query<AsOfQuery>,
) -> Result<web::Json<MilestonesResponse>, AppError> {
    let learner_id = id.into_inner();
    let as_of = query.as_of.unwrap_or_else(today_in_shanghai);
    let parameters = state.parameters.clone();
    let (milestones, version) = state
        .db
        .read(move |conn| {
            require_learner(conn, &caller, learner_id)?;
            eligibility::compute(conn, &parameters, learner_id, as_of)
        })
        .await?;
    Ok(web::Json(MilestonesResponse {
        learner_id,
        as_of,
        parameters_version: version,
        milestones,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MilestoneEvent {
    pub id: i64,
    pub milestone_key: String,
    pub rule_id: String,
    /// `newly_met`, `newly_upcoming`, `achieved`, `lost`, `lapsed`, `date_moved`, or `changed` (a
    /// move between two statuses that give nothing to act on; no notice).
    pub event: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The changes of a learner's stored milestones, oldest first.
#[utoipa::path(get, path = "/api/v1/learners/{id}/milestone-events", tag = "rules",
    params(("id" = i64, Path, description = "Learner id"), EventsQuery), security(("bearer" = [])),
    responses((status = 200, description = "Events", body = Page<MilestoneEvent>),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn learner_events(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    query: web::Query<EventsQuery>,
) -> Result<web::Json<Page<MilestoneEvent>>, AppError> {
    let learner_id = id.into_inner();
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let rows = state
        .db
        .read(move |conn| {
            require_learner(conn, &caller, learner_id)?;
            Ok(milestones::events_for(conn, learner_id, after, limit + 1)?)
        })
        .await?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |r| MilestoneEvent {
            id: r.id,
            milestone_key: r.milestone_key,
            rule_id: r.rule_id,
            event: r.event.as_str().to_owned(),
            before: parse(r.before),
            after: parse(r.after),
            created_at: r.created_at.and_utc(),
        },
    )))
}

/// What `GET /me/progress` sends: the day, then the stored or computed [`ProgressBody`] (the
/// handler writes the bytes; this type describes them).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressResponse {
    pub as_of: NaiveDate,
    #[serde(flatten)]
    pub body: ProgressBody,
}

/// The learner's own progress: certificates, milestones and next steps.
///
/// Answered from the learner's stored snapshot when `as_of` falls within the days it holds for
/// (one statement reads the account and the snapshot); otherwise computed, and stored when
/// `as_of` is today.
///
/// Sent with `Content-Encoding: gzip` when the client prefers gzip to no coding
/// (`Accept-Encoding`): the stored bytes themselves, framed. `Vary: accept-encoding`.
#[utoipa::path(get, path = "/api/v1/me/progress", tag = "rules", params(AsOfQuery), security(("bearer" = [])),
    responses((status = 200, description = "Progress", body = ProgressResponse),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn my_progress(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: VerifiedToken,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    let today = today_in_shanghai();
    let as_of = query.as_of.unwrap_or(today);
    let parameters = state.parameters.clone();
    let answer = state
        .db
        .read(move |conn| {
            let (account, snapshot) = match progress_snapshots::for_account(conn, token.user_id)? {
                Some((account, snapshot)) => (Some(account), snapshot),
                None => (None, None),
            };
            let caller = AuthUser::of_account(&token.claims, account)?;
            let learner_id = caller.own_learner_id()?;
            progress::answer_with(conn, &parameters, learner_id, snapshot, as_of, today)
        })
        .await?;
    crate::metrics::progress_answered(answer.from_snapshot);
    let mut response = HttpResponse::Ok();
    response
        .content_type(header::ContentType::json())
        .insert_header((header::VARY, "accept-encoding"));
    if accepts_gzip(&request) {
        // The stored bytes themselves, framed as gzip: nothing is compressed per request.
        response.insert_header(ContentEncoding::Gzip);
        return Ok(response.body(answer.to_gzip()?));
    }
    Ok(response.body(answer.to_json()?))
}

/// Whether the client prefers gzip to the uncompressed answer (RFC 9110 12.5.3: by quality; a
/// header absent or unreadable asks for no coding).
fn accepts_gzip(request: &HttpRequest) -> bool {
    const OFFERED: [Encoding; 2] = [Encoding::gzip(), Encoding::identity()];
    request.headers().contains_key(header::ACCEPT_ENCODING)
        && header::AcceptEncoding::parse(request)
            .is_ok_and(|accepted| accepted.negotiate(OFFERED.iter()) == Some(Encoding::gzip()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HypotheticalCertificate {
    /// Default `skill_level`.
    #[schema(value_type = Option<CertificateKind>)]
    pub kind: Option<String>,
    #[schema(value_type = SkillLevel)]
    pub level: String,
    pub occupation_code: String,
    pub issued_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HypotheticalEmployment {
    pub employer_name: String,
    pub occupation_code: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    #[serde(default = "yes")]
    pub in_shanghai: bool,
    #[serde(default)]
    pub frontline: bool,
    #[serde(default)]
    pub dedicated_trainer: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"certificates": [{"level": "technician", "occupation_code": "6-18-02-04", "issued_on": "2027-06-30"}], "as_of": "2027-07-01"}))]
pub struct WhatIfRequest {
    /// Certificates to suppose (counted as verified).
    #[serde(default)]
    pub certificates: Vec<HypotheticalCertificate>,
    #[serde(default)]
    pub employments: Vec<HypotheticalEmployment>,
    /// Default: today, or the latest date among the hypotheses if later.
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfResponse {
    pub as_of: NaiveDate,
    pub parameters_version: String,
    pub milestones: Vec<Milestone>,
    pub next_steps: Vec<NextStep>,
    /// The milestones whose status or dates the hypotheses change, compared with the same date
    /// without them.
    pub changes: Vec<WhatIfChange>,
}

/// "If I pass 技师 in June, what opens?": the learner's milestones with hypothetical certificates
/// or employment added. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/me/what-if", tag = "rules", request_body = WhatIfRequest, security(("bearer" = [])),
    responses((status = 200, description = "Milestones under the hypotheses", body = WhatIfResponse),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid hypotheses", body = Problem, content_type = "application/problem+json")))]
pub async fn what_if(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<WhatIfRequest>,
) -> Result<web::Json<WhatIfResponse>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let b = body.into_inner();
    let mut checks = Checks::new();
    checks.ensure(
        b.certificates.len() + b.employments.len() <= 20,
        "certificates",
        "at most 20 hypotheses",
    );
    let mut certificates = Vec::new();
    for (i, c) in b.certificates.iter().enumerate() {
        let fact = what_if::certificate_fact(
            &mut checks,
            &format!("certificates[{i}]"),
            c.kind.as_deref(),
            &c.level,
            &c.occupation_code,
            c.issued_on,
        );
        certificates.extend(fact);
    }
    let mut employments = Vec::new();
    for (i, e) in b.employments.iter().enumerate() {
        let code = checks.with(
            &format!("employments[{i}].occupation_code"),
            OccupationCode::parse(&e.occupation_code),
        );
        checks.ordered(
            &format!("employments[{i}].end_date"),
            Some(e.start_date),
            e.end_date,
            "start_date",
        );
        if let Some(code) = code {
            employments.push(EmploymentFact {
                id: None,
                employer: e.employer_name.clone(),
                occupation: code.into_inner(),
                start: e.start_date,
                end: e.end_date,
                in_shanghai: e.in_shanghai,
                frontline: e.frontline,
                dedicated_trainer: e.dedicated_trainer,
            });
        }
    }
    checks.done(|| Some(()))?;
    let parameters = state.parameters.clone();
    let hypotheses = what_if::Hypotheses {
        certificates,
        employments,
        as_of: b.as_of,
    };
    let what_if::Supposed {
        as_of,
        parameters_version: version,
        milestones: supposed,
        changes,
    } = state
        .db
        .read(move |conn| what_if::suppose(conn, &parameters, learner_id, hypotheses))
        .await?;
    let next_steps = order_next_steps(&supposed);
    Ok(web::Json(WhatIfResponse {
        as_of,
        parameters_version: version,
        milestones: supposed,
        next_steps,
        changes,
    }))
}
