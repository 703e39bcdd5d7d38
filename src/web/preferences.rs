//! A learner's notification preferences: email per category, the inbox for views of shared
//! records, and quiet hours for email. The inbox copies of certificate decisions and milestones
//! stay on (they concern rights and deadlines).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::domain::Category;
use crate::error::AppError;
use crate::notify::preferences::Preferences;
use crate::services::notifications as notices;
use crate::state::AppState;

struct CategoryView {
    key: &'static str,
    name: &'static str,
    email: bool,
    inbox: bool,
    /// Whether the learner may turn the inbox copy off.
    inbox_optional: bool,
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    ui: Ui,
    csrf: String,
    categories: Vec<CategoryView>,
    quiet_start: String,
    quiet_end: String,
    saved: bool,
    /// The field a refusal names, and what it says.
    error: Option<(String, &'static str)>,
}

impl PreferencesPage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, message)| *message)
    }
}

fn show(
    req: &HttpRequest,
    session: WebSession,
    prefs: &Preferences,
    saved: bool,
    error: Option<(String, &'static str)>,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::signed(req, &session);
    let categories = Preferences::chosen_categories()
        .map(|c| {
            let (zh, en) = c.names();
            let channels = prefs.channels(c);
            CategoryView {
                key: c.as_str(),
                name: ui.t(zh, en),
                email: channels.email,
                inbox: channels.inbox,
                inbox_optional: c == Category::Share,
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = PreferencesPage {
        ui,
        csrf: session.csrf_token,
        categories,
        quiet_start: prefs.quiet_hours.start.clone(),
        quiet_end: prefs.quiet_hours.end.clone(),
        saved,
        error,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /preferences`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let prefs = state
        .db
        .read(move |conn| crate::notify::load_preferences(conn, learner_id))
        .await?;
    show(&req, session, &prefs, query.saved.is_some(), None)
}

/// The form as sent: a checkbox left unchecked is absent.
#[derive(Deserialize)]
pub struct PreferencesForm {
    csrf: String,
    email_certificate: Option<String>,
    email_milestone: Option<String>,
    email_share: Option<String>,
    inbox_share: Option<String>,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
}

/// `POST /preferences`: saves them; the form again, with the refusal at its field and what was
/// chosen kept, when they cannot be saved.
pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<PreferencesForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let mut prefs = Preferences::default();
    prefs.certificate.email = form.email_certificate.is_some();
    prefs.milestone.email = form.email_milestone.is_some();
    prefs.share.email = form.email_share.is_some();
    prefs.share.inbox = form.inbox_share.is_some();
    prefs.quiet_hours.start = form.quiet_start.trim().to_owned();
    prefs.quiet_hours.end = form.quiet_end.trim().to_owned();
    if let Err(AppError::Validation(errors)) = prefs.check() {
        let ui = Ui::new(&req, None);
        let field = errors.first().map(|e| e.field.clone()).unwrap_or_default();
        let message = ui.t("请填写时间，例如 22:00。", "Enter a time such as 22:00.");
        return show(&req, session, &prefs, false, Some((field, message)));
    }
    let stored = prefs.clone();
    state
        .db
        .write(move |conn| notices::save_preferences(conn, learner_id, &stored))
        .await?;
    Ok(super::see_other("/preferences?saved=1"))
}
