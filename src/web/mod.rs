//! The pages people use, server-rendered from templates compiled into the binary, mobile-first,
//! in Chinese or English. Each page calls the same use cases as the JSON API (never the API
//! over HTTP); the session is a cookie (`session.rs`), forms carry CSRF tokens, and failures
//! answer as pages (`error.rs`).

mod access;
mod assets;
mod certificates;
mod cohort_upload;
mod cohorts;
mod error;
mod evaluations;
mod inbox;
mod institution;
mod login;
mod my_data;
mod preferences;
mod progress;
mod session;
mod shared_with_us;
mod shares;
mod ui;
mod verify;
mod what_if;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use serde::Deserialize;

use crate::domain::{Language, Role};
use crate::error::AppError;
use error::PageError;
use session::Visitor;
use ui::{Ui, LANGUAGE_COOKIE};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(error::FORM_LIMIT)
            .error_handler(error::form_error),
    )
    .route("/", web::get().to(front_door))
    .route("/login", web::get().to(login::form))
    .route("/login", web::post().to(login::submit))
    .route("/logout", web::post().to(login::logout))
    .route("/forgot", web::get().to(access::forgot_form))
    .route("/forgot", web::post().to(access::forgot))
    .route("/welcome/{token}", web::get().to(access::choose_form))
    .route("/welcome/{token}", web::post().to(access::choose))
    .route("/reset/{token}", web::get().to(access::choose_form))
    .route("/reset/{token}", web::post().to(access::choose))
    .route("/progress", web::get().to(progress::page))
    .route("/what-if", web::get().to(what_if::page))
    .route("/learners/{id}", web::get().to(progress::of_learner))
    .route("/certificates/new", web::get().to(certificates::form))
    .route("/certificates", web::post().to(certificates::submit))
    .route("/inbox", web::get().to(inbox::page))
    .route("/inbox/read", web::post().to(inbox::read_all))
    .route("/shares", web::get().to(shares::page))
    .route("/shares", web::post().to(shares::make))
    .route("/shares/{id}/revoke", web::post().to(shares::revoke))
    .route("/my-data", web::get().to(my_data::page))
    .route("/my-data/export", web::get().to(my_data::download))
    .route(
        "/my-data/calendar",
        web::post().to(my_data::calendar_action),
    )
    .route(
        "/my-data/deletion",
        web::post().to(my_data::deletion_action),
    )
    .route(
        "/my-data/corrections",
        web::post().to(my_data::ask_correction),
    )
    .route("/preferences", web::get().to(preferences::page))
    .route("/preferences", web::post().to(preferences::save))
    .route("/institutions/{id}", web::get().to(institution::page))
    .route("/cohorts", web::get().to(cohorts::list))
    .route("/cohorts/{id}", web::get().to(cohorts::show))
    .route(
        "/cohorts/{id}/import",
        web::post().to(cohort_upload::import),
    )
    .route(
        "/cohorts/{cohort}/learners/{learner}/invite",
        web::post().to(cohorts::invite),
    )
    .route("/evaluations", web::get().to(evaluations::queue))
    .route("/verify", web::get().to(verify::page))
    .route("/shared-with-us", web::get().to(shared_with_us::page))
    .route("/verify", web::post().to(verify::check))
    .route("/evaluations/{id}", web::post().to(evaluations::decide))
    .route("/language", web::get().to(choose_language))
    .route("/static/{hash}/{name}", web::get().to(assets::serve))
    .route("/sw.js", web::get().to(assets::service_worker))
    .route("/manifest.webmanifest", web::get().to(assets::manifest));
}

/// A template as a page's body.
fn render(page: &impl Template) -> Result<String, PageError> {
    page.render()
        .map_err(|e| AppError::internal("rendering a page", e).into())
}

/// A page answer: HTML, never kept by a shared cache (pages are personal).
fn html(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// `path` if it is a path of this site, for redirects a visitor's input chooses: it starts with
/// one `/`, and holds no backslash, whitespace or control character (browsers drop tabs and
/// line breaks from addresses, so `/\t/evil.example` would read as `//evil.example`).
fn local_path(path: &str) -> Option<&str> {
    let plain = !path
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    (plain && path.starts_with('/') && !path.starts_with("//")).then_some(path)
}

/// The login page, coming back to `path` after it.
fn login_then(path: &str) -> String {
    let mut encoded = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("/login?next={encoded}")
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ui: Ui,
    email: String,
    role: &'static str,
}

/// `GET /`: the login page for a stranger, their progress for a learner, and for staff their
/// account and where their work is.
async fn front_door(req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let Some(session) = visitor.session else {
        return Ok(see_other("/login"));
    };
    match session.user.role {
        Role::Learner => return Ok(see_other("/progress")),
        Role::Evaluator => return Ok(see_other("/evaluations")),
        Role::EmployerHr => return Ok(see_other("/verify")),
        Role::CollegeStaff => return Ok(see_other("/cohorts")),
        _ => {}
    }
    let ui = Ui::signed(&req, &session);
    let role = match session.user.role {
        Role::Admin => ui.t("管理员", "Administrator"),
        Role::CollegeStaff => ui.t("院校工作人员", "College staff"),
        Role::EmployerHr => ui.t("企业人力资源", "Enterprise HR"),
        Role::Evaluator => ui.t("评价核验人员", "Evaluator"),
        Role::Learner => ui.t("学员", "Learner"),
    };
    let page = HomePage {
        ui,
        email: session.user.email,
        role,
    };
    Ok(html(StatusCode::OK).body(render(&page)?))
}

#[derive(Deserialize)]
struct LanguageChoice {
    set: String,
    back: Option<String>,
}

/// `GET /language?set=en&back=/progress`: remembers the reader's language, then goes back (to a
/// path of this site only).
async fn choose_language(
    state: web::Data<crate::state::AppState>,
    query: web::Query<LanguageChoice>,
) -> HttpResponse {
    let language = query.set.parse::<Language>().unwrap_or(Language::ZhCn);
    let back = query.back.as_deref().and_then(local_path).unwrap_or("/");
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .cookie(session::cookie(
            &state,
            LANGUAGE_COOKIE,
            language.as_str().to_owned(),
            365 * 24 * 3600,
        ))
        .finish()
}
