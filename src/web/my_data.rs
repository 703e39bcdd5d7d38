//! A learner's page about their own data: download a copy of everything, the private calendar
//! feed (turn on, new address, turn off), correction requests (ask about their name or birth
//! date; see where each stands), and the deletion of their account (ask, cancel). Each form
//! calls the same use cases as the JSON API.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::db;
use crate::db::corrections::Listing;
use crate::domain::{today_in_shanghai, CorrectionRecord, CorrectionStatus, LearnerId};
use crate::error::AppError;
use crate::services::calendar::{self, FeedAddress};
use crate::services::personal_data::corrections::{self, CorrectionForm};
use crate::services::personal_data::erasure;
use crate::services::personal_data::export::{self, RequestedBy};
use crate::state::AppState;

struct CorrectionView {
    fields: String,
    reason: String,
    status: &'static str,
    decision_reason: String,
}

#[derive(Template)]
#[template(path = "my_data.html")]
struct MyDataPage {
    ui: Ui,
    csrf: String,
    calendar_on: bool,
    /// The feed's address, shown only when just made.
    calendar: Option<FeedAddress>,
    /// The day erasure is due, when the learner asked for it.
    deletion_due: Option<String>,
    corrections: Vec<CorrectionView>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// What the page shows besides the learner's data: a new feed address, a word on what was done,
/// or a refusal.
#[derive(Default)]
struct Shown {
    calendar: Option<FeedAddress>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

impl Shown {
    fn notice(text: &'static str) -> Self {
        Self {
            notice: Some(text),
            ..Self::default()
        }
    }
}

/// The page again with a refusal (422).
async fn refused(
    state: &AppState,
    req: &HttpRequest,
    session: WebSession,
    error: &'static str,
) -> Result<HttpResponse, PageError> {
    let shown = Shown {
        error: Some(error),
        ..Shown::default()
    };
    show(state, req, session, StatusCode::UNPROCESSABLE_ENTITY, shown).await
}

async fn show(
    state: &AppState,
    req: &HttpRequest,
    session: WebSession,
    status: StatusCode,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let learner_id = session.user.own_learner_id()?;
    let (feed, deletion, rows) = state
        .db
        .read(move |conn| {
            Ok((
                calendar::state(conn, learner_id)?,
                erasure::pending(conn, learner_id)?,
                corrections::list(conn, Listing::Learner(learner_id), None, None, 50)?,
            ))
        })
        .await?;
    let ui = Ui::signed(req, &session);
    let corrections = rows
        .into_iter()
        .map(|r| CorrectionView {
            fields: serde_json::from_str(&r.changes)
                .ok()
                .and_then(|v| corrections::fields_of(&v).ok())
                .unwrap_or_default()
                .join(", "),
            reason: r.reason,
            status: match r.status {
                CorrectionStatus::Pending => ui.t("待处理", "waiting"),
                CorrectionStatus::Accepted => ui.t("已接受", "accepted"),
                CorrectionStatus::Refused => ui.t("未接受", "refused"),
            },
            decision_reason: r.decision_reason.unwrap_or_default(),
        })
        .collect();
    let page = MyDataPage {
        csrf: session.csrf_token,
        calendar_on: feed.enabled,
        calendar: shown.calendar,
        deletion_due: deletion.map(|d| erasure::erase_on(&d).to_string()),
        corrections,
        notice: shown.notice,
        error: shown.error,
        ui,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

/// `GET /my-data`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    show(&state, &req, session, StatusCode::OK, Shown::default()).await
}

/// `GET /my-data/export`: the zip of everything (as `GET /api/v1/me/export`).
pub async fn download(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let by = RequestedBy::TheLearner(session.user.id);
    let zip = export::make_copy(&state.db, learner_id, by).await?;
    Ok(crate::downloads::attachment(
        "application/zip",
        &export::file_name(learner_id),
        zip,
    ))
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    /// `on` (turn on or give a new address), `off`; `ask`, `cancel` for deletion.
    #[serde(default)]
    action: String,
    /// The deletion's confirmation checkbox.
    confirm: Option<String>,
}

fn signed_learner(visitor: Visitor, csrf: &str) -> Result<(WebSession, LearnerId), PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    session.check_csrf(csrf)?;
    Ok((session, learner_id))
}

/// `POST /my-data/calendar`: turns the feed on (a new address, shown once) or off.
pub async fn calendar_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (session, learner_id) = signed_learner(visitor, &form.csrf)?;
    let ui = Ui::new(&req, None);
    let shown = match form.action.as_str() {
        "off" => {
            state
                .db
                .write(move |conn| calendar::disable(conn, learner_id))
                .await?;
            Shown::notice(ui.t("日历订阅已关闭。", "The calendar feed is off."))
        }
        "on" => {
            let public_url = state.settings.notify.public_url.clone();
            let address = state
                .db
                .write(move |conn| calendar::enable(conn, learner_id, &public_url, db::now()))
                .await?;
            Shown {
                calendar: Some(address),
                ..Shown::default()
            }
        }
        // No button of the page sends anything else: the address in use stays as it is.
        _ => {
            let error = ui.t("未知的操作。", "Unknown action.");
            return refused(&state, &req, session, error).await;
        }
    };
    show(&state, &req, session, StatusCode::OK, shown).await
}

/// `POST /my-data/deletion`: asks for the deletion of the account (the box ticked) or cancels it.
pub async fn deletion_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (session, learner_id) = signed_learner(visitor, &form.csrf)?;
    let ui = Ui::new(&req, None);
    let actor = session.user.id;
    let shown = match form.action.as_str() {
        "cancel" => {
            state
                .db
                .write(move |conn| erasure::cancel(conn, learner_id, actor, db::now()))
                .await?;
            Shown::notice(ui.t("已取消删除账户。", "The deletion is cancelled."))
        }
        _ if form.confirm.is_none() => {
            let error = ui.t(
                "请勾选确认后再申请删除账户。",
                "Tick the confirmation to ask for the deletion.",
            );
            return refused(&state, &req, session, error).await;
        }
        _ => {
            state
                .db
                .write(move |conn| {
                    erasure::request(conn, learner_id, actor, today_in_shanghai(), db::now())
                })
                .await?;
            Shown::notice(ui.t("已安排删除账户。", "Your account is due to be deleted."))
        }
    };
    show(&state, &req, session, StatusCode::OK, shown).await
}

#[derive(Deserialize)]
pub struct CorrectionPageForm {
    csrf: String,
    /// `name` or `birth_date`.
    field: String,
    value: String,
    reason: String,
}

/// `POST /my-data/corrections`: asks to correct the learner's name or birth date.
pub async fn ask_correction(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<CorrectionPageForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let (session, learner_id) = signed_learner(visitor, &form.csrf)?;
    let ui = Ui::new(&req, None);
    // A field the learner may not ask about is refused by the service, as through the API.
    let request = CorrectionForm {
        record: CorrectionRecord::Learner,
        record_id: None,
        changes: serde_json::json!({ form.field.as_str(): form.value.trim() }),
        reason: form.reason,
    };
    let actor = session.user.id;
    let app = state.clone();
    let asked = state
        .db
        .write(move |conn| {
            corrections::request(
                conn,
                learner_id,
                actor,
                request,
                &app.identity_vault,
                db::now(),
            )
        })
        .await;
    let shown = match asked {
        Ok(_) => Shown::notice(ui.t("更正申请已提交。", "Your correction request was sent.")),
        Err(AppError::Validation(_)) => {
            let error = ui.t(
                "请填写正确的新值（出生日期格式如 2001-05-20）和理由。",
                "Give the right value (a birth date as 2001-05-20) and a reason.",
            );
            return refused(&state, &req, session, error).await;
        }
        Err(other) => return Err(other.into()),
    };
    show(&state, &req, session, StatusCode::OK, shown).await
}
