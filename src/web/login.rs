//! Logging in and out of the pages.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::{self, Visitor, LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS};
use super::ui::Ui;
use crate::auth::sessions::random_token;
use crate::auth::{login, web_session};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ui: Ui,
    csrf: String,
    /// Where to go after logging in (a path of this site).
    next: String,
    email: String,
    error: Option<&'static str>,
}

/// The CSRF token of a form shown before any session (log in, forgot, choose a password) and
/// the short-lived cookie that must carry the same value when the form comes back.
pub(super) fn anonymous_form_token(
    state: &AppState,
) -> (String, actix_web::cookie::Cookie<'static>) {
    let token = random_token();
    let cookie = session::cookie(state, LOGIN_COOKIE, token.clone(), 3600);
    (token, cookie)
}

/// Whether a form shown before any session came back with its cookie's token.
pub(super) fn anonymous_form_ok(req: &HttpRequest, given: &str) -> bool {
    req.cookie(LOGIN_COOKIE)
        .is_some_and(|c| web_session::csrf_matches(c.value(), given))
}

/// Starts a page session for `user` (ending the one `req` carries, if any) and answers with a
/// redirect to `next` that sets its cookie.
pub(super) async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user: crate::db::users::UserRow,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let earlier = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let (token, _) = state
        .db
        .write(move |conn| {
            if let Some(earlier) = earlier.filter(|t| !t.is_empty()) {
                web_session::end(conn, &earlier)?;
            }
            web_session::start(
                conn,
                &user,
                db::now(),
                chrono::Duration::hours(SESSION_HOURS),
            )
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_owned()))
        .cookie(session::cookie(
            state,
            SESSION_COOKIE,
            token,
            SESSION_HOURS * 3600,
        ))
        .cookie(session::removal(state, LOGIN_COOKIE))
        .finish())
}

fn login_page(
    state: &AppState,
    req: &HttpRequest,
    next: &str,
    email: String,
    error: Option<(&'static str, &'static str)>,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::new(req, None);
    let (csrf, cookie) = anonymous_form_token(state);
    let error = error.map(|(zh, en)| ui.t(zh, en));
    let page = LoginPage {
        ui,
        csrf,
        next: super::local_path(next).unwrap_or("/").to_owned(),
        email,
        error,
    };
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    let body = super::render(&page)?;
    Ok(super::html(status).cookie(cookie).body(body))
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /login?next=/verify%3Fcode%3D…`
pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<Next>,
) -> Result<HttpResponse, PageError> {
    let next = query
        .next
        .as_deref()
        .and_then(super::local_path)
        .unwrap_or("/");
    if visitor.session.is_some() {
        return Ok(super::see_other(next));
    }
    login_page(&state, &req, next, String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: a new session on the right credentials; the form again, with the address
/// kept, on wrong ones (which never say whether the address exists).
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let LoginForm {
        email,
        password,
        csrf,
        next,
    } = form.into_inner();
    let next = super::local_path(&next).unwrap_or("/").to_owned();
    if !anonymous_form_ok(&req, &csrf) {
        return login_page(
            &state,
            &req,
            &next,
            email,
            Some((
                "页面已过期，请重新提交。",
                "The form expired; please submit it again.",
            )),
        );
    }
    let account = email.trim().to_lowercase();
    let address = crate::client_address::client_address(&req, &state.settings);
    let attempt = match state.login_limiter.attempt(&account, &address).await {
        Ok(attempt) => attempt,
        Err(AppError::TooManyRequests { .. }) => {
            return login_page(
                &state,
                &req,
                &next,
                email,
                Some((
                    "尝试次数过多，请稍后再试。",
                    "Too many attempts; please try again later.",
                )),
            )
        }
        Err(other) => return Err(other.into()),
    };
    let Some(user) = login::authenticate(&state.db, &account, password).await? else {
        return login_page(
            &state,
            &req,
            &next,
            email,
            Some((
                "邮箱或密码不正确。",
                "The email or password is not correct.",
            )),
        );
    };
    attempt.succeeded().await;
    // A login over an earlier session ends that one.
    start_session(&state, &req, user, &next).await
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// `POST /logout`: ends the session (its CSRF token required) and forgets the cookie.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.check_csrf(&form.csrf)?;
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        state
            .db
            .write(move |conn| web_session::end(conn, &token))
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(session::removal(&state, SESSION_COOKIE))
        .finish())
}
