//! HR staff verify a share code: the records the learner shared, as they stand today. The link
//! a learner gives HR opens this page (after a login when needed); a revoked or expired share
//! says so.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::domain::Role;
use crate::error::AppError;
use crate::rules::Text;
use crate::services::sharing::access::Verification;
use crate::state::AppState;
use crate::{db, services::sharing};

struct CertificateView {
    level: String,
    occupation: String,
    number: String,
    issuer: String,
    issued: String,
    status: &'static str,
    status_label: &'static str,
}

struct MilestoneView {
    title: String,
    date: Option<String>,
}

struct SharedView {
    name: String,
    purpose: Option<String>,
    expires: Option<String>,
    as_of: String,
    certificates: Vec<CertificateView>,
    milestones: Vec<MilestoneView>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    ui: Ui,
    csrf: String,
    code: String,
    error: Option<&'static str>,
    shared: Option<SharedView>,
    scan_script: &'static str,
    decoder: &'static str,
}

impl VerifyPage {
    fn new(ui: Ui, csrf: String, code: String) -> Self {
        VerifyPage {
            ui,
            csrf,
            code,
            error: None,
            shared: None,
            scan_script: super::assets::scan_script_url(),
            decoder: super::assets::qr_decoder_url(),
        }
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

fn text(ui: &Ui, t: &Text) -> String {
    ui.t(t.zh.as_ref(), t.en.as_ref()).to_owned()
}

fn shared_view(ui: &Ui, v: Verification) -> SharedView {
    SharedView {
        name: v.view.display_name,
        purpose: v.purpose,
        expires: v.expires_at.map(|t| ui.day_of(t.naive_utc())),
        as_of: ui.date(v.view.as_of),
        certificates: v
            .view
            .certificates
            .iter()
            .map(|c| CertificateView {
                level: text(ui, &c.level_name),
                occupation: c.occupation_code.clone(),
                number: c.number.clone(),
                issuer: c.issuer.clone(),
                issued: ui.date(c.issued_on),
                status: c.status.as_str(),
                status_label: ui.certificate_status(c.status),
            })
            .collect(),
        milestones: v
            .view
            .milestones
            .iter()
            .map(|m| MilestoneView {
                title: text(ui, &m.title),
                date: m.eligible_from.map(|d| ui.date(d)),
            })
            .collect(),
    }
}

/// `GET /verify` and `GET /verify?code=…` (the learner's link): the code form, filled in. Only
/// the form's submission looks the code up, so that no other site can make an HR user's
/// browser look at a share (and tell its owner who looked) or spend their attempts. A link
/// opened without a session leads to the login page and back here.
pub async fn page(
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(session) = visitor.session else {
        let back = format!("{}?{}", req.path(), req.query_string());
        return Ok(super::see_other(&super::login_then(&back)));
    };
    session.user.require(&[Role::EmployerHr])?;
    let page = VerifyPage::new(
        Ui::signed(&req, &session),
        session.csrf_token,
        query.code.clone().unwrap_or_default().trim().to_owned(),
    );
    Ok(super::html(StatusCode::OK).body(super::render(&page)?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /verify`: what the code shows. Unknown codes count against the same limiter as the
/// API's; a revoked or expired share says so.
pub async fn check(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.user.require(&[Role::EmployerHr])?;
    session.check_csrf(&form.csrf)?;
    let ui = Ui::signed(&req, &session);
    let code = form.code.trim().to_owned();
    let account = session.user.id.to_string();
    let address = crate::client_address::client_address(&req, &state.settings);
    let (status, error, shared) = match state.share_code_limiter.attempt(&account, &address).await {
        Err(AppError::TooManyRequests { .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Some(ui.t(
                "尝试次数过多，请稍后再试。",
                "Too many attempts; please try again later.",
            )),
            None,
        ),
        Err(other) => return Err(other.into()),
        Ok(attempt) => {
            let parameters = state.parameters.clone();
            let caller = session.user.clone();
            let lookup = code.clone();
            let found = state
                .db
                .write(move |conn| {
                    sharing::access::verify_code(conn, &parameters, &caller, &lookup, db::now())
                })
                .await;
            if !matches!(found, Err(AppError::NotFound { .. })) {
                attempt.not_a_failure().await;
            }
            match found {
                Ok(v) => (StatusCode::OK, None, Some(shared_view(&ui, v))),
                Err(AppError::NotFound { .. }) => (
                    StatusCode::NOT_FOUND,
                    Some(ui.t(
                        "找不到该共享码，请核对后重试。",
                        "No share has this code; check it and try again.",
                    )),
                    None,
                ),
                Err(AppError::Gone {
                    code: "share_revoked",
                    ..
                }) => (
                    StatusCode::GONE,
                    Some(ui.t("学员已撤销该共享。", "The learner revoked this share.")),
                    None,
                ),
                Err(AppError::Gone { .. }) => (
                    StatusCode::GONE,
                    Some(ui.t("该共享已过期。", "This share has expired.")),
                    None,
                ),
                Err(other) => return Err(other.into()),
            }
        }
    };
    let page = VerifyPage {
        error,
        shared,
        ..VerifyPage::new(ui, session.csrf_token, code)
    };
    Ok(super::html(status).body(super::render(&page)?))
}
