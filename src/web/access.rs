//! Getting in without an administrator: a forgotten password reset by email, and an invitation
//! accepted by choosing a password. The links come by email (`services::account_links`); their
//! pages show a form on GET and use the link only on the form's POST (with its CSRF token), so
//! that a mail scanner opening the link uses nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::login::{anonymous_form_ok, anonymous_form_token, start_session};
use super::ui::Ui;
use crate::auth::password;
use crate::db;
use crate::domain::{EmailAddress, LinkPurpose, NewPassword};
use crate::error::AppError;
use crate::services::account_links;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    ui: Ui,
    csrf: String,
    email: String,
    sent: bool,
    error: Option<&'static str>,
}

fn forgot_page(
    state: &AppState,
    req: &HttpRequest,
    email: String,
    sent: bool,
    error: Option<(&'static str, &'static str)>,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::new(req, None);
    let (csrf, cookie) = anonymous_form_token(state);
    let error = error.map(|(zh, en)| ui.t(zh, en));
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ForgotPage {
        ui,
        csrf,
        email,
        sent,
        error,
    };
    let body = super::render(&page)?;
    Ok(super::html(status).cookie(cookie).body(body))
}

/// `GET /forgot`
pub async fn forgot_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    forgot_page(&state, &req, String::new(), false, None)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
    csrf: String,
}

/// `POST /forgot`: the same answer whether or not the address has an account.
pub async fn forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    let ForgotForm { email, csrf } = form.into_inner();
    if !anonymous_form_ok(&req, &csrf) {
        return forgot_page(
            &state,
            &req,
            email,
            false,
            Some((
                "页面已过期，请重新提交。",
                "The form expired; please submit it again.",
            )),
        );
    }
    let Ok(address) = EmailAddress::parse(&email) else {
        return forgot_page(
            &state,
            &req,
            email,
            false,
            Some(("请输入有效的邮箱地址。", "Enter a valid email address.")),
        );
    };
    let client = crate::client_address::client_address(&req, &state.settings);
    // Every request counts (per address asked for and per client): no mailbox can be flooded.
    match state.reset_limiter.attempt(address.as_str(), &client).await {
        Ok(_counted) => {}
        Err(AppError::TooManyRequests { .. }) => {
            return forgot_page(
                &state,
                &req,
                email,
                false,
                Some((
                    "请求次数过多，请稍后再试。",
                    "Too many requests; please try again later.",
                )),
            )
        }
        Err(other) => return Err(other.into()),
    }
    let st = state.clone();
    state
        .db
        .write(move |conn| {
            account_links::request_reset(conn, st.link_context(), address.as_str(), db::now())
        })
        .await?;
    forgot_page(&state, &req, String::new(), true, None)
}

#[derive(Template)]
#[template(path = "choose_password.html")]
struct ChoosePasswordPage {
    ui: Ui,
    heading: &'static str,
    button: &'static str,
    action: String,
    csrf: String,
    /// The account's address; `None` when the link cannot be used.
    email: Option<String>,
    form_error: Option<&'static str>,
    password_error: Option<&'static str>,
    confirm_error: Option<&'static str>,
}

/// The refusals a password form can show, each at its field.
#[derive(Default)]
struct Refusals {
    form: Option<(&'static str, &'static str)>,
    password: Option<(&'static str, &'static str)>,
    confirm: Option<(&'static str, &'static str)>,
}

impl Refusals {
    fn any(&self) -> bool {
        self.form.is_some() || self.password.is_some() || self.confirm.is_some()
    }
}

fn purpose_of(path: &str) -> LinkPurpose {
    if path.starts_with("/welcome/") {
        LinkPurpose::Invitation
    } else {
        LinkPurpose::PasswordReset
    }
}

fn choose_page(
    state: &AppState,
    req: &HttpRequest,
    purpose: LinkPurpose,
    email: Option<String>,
    refusals: Refusals,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::new(req, None);
    let (csrf, cookie) = anonymous_form_token(state);
    let (heading, button) = match purpose {
        LinkPurpose::Invitation => (
            ui.t("开通账户", "Activate your account"),
            ui.t("设置密码并登录", "Set the password and log in"),
        ),
        LinkPurpose::PasswordReset => (
            ui.t("设置新密码", "Choose a new password"),
            ui.t("保存新密码并登录", "Save it and log in"),
        ),
    };
    let status = match (&email, refusals.any()) {
        (None, _) => StatusCode::GONE,
        (Some(_), true) => StatusCode::UNPROCESSABLE_ENTITY,
        (Some(_), false) => StatusCode::OK,
    };
    let say = |m: Option<(&'static str, &'static str)>| m.map(|(zh, en)| ui.t(zh, en));
    let page = ChoosePasswordPage {
        form_error: say(refusals.form),
        password_error: say(refusals.password),
        confirm_error: say(refusals.confirm),
        heading,
        button,
        action: req.path().to_owned(),
        csrf,
        email,
        ui,
    };
    let body = super::render(&page)?;
    Ok(super::html(status).cookie(cookie).body(body))
}

/// The address a usable link was sent to, or `None` (any reason: one answer for all).
async fn usable_link(
    state: &AppState,
    token: String,
    purpose: LinkPurpose,
) -> Result<Option<String>, PageError> {
    let found = state
        .db
        .read(move |conn| account_links::find_usable(conn, &token, purpose, db::now()))
        .await;
    match found {
        Ok(link) => Ok(Some(link.email)),
        Err(AppError::Gone { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// `GET /welcome/{token}` and `GET /reset/{token}`: the form, if the link can be used.
pub async fn choose_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let purpose = purpose_of(req.path());
    let email = usable_link(&state, token.into_inner(), purpose).await?;
    choose_page(&state, &req, purpose, email, Refusals::default())
}

#[derive(Deserialize)]
pub struct ChooseForm {
    password: String,
    confirm: String,
    csrf: String,
}

/// `POST /welcome/{token}` and `POST /reset/{token}`: uses the link, sets the password, and
/// logs the person in.
pub async fn choose(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<ChooseForm>,
) -> Result<HttpResponse, PageError> {
    let purpose = purpose_of(req.path());
    let token = token.into_inner();
    let ChooseForm {
        password,
        confirm,
        csrf,
    } = form.into_inner();
    let Some(email) = usable_link(&state, token.clone(), purpose).await? else {
        return choose_page(&state, &req, purpose, None, Refusals::default());
    };
    let mut refusals = Refusals::default();
    if !anonymous_form_ok(&req, &csrf) {
        refusals.form = Some((
            "页面已过期，请重新提交。",
            "The form expired; please submit it again.",
        ));
    }
    let chosen = NewPassword::parse(&password);
    if chosen.is_err() {
        refusals.password = Some((
            "密码须为 12 至 128 个字符，且不能只有空格。",
            "A password has 12 to 128 characters, not only spaces.",
        ));
    } else if password != confirm {
        refusals.confirm = Some(("两次输入的密码不一致。", "The two passwords differ."));
    }
    let chosen = match chosen {
        Ok(chosen) if !refusals.any() => chosen,
        _ => return choose_page(&state, &req, purpose, Some(email), refusals),
    };
    let hash = password::hash_new(chosen).await?;
    let used = state
        .db
        .write(move |conn| match purpose {
            LinkPurpose::Invitation => account_links::activate(conn, &token, &hash, db::now()),
            LinkPurpose::PasswordReset => {
                account_links::reset_password(conn, &token, &hash, db::now())
            }
        })
        .await;
    let user = match used {
        Ok(user) => user,
        // Used by another request meanwhile.
        Err(AppError::Gone { .. }) => {
            return choose_page(&state, &req, purpose, None, Refusals::default())
        }
        Err(other) => return Err(other.into()),
    };
    start_session(&state, &req, user, "/").await
}
