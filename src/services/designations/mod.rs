//! Designation applications (policy 六): prepared and submitted by the institution's staff,
//! taken through the reviews by the decisions administrators record for the bodies that took
//! them, ending in a designation period the learner rules read — or, after an evaluation found
//! the institution short and rectification did not mend it, in that period's end (摘牌). Every
//! step is kept with who, when, the decision and the reason, is audited, and reaches the
//! institution's staff (inbox and email). Run inside a write transaction.

pub mod workflow;

use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::auth::{scope, AuthUser};
use crate::db::designation_applications::{
    self as applications, ApplicationContents, ApplicationRow, NewApplication, NewStep, Progress,
    ProjectRow, StepRow,
};
use crate::db::institutions::{self, DesignationRow, InstitutionRow};
use crate::db::notifications::Recipient;
use crate::db::{self, audit, partnerships, users, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    ApplicationState, ApplicationStep, AuditAction, AuditEntity, Category,
    DesignationApplicationId, InstitutionId, NoticeKind, PartnerKind, ReviewBody, StepDecision,
};
use crate::error::AppError;
use crate::notify::{self, Notice};
use crate::rules::params::Parameters;
use crate::services::eligibility::parameters::InForce;
use workflow::{Move, Standing};

/// What the institution states: the annex's conditions with their evidence, and the training
/// projects (培养项目) it applies with.
#[derive(Debug, Clone)]
pub struct ApplicationForm {
    pub contents: ApplicationContents,
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub occupation_code: String,
    pub name: String,
}

/// A step with the facts every step records.
#[derive(Debug, Clone)]
pub struct StepForm {
    pub decided_on: NaiveDate,
    /// The deciding body's own name (浦东新区教育局, say).
    pub body_name: Option<String>,
    pub reason: Option<String>,
    /// The decision's document (批复 number).
    pub document_ref: Option<String>,
    pub action: StepAction,
}

#[derive(Debug, Clone)]
pub enum StepAction {
    Submit,
    Withdraw,
    PreliminaryReview {
        body: ReviewBody,
        approved: bool,
    },
    CityEducationConsent {
        approved: bool,
    },
    /// When approved, the public notice's first and last day.
    ExpertReview {
        approved: bool,
        notice: Option<(NaiveDate, NaiveDate)>,
    },
    Objection {
        received_on: NaiveDate,
        upheld: bool,
    },
    Designate {
        batch: String,
    },
    /// The evaluation of `year`'s work; when short, the rectification deadline.
    Evaluate {
        year: i32,
        meets: bool,
        rectification_due: Option<NaiveDate>,
    },
    ReEvaluate {
        meets: bool,
    },
}

impl StepAction {
    fn as_move(&self) -> Move {
        match *self {
            Self::Submit => Move::Submit,
            Self::Withdraw => Move::Withdraw,
            Self::PreliminaryReview { body, approved } => {
                Move::PreliminaryReview { body, approved }
            }
            Self::CityEducationConsent { approved } => Move::CityEducationConsent { approved },
            Self::ExpertReview { approved, .. } => Move::ExpertReview { approved },
            Self::Objection { upheld, .. } => Move::Objection { upheld },
            Self::Designate { .. } => Move::Designate,
            Self::Evaluate { meets, .. } => Move::Evaluate { meets },
            Self::ReEvaluate { meets } => Move::ReEvaluate { meets },
        }
    }

    fn decision(&self) -> Option<StepDecision> {
        let pass = |ok: bool, yes, no| Some(if ok { yes } else { no });
        match *self {
            Self::Submit | Self::Withdraw | Self::Designate { .. } => None,
            Self::PreliminaryReview { approved, .. }
            | Self::CityEducationConsent { approved }
            | Self::ExpertReview { approved, .. } => {
                pass(approved, StepDecision::Approved, StepDecision::Rejected)
            }
            Self::Objection { upheld, .. } => {
                pass(upheld, StepDecision::Upheld, StepDecision::Dismissed)
            }
            Self::Evaluate { meets, .. } | Self::ReEvaluate { meets } => {
                pass(meets, StepDecision::Meets, StepDecision::Short)
            }
        }
    }
}

/// An application with everything its page shows.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub application: ApplicationRow,
    pub institution: InstitutionRow,
    pub projects: Vec<ProjectRow>,
    pub steps: Vec<StepRow>,
    /// In preliminary review: the bodies whose decision is still awaited.
    pub awaiting: Vec<ReviewBody>,
    /// Stable partnerships of the right kind on `as_of` (annex 一.2 / 二.2), and how many the
    /// conditions ask for.
    pub stable_partners: usize,
    pub partners_needed: u32,
    pub as_of: NaiveDate,
    pub designation: Option<DesignationRow>,
}

fn institution(conn: &mut DbConnection, id: InstitutionId) -> Result<InstitutionRow, AppError> {
    institutions::find(conn, id)?.ok_or(AppError::NotFound {
        what: "institution",
    })
}

fn application(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    id: DesignationApplicationId,
) -> Result<ApplicationRow, AppError> {
    applications::find(conn, id)?
        .filter(|a| a.institution_id == institution_id)
        .ok_or(AppError::NotFound {
            what: "application",
        })
}

/// The partner kind an institution's conditions count: enterprises for a school or college,
/// colleges for an enterprise.
pub fn partner_kind_for(institution: &InstitutionRow) -> PartnerKind {
    if institution.kind == crate::domain::InstitutionKind::Enterprise {
        PartnerKind::College
    } else {
        PartnerKind::Enterprise
    }
}

/// The institution's partnerships that are stable on `day`, of the kind its conditions count.
pub fn stable_partners(
    conn: &mut DbConnection,
    params: &Parameters,
    institution: &InstitutionRow,
    day: NaiveDate,
) -> Result<Vec<crate::db::partnerships::PartnershipRow>, AppError> {
    let months = params.int(crate::param!("sh489.partnership.stable_months"));
    let kind = partner_kind_for(institution);
    // Partners, not agreements: a partner with several partnerships counts once (3家以上).
    let mut seen = std::collections::HashSet::new();
    Ok(partnerships::of_institution(conn, institution.id)?
        .into_iter()
        .filter(|p| p.partner_kind == kind && p.stable_on(day, months))
        .filter(|p| seen.insert(p.partner_key()))
        .collect())
}

fn check_projects(conn: &mut DbConnection, projects: &[Project]) -> Result<(), AppError> {
    let mut checks = Checks::new();
    checks.ensure(
        !projects.is_empty(),
        "projects",
        "name at least one training project",
    );
    crate::services::occupation_catalog::check_occupations(
        conn,
        &mut checks,
        projects.iter().enumerate().map(|(i, p)| {
            (
                format!("projects[{i}].occupation_code"),
                p.occupation_code.as_str(),
            )
        }),
    )?;
    for (i, p) in projects.iter().enumerate() {
        checks.ensure(
            !projects[..i]
                .iter()
                .any(|q| q.occupation_code == p.occupation_code),
            &format!("projects[{i}].occupation_code"),
            "names an occupation already listed",
        );
    }
    checks.done(|| Some(()))
}

fn project_rows(id: DesignationApplicationId, projects: &[Project]) -> Vec<ProjectRow> {
    projects
        .iter()
        .map(|p| ProjectRow {
            application_id: id,
            occupation_code: p.occupation_code.clone(),
            name: p.name.clone(),
        })
        .collect()
}

/// Starts an application (a draft) for the institution: its staff, or an administrator.
pub fn create(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    form: &ApplicationForm,
    today: NaiveDate,
) -> Result<ApplicationView, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institution(conn, institution_id)?;
    if institutions::designations_of(conn, institution_id)?
        .iter()
        .any(|d| d.designated_until.is_none_or(|until| until >= today))
    {
        return Err(AppError::conflict(
            "institution_designated",
            "This institution holds a designation; a new application follows its end.",
        ));
    }
    check_projects(conn, &form.projects)?;
    let now = db::now();
    let row = applications::insert(
        conn,
        &NewApplication {
            institution_id,
            state: ApplicationState::Draft,
            contents: form.contents.clone(),
            created_by: Some(caller.id),
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(AppError::unique_clash(
        "application_open",
        "This institution has an application in progress or a designation; finish it first.",
    ))?;
    applications::replace_projects(conn, row.id, &project_rows(row.id, &form.projects))?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::DesignationApplication,
        row.id,
        &json!({"institution_id": institution_id, "projects": form.projects.len()}),
    )?;
    view_of(conn, row, today)
}

/// Replaces a draft's contents and projects.
pub fn update(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    id: DesignationApplicationId,
    form: &ApplicationForm,
    today: NaiveDate,
) -> Result<ApplicationView, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    applications::lock(conn, id)?;
    let row = application(conn, institution_id, id)?;
    if row.state != ApplicationState::Draft {
        return Err(AppError::conflict(
            "application_submitted",
            "Only a draft can be changed; this application has been submitted.",
        ));
    }
    check_projects(conn, &form.projects)?;
    applications::replace_contents(conn, id, &form.contents, db::now())?;
    applications::replace_projects(conn, id, &project_rows(id, &form.projects))?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Update,
        AuditEntity::DesignationApplication,
        id,
        &json!({"projects": form.projects.len()}),
    )?;
    view(conn, caller, institution_id, id, today)
}

/// The institution's applications, newest first.
pub fn list(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
) -> Result<Vec<ApplicationRow>, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institution(conn, institution_id)?;
    Ok(applications::of_institution(conn, institution_id)?)
}

pub fn view(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    id: DesignationApplicationId,
    today: NaiveDate,
) -> Result<ApplicationView, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    let row = application(conn, institution_id, id)?;
    view_of(conn, row, today)
}

fn view_of(
    conn: &mut DbConnection,
    application: ApplicationRow,
    today: NaiveDate,
) -> Result<ApplicationView, AppError> {
    let institution = institution(conn, application.institution_id)?;
    let params = InForce::read(conn, today)?.parameters;
    let steps = applications::steps_of(conn, application.id)?;
    let awaiting = if application.state == ApplicationState::PreliminaryReview {
        let approved = approved_bodies(&steps);
        workflow::preliminary_bodies(institution.kind, application.contents.run_by_industry)
            .into_iter()
            .filter(|b| !approved.contains(b))
            .collect()
    } else {
        Vec::new()
    };
    let designation = match application.designation_id {
        Some(did) => institutions::designations_of(conn, institution.id)?
            .into_iter()
            .find(|d| d.id == did),
        None => None,
    };
    Ok(ApplicationView {
        projects: applications::projects_of(conn, application.id)?,
        stable_partners: stable_partners(conn, &params, &institution, today)?.len(),
        partners_needed: params.int(crate::param!("sh489.partnership.min_partners")),
        as_of: today,
        awaiting,
        steps,
        designation,
        institution,
        application,
    })
}

/// The bodies whose preliminary approval is on record.
fn approved_bodies(steps: &[StepRow]) -> Vec<ReviewBody> {
    steps
        .iter()
        .filter(|s| {
            s.step == ApplicationStep::PreliminaryReview
                && s.decision == Some(StepDecision::Approved)
        })
        .filter_map(|s| s.body)
        .collect()
}

/// Takes a step on the application: the institution's staff submit or withdraw; every other
/// step is a body's decision, recorded by an administrator. 409 when the application's state
/// does not allow the step; 422 when a fact of the step is wrong or missing.
pub fn take_step(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    id: DesignationApplicationId,
    form: &StepForm,
    today: NaiveDate,
) -> Result<ApplicationView, AppError> {
    let step = form.action.as_move();
    // Another institution's staff learn nothing of this one (404), whatever the step; then the
    // reviewing bodies' steps are administrators' to record (403).
    scope::require_acting_for(caller, institution_id)?;
    if !step.by_the_institution() {
        caller.require_admin()?;
    }
    applications::lock(conn, id)?;
    let row = application(conn, institution_id, id)?;
    let institution = institution(conn, institution_id)?;
    let steps = applications::steps_of(conn, id)?;
    let standing = Standing {
        state: row.state,
        kind: institution.kind,
        run_by_industry: row.contents.run_by_industry,
        approved_by: approved_bodies(&steps),
        notice_until: row.notice_until,
        rectification_due: row.rectification_due,
    };
    // What the state allows first (409), then the step's own facts (422).
    let to = workflow::next_state(&standing, &step, form.decided_on)
        .map_err(|refusal| AppError::conflict(refusal.code, refusal.message))?;
    let params = InForce::read(conn, form.decided_on)?.parameters;
    check_step(
        conn,
        caller,
        &params,
        &institution,
        &row,
        &steps,
        form,
        today,
    )?;
    let now = db::now();
    let mut progress = Progress {
        state: Some(to),
        updated_at: Some(now),
        ..Progress::default()
    };
    let mut details = json!({});
    match &form.action {
        StepAction::Submit => {
            progress.submitted_on = Some(form.decided_on);
            details = json!({"stable_partners": stable_partners(conn, &params, &institution, form.decided_on)?.len()});
        }
        StepAction::ExpertReview {
            notice: Some((from, until)),
            approved: true,
        } => {
            progress.notice_from = Some(*from);
            progress.notice_until = Some(*until);
            details = json!({"notice_from": from, "notice_until": until});
        }
        StepAction::Objection { received_on, .. } => {
            details = json!({"received_on": received_on});
        }
        StepAction::Designate { batch } => {
            let designation = super::institutions::add_designation(
                conn,
                caller.id,
                institution_id,
                batch,
                form.decided_on,
                None,
            )?;
            progress.designation_id = Some(designation.id);
            details = json!({"batch": batch, "designation_id": designation.id});
        }
        StepAction::Evaluate {
            year,
            rectification_due,
            ..
        } => {
            if let Some(due) = rectification_due {
                progress.rectification_due = Some(Some(*due));
            }
            details = json!({"year": year, "rectification_due": rectification_due});
        }
        StepAction::ReEvaluate { meets } => {
            progress.rectification_due = Some(None);
            if !meets {
                let designation_id = row.designation_id.ok_or_else(|| {
                    AppError::internal(
                        "re-evaluation",
                        "a rectifying application has no designation",
                    )
                })?;
                super::institutions::close_designation(
                    conn,
                    caller.id,
                    institution_id,
                    designation_id,
                    form.decided_on,
                    form.reason.as_deref().unwrap_or("摘牌"),
                )?;
                details =
                    json!({"designation_id": designation_id, "designated_until": form.decided_on});
            }
        }
        _ => {}
    }
    applications::record_progress(conn, id, &progress)?;
    let details = details.to_string();
    let body = match form.action {
        StepAction::PreliminaryReview { body, .. } => Some(body),
        StepAction::CityEducationConsent { .. } => Some(ReviewBody::CityEducation),
        StepAction::ExpertReview { .. }
        | StepAction::Objection { .. }
        | StepAction::Designate { .. }
        | StepAction::Evaluate { .. }
        | StepAction::ReEvaluate { .. } => Some(ReviewBody::CityHr),
        StepAction::Submit | StepAction::Withdraw => None,
    };
    let kind = step.kind();
    applications::insert_step(
        conn,
        &NewStep {
            application_id: id,
            step: kind,
            from_state: row.state,
            to_state: to,
            body,
            body_name: form.body_name.as_deref(),
            decision: form.action.decision(),
            reason: form.reason.as_deref(),
            document_ref: form.document_ref.as_deref(),
            decided_on: form.decided_on,
            details: &details,
            actor: Some(caller.id),
            created_at: now,
        },
    )?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::ApplicationStep,
        AuditEntity::DesignationApplication,
        id,
        &json!({"step": kind, "from": row.state, "to": to, "body": body,
            "decision": form.action.decision(), "decided_on": form.decided_on}),
    )?;
    tell_staff(conn, &institution, id, kind, to, form)?;
    let row = application(conn, institution_id, id)?;
    view_of(conn, row, today)
}

/// The facts a step needs beyond the state machine's say: dates in order and not ahead of
/// today, reasons for every refusal, the notice period, the conditions of a submission.
#[allow(clippy::too_many_arguments)]
fn check_step(
    conn: &mut DbConnection,
    caller: &AuthUser,
    params: &Parameters,
    institution: &InstitutionRow,
    row: &ApplicationRow,
    steps: &[StepRow],
    form: &StepForm,
    today: NaiveDate,
) -> Result<(), AppError> {
    let mut checks = Checks::new();
    checks.ensure(
        form.decided_on <= today,
        "decided_on",
        "must not be in the future: record a decision once it is taken",
    );
    // The institution's staff submit and withdraw in Skillpath, on the day they do it; only an
    // administrator records a step taken earlier on paper.
    checks.ensure(
        caller.role == crate::domain::Role::Admin
            || !form.action.as_move().by_the_institution()
            || form.decided_on == today,
        "decided_on",
        format!("is today ({today}) for a step the institution takes itself"),
    );
    crate::domain::checks::plausible_date(&mut checks, "decided_on", form.decided_on);
    if let Some(last) = steps.last() {
        checks.ensure(
            form.decided_on >= last.decided_on,
            "decided_on",
            format!("must not be before the previous step ({})", last.decided_on),
        );
    }
    let refusal = matches!(
        form.action.decision(),
        Some(StepDecision::Rejected | StepDecision::Short | StepDecision::Upheld)
    );
    checks.ensure(
        !refusal || form.reason.is_some(),
        "reason",
        "is required when an application is refused, found short or objected to",
    );
    let names_a_body = matches!(
        form.action,
        StepAction::PreliminaryReview { .. } | StepAction::CityEducationConsent { .. }
    );
    checks.ensure(
        !names_a_body || form.body_name.is_some(),
        "body_name",
        "name the body that decided (e.g. 浦东新区教育局)",
    );
    match &form.action {
        StepAction::Submit => {
            checks.ensure(
                row.contents.separate_departments,
                "separate_departments",
                "the annex (一.3 / 二.3) asks for separate training and assessment departments (考培分离)",
            );
            checks.ensure(
                row.contents.yearly_training_volume > 0,
                "yearly_training_volume",
                "the annex (一.4 / 二.4) asks for a yearly training volume",
            );
            let needed = params.int(crate::param!("sh489.partnership.min_partners"));
            let stable = stable_partners(conn, params, institution, form.decided_on)?.len();
            checks.ensure(
                stable >= needed as usize,
                "partnerships",
                format!(
                    "the annex (一.2 / 二.2) asks for {needed} stable partner {}s; {stable} recorded on {}",
                    partner_kind_for(institution),
                    form.decided_on
                ),
            );
        }
        StepAction::ExpertReview { approved, notice } => match (approved, notice) {
            (true, Some((from, until))) => {
                crate::domain::checks::plausible_date(&mut checks, "notice_until", *until);
                let days = params.int(crate::param!("sh489.designation.public_notice_min_days"));
                checks.ensure(
                    *from >= form.decided_on,
                    "notice_from",
                    "must not be before the review's decision",
                );
                checks.ensure(
                    (*until - *from).num_days() + 1 >= i64::from(days),
                    "notice_until",
                    format!("the public notice runs at least {days} days"),
                );
            }
            (true, None) => checks.add(
                "notice_from",
                "an approved review opens the public notice: give notice_from and notice_until",
            ),
            (false, Some(_)) => checks.add("notice_from", "only an approved review opens a notice"),
            (false, None) => {}
        },
        StepAction::Objection { received_on, .. } => {
            checks.ensure(
                *received_on <= form.decided_on,
                "received_on",
                "must not be after the decision on it",
            );
            if let (Some(from), Some(until)) = (row.notice_from, row.notice_until) {
                checks.ensure(
                    (from..=until).contains(received_on),
                    "received_on",
                    format!("must fall within the public notice, {from} – {until}"),
                );
            }
        }
        StepAction::Evaluate {
            year,
            meets,
            rectification_due,
        } => {
            // Evaluated only when designated (the state machine said so): the period is there.
            let designation = match row.designation_id {
                Some(id) => institutions::designations_of(conn, institution.id)?
                    .into_iter()
                    .find(|d| d.id == id),
                None => None,
            };
            let designated_from = designation
                .ok_or_else(|| {
                    AppError::internal("evaluation", "a designated application has no period")
                })?
                .designated_from
                .year();
            checks.ensure(
                (designated_from..=form.decided_on.year()).contains(year),
                "year",
                format!(
                    "must be a year of the designation, {designated_from} to {}",
                    form.decided_on.year()
                ),
            );
            match (meets, rectification_due) {
                (false, Some(due)) => {
                    checks.ensure(
                        *due > form.decided_on,
                        "rectification_due",
                        "must be after the decision",
                    );
                    crate::domain::checks::plausible_date(&mut checks, "rectification_due", *due);
                }
                (false, None) => checks.add(
                    "rectification_due",
                    "a finding of short sets a deadline for rectification (限期整改)",
                ),
                (true, Some(_)) => checks.add(
                    "rectification_due",
                    "only a finding of short sets a deadline",
                ),
                (true, None) => {}
            }
        }
        _ => {}
    }
    checks.done(|| Some(()))
}

/// Every step reaches the institution's staff, in their inbox and by email.
fn tell_staff(
    conn: &mut DbConnection,
    institution: &InstitutionRow,
    id: DesignationApplicationId,
    kind: ApplicationStep,
    to: ApplicationState,
    form: &StepForm,
) -> Result<(), AppError> {
    let staff = users::staff_of(conn, institution.id)?;
    let message = notify::messages::application_step_message(
        &institution.name,
        kind,
        to,
        form.body_name.as_deref(),
        form.decided_on,
        form.reason.as_deref(),
    );
    let steps = applications::steps_of(conn, id)?.len();
    let notices: Vec<Notice<'_>> = staff
        .iter()
        .map(|(user, email)| Notice {
            recipient: Recipient::User(*user),
            email: Some(email.as_str()),
            event_key: format!("application:{id}:step:{steps}"),
            category: Category::Institution,
            kind: NoticeKind::ApplicationStep,
            message: message.clone(),
            due_at: None,
            secret: None,
        })
        .collect();
    notify::produce_many(conn, &notices, &Default::default(), db::now())
}
