//! A learner's progress: each milestone in plain words with its status, its date and what is
//! missing, the one next step first, the reasons and the policy clause one tap away.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::domain::{today_in_shanghai, LearnerId, Role};
use crate::rules::milestone::Outcome;
use crate::rules::{Milestone, Status, Text};
use crate::services::eligibility::progress;
use crate::state::AppState;

pub(super) struct MilestoneView {
    pub(super) title: String,
    /// What-if: the milestone's status without the hypotheses.
    pub(super) before: Option<&'static str>,
    pub(super) status: &'static str,
    pub(super) status_label: &'static str,
    pub(super) date_line: Option<String>,
    pub(super) missing: Vec<String>,
    pub(super) checks: Vec<CheckView>,
    pub(super) citation: String,
}

pub(super) struct CheckView {
    pub(super) outcome: &'static str,
    pub(super) condition: String,
    pub(super) observed: String,
    pub(super) expected: String,
}

struct CertificateView {
    level: &'static str,
    occupation: String,
    issued: String,
    status: &'static str,
    status_label: &'static str,
}

struct StepView {
    title: String,
    text: String,
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    ui: Ui,
    /// Staff reading a learner's page: the page names the learner, not "my progress".
    for_staff: bool,
    name: String,
    as_of: String,
    next_step: Option<StepView>,
    milestones: Vec<MilestoneView>,
    certificates: Vec<CertificateView>,
}

pub(super) fn text(ui: &Ui, t: &Text) -> String {
    ui.t(t.zh.as_ref(), t.en.as_ref()).to_owned()
}

pub(super) fn status_label(ui: &Ui, status: Status) -> &'static str {
    match status {
        Status::Achieved => ui.t("已取得", "Achieved"),
        Status::Met => ui.t("现在可以申请", "Open now"),
        Status::Upcoming => ui.t("即将可以申请", "Opens soon"),
        Status::NotMet => ui.t("尚未满足", "Not yet"),
        Status::NeedsInfo => ui.t("需要补充信息", "Needs information"),
        Status::Lapsed => ui.t("已过申请期", "Window closed"),
        Status::NotApplicable => ui.t("不适用", "Not applicable"),
    }
}

pub(super) fn milestone_view(ui: &Ui, m: &Milestone) -> MilestoneView {
    let date_line = match (m.status, m.eligible_from, m.open_until) {
        (Status::Met, Some(from), Some(until)) => Some(format!(
            "{} {} · {} {}",
            ui.t("自", "Since"),
            ui.date(from),
            ui.t("截止", "until"),
            ui.date(until)
        )),
        (Status::Met, Some(from), None) => {
            Some(format!("{} {}", ui.t("自", "Since"), ui.date(from)))
        }
        (Status::Upcoming, Some(from), _) => Some(format!(
            "{} {}",
            ui.t("可申请日期：", "Opens on"),
            ui.date(from)
        )),
        _ => None,
    };
    MilestoneView {
        title: text(ui, &m.title),
        before: None,
        status: m.status.as_str(),
        status_label: status_label(ui, m.status),
        date_line,
        missing: m.missing.iter().map(|t| text(ui, t)).collect(),
        checks: m
            .trace
            .iter()
            .map(|c| CheckView {
                outcome: match c.outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "fail",
                    Outcome::Unknown => "unknown",
                },
                condition: text(ui, &c.condition),
                observed: c.observed.to_string(),
                expected: c.expected.to_string(),
            })
            .collect(),
        citation: format!("{} {}", m.citation.source, m.citation.clause),
    }
}

/// `GET /progress`: the logged-in learner's own progress as of today.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let ui = Ui::signed(&req, &session);
    progress_page(&state, ui, learner_id, false).await
}

/// `GET /learners/{id}`: a learner's progress as their college's staff (or an administrator)
/// read it; outside the caller's scope it reads as not found.
pub async fn of_learner(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<LearnerId>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.user.require(&[Role::Admin, Role::CollegeStaff])?;
    let (caller, learner_id) = (session.user.clone(), id.into_inner());
    state
        .db
        .read(move |conn| crate::auth::scope::require_learner(conn, &caller, learner_id))
        .await?;
    let ui = Ui::signed(&req, &session);
    progress_page(&state, ui, learner_id, true).await
}

async fn progress_page(
    state: &AppState,
    ui: Ui,
    learner_id: LearnerId,
    for_staff: bool,
) -> Result<HttpResponse, PageError> {
    let as_of = today_in_shanghai();
    let parameters = state.parameters.clone();
    let p = state
        .db
        .read(move |conn| {
            let answer = progress::answer(conn, &parameters, learner_id, as_of, as_of)?;
            crate::metrics::progress_answered(answer.from_snapshot);
            answer.body()
        })
        .await
        .map_err(|error| PageError {
            error,
            language: ui.language,
        })?;
    let next_step = p.next_steps.first().map(|s| StepView {
        title: text(&ui, &s.title),
        text: text(&ui, &s.text),
    });
    let milestones = p
        .milestones
        .iter()
        .filter(|m| m.status != Status::NotApplicable)
        .map(|m| milestone_view(&ui, m))
        .collect();
    let certificates = p
        .certificates
        .iter()
        .map(|c| CertificateView {
            level: ui.level(c.level),
            occupation: c.occupation_code.clone(),
            issued: ui.date(c.issued_on),
            status: c.status.as_str(),
            status_label: ui.certificate_status(c.status),
        })
        .collect();
    let page = ProgressPage {
        as_of: ui.date(as_of),
        for_staff,
        name: p.learner_name,
        next_step,
        milestones,
        certificates,
        ui,
    };
    Ok(super::html(actix_web::http::StatusCode::OK).body(super::render(&page)?))
}
