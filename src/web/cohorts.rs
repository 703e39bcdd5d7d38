//! College staff's cohorts, and a cohort's learners with where their milestones stand, to be
//! narrowed to those who can apply now, will soon, or need information recorded.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::domain::{CohortId, Role};
use crate::error::AppError;
use crate::rules::Status;
use crate::services::{institutions as institutions_service, learners as learners_service};
use crate::state::AppState;

/// Cohorts listed at once.
const LISTED: i64 = 200;

struct CohortView {
    id: CohortId,
    name: String,
    intake_year: i32,
}

#[derive(Template)]
#[template(path = "cohorts.html")]
struct CohortsPage {
    ui: Ui,
    cohorts: Vec<CohortView>,
    /// The staff's own institution: its application and targets.
    institution: Option<crate::domain::InstitutionId>,
}

struct LearnerView {
    id: crate::domain::LearnerId,
    name: String,
    met: usize,
    upcoming: usize,
    needs_info: usize,
}

struct Filter {
    value: &'static str,
    label: &'static str,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "cohort.html")]
struct CohortPage {
    ui: Ui,
    id: CohortId,
    name: String,
    filters: Vec<Filter>,
    learners: Vec<LearnerView>,
    /// The upload form's token (its script sends it in a header), and the invite forms'.
    csrf: String,
    /// What became of an invitation just sent, in words.
    invited: Option<&'static str>,
    upload_script: &'static str,
}

fn staff(visitor: Visitor) -> Result<WebSession, AppError> {
    let session = visitor.signed_in()?;
    session.user.require(&[Role::Admin, Role::CollegeStaff])?;
    Ok(session)
}

fn invitation_words(ui: &Ui, outcome: &str) -> &'static str {
    match outcome {
        "sent" => ui.t("已发送开通邀请。", "The invitation is on its way."),
        "already_active" => ui.t("该学员已开通账户。", "The learner has an account already."),
        "no_email" => ui.t(
            "该学员没有登记邮箱，无法邀请。",
            "No email address is recorded for the learner.",
        ),
        _ => ui.t(
            "该邮箱已被其他账户使用，无法邀请。",
            "Another account uses the learner's address.",
        ),
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
}

/// `POST /cohorts/{cohort}/learners/{learner}/invite`: sends the learner an invitation to
/// activate their account (the API's use case), then the cohort page says what became of it.
pub async fn invite(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(CohortId, crate::domain::LearnerId)>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, PageError> {
    let session = staff(visitor)?;
    session.check_csrf(&form.csrf)?;
    let (cohort, learner) = path.into_inner();
    let caller = session.user.clone();
    let st = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            crate::services::account_links::invite_by(
                conn,
                st.link_context(),
                &caller,
                learner,
                crate::db::now(),
            )
        })
        .await?;
    Ok(super::see_other(&format!(
        "/cohorts/{cohort}?invited={}",
        outcome.as_str()
    )))
}

/// `GET /cohorts`
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = staff(visitor)?;
    let caller = session.user.clone();
    let rows = state
        .db
        .read(move |conn| institutions_service::list_cohorts(conn, &caller, None, None, LISTED))
        .await?;
    let page = CohortsPage {
        institution: session.user.staff_institution(),
        ui: Ui::signed(&req, &session),
        cohorts: rows
            .into_iter()
            .map(|(c, _)| CohortView {
                id: c.id,
                name: c.name,
                intake_year: c.intake_year,
            })
            .collect(),
    };
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}

#[derive(Deserialize)]
pub struct StatusFilter {
    status: Option<String>,
    /// What became of an invitation just sent from this page.
    invited: Option<String>,
}

/// `GET /cohorts/{id}?status=met|upcoming|needs_info`
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<CohortId>,
    query: web::Query<StatusFilter>,
) -> Result<HttpResponse, PageError> {
    let session = staff(visitor)?;
    let ui = Ui::signed(&req, &session);
    let wanted = query
        .status
        .as_deref()
        .and_then(|s| s.parse::<Status>().ok())
        .filter(|s| matches!(s, Status::Met | Status::Upcoming | Status::NeedsInfo));
    let (caller, id) = (session.user.clone(), id.into_inner());
    let (cohort, learners) = state
        .db
        .read(move |conn| learners_service::of_cohort(conn, &caller, id))
        .await?;
    let count = |statuses: &[Status], s: Status| statuses.iter().filter(|x| **x == s).count();
    let learners = learners
        .into_iter()
        .filter(|(_, statuses)| wanted.is_none_or(|w| statuses.contains(&w)))
        .map(|(row, statuses)| LearnerView {
            id: row.id,
            name: row.name,
            met: count(&statuses, Status::Met),
            upcoming: count(&statuses, Status::Upcoming),
            needs_info: count(&statuses, Status::NeedsInfo),
        })
        .collect();
    let filters = [
        (None, ui.t("全部", "All")),
        (Some(Status::Met), ui.t("现在可以申请", "Can apply now")),
        (Some(Status::Upcoming), ui.t("即将可以申请", "Opens soon")),
        (
            Some(Status::NeedsInfo),
            ui.t("需要补充信息", "Needs information"),
        ),
    ]
    .into_iter()
    .map(|(status, label)| Filter {
        value: status.map_or("", Status::as_str),
        label,
        chosen: status == wanted,
    })
    .collect();
    let page = CohortPage {
        id: cohort.id,
        name: cohort.name,
        filters,
        learners,
        csrf: session.csrf_token.clone(),
        invited: query
            .invited
            .as_deref()
            .map(|outcome| invitation_words(&ui, outcome)),
        upload_script: super::assets::upload_script_url(),
        ui,
    };
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}
