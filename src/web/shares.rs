//! A learner's shares: make one for an enterprise (or any) with a purpose and a validity, see
//! its code, link and QR code once, revoke it, and see who looked at what they shared.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use qrcode::render::svg;
use qrcode::QrCode;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::db::{self, shares as share_rows};
use crate::domain::{CertificateId, InstitutionId, ShareId};
use crate::error::AppError;
use crate::services::institutions as institutions_service;
use crate::services::sharing::{self, create, ShareStatus};
use crate::state::AppState;

/// Enterprises offered in the form at most (beyond: a share for any enterprise).
const ENTERPRISES: i64 = 500;
/// Shares and accesses listed.
const LISTED: i64 = 50;

struct ShareView {
    id: ShareId,
    purpose: String,
    enterprise: String,
    until: String,
    active: bool,
    status_label: &'static str,
}

/// A record the learner may share, offered as a checkbox (all ticked at first).
struct Choice {
    value: String,
    label: String,
}

struct AccessView {
    when: String,
    who: String,
}

struct NewShareView {
    code: String,
    link: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "shares.html")]
struct SharesPage {
    ui: Ui,
    csrf: String,
    enterprises: Vec<(InstitutionId, String)>,
    shares: Vec<ShareView>,
    accesses: Vec<AccessView>,
    /// The verified certificates and the milestones met today, to choose from.
    certificate_choices: Vec<Choice>,
    milestone_choices: Vec<Choice>,
    created: Option<NewShareView>,
    purpose: String,
    days: String,
    /// The longest validity a share may have, in days.
    max_days: i64,
    /// The consent text (in the page's language) and its version, agreed to with a checkbox.
    consent_text: String,
    consent_version: &'static str,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    req: &HttpRequest,
    session: WebSession,
    status: StatusCode,
    created: Option<NewShareView>,
    typed: (String, String),
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let learner_id = session.user.own_learner_id()?;
    let ui = Ui::signed(req, &session);
    let parameters = state.parameters.clone();
    let (enterprises, shares, accesses, shareable) = state
        .db
        .read(move |conn| {
            let records = sharing::Records::load(
                conn,
                &parameters,
                learner_id,
                crate::domain::today_in_shanghai(),
            )?;
            Ok((
                institutions_service::enterprises(conn, ENTERPRISES)?,
                sharing::own_shares(conn, learner_id, None, LISTED)?,
                share_rows::accesses_of(conn, learner_id, None, None, LISTED)?,
                records.view("", &sharing::Selection::VerifiedAndMet)?,
            ))
        })
        .await?;
    let certificate_choices = shareable
        .certificates
        .iter()
        .map(|c| Choice {
            value: c.id.to_string(),
            label: format!(
                "{} · {} · {}",
                ui.level(c.level),
                c.occupation_code,
                ui.date(c.issued_on)
            ),
        })
        .collect();
    let milestone_choices = shareable
        .milestones
        .iter()
        .map(|m| Choice {
            value: m.key.clone(),
            label: ui.t(m.title.zh.as_ref(), m.title.en.as_ref()).to_owned(),
        })
        .collect();
    let now = db::now();
    let shares = shares
        .into_iter()
        .map(|(row, enterprise)| {
            let status = sharing::share_status(&row, now);
            ShareView {
                id: row.id,
                purpose: row.purpose.clone(),
                enterprise: enterprise
                    .map(|e| e.name)
                    .unwrap_or_else(|| ui.t("任何企业", "any enterprise").to_owned()),
                until: ui.moment(row.expires_at),
                active: status == ShareStatus::Active,
                status_label: ui.share_status(status),
            }
        })
        .collect();
    let accesses = accesses
        .into_iter()
        .map(|(row, email, institution)| AccessView {
            when: ui.moment(row.accessed_at),
            who: match institution {
                Some(name) => format!("{name} · {email}"),
                None => email,
            },
        })
        .collect();
    let page = SharesPage {
        csrf: session.csrf_token,
        enterprises,
        shares,
        accesses,
        certificate_choices,
        milestone_choices,
        created,
        purpose: typed.0,
        days: typed.1,
        max_days: create::MAX_DAYS,
        consent_text: {
            let text = sharing::consent::text();
            ui.t(&text.zh, &text.en).to_owned()
        },
        consent_version: sharing::consent::VERSION,
        error,
        ui,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

/// The page again with a refusal, what was typed kept.
async fn refused(
    state: &AppState,
    req: &HttpRequest,
    session: WebSession,
    typed: (String, String),
    message: impl Into<String>,
) -> Result<HttpResponse, PageError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    show(
        state,
        req,
        session,
        status,
        None,
        typed,
        Some(message.into()),
    )
    .await
}

/// `GET /shares`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let days = create::DEFAULT_DAYS.to_string();
    show(
        &state,
        &req,
        session,
        StatusCode::OK,
        None,
        (String::new(), days),
        None,
    )
    .await
}

/// The share form: its fields, and the records ticked (`certificate`, `milestone`, each
/// repeated; `chosen` says the form offered the choice, so that none ticked means none).
#[derive(Default)]
pub struct ShareForm {
    csrf: String,
    purpose: String,
    enterprise: String,
    days: String,
    chosen: bool,
    consent: String,
    certificates: Vec<String>,
    milestones: Vec<String>,
}

impl ShareForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "purpose" => form.purpose = value,
                "enterprise" => form.enterprise = value,
                "days" => form.days = value,
                "chosen" => form.chosen = true,
                "consent" => form.consent = value,
                "certificate" => form.certificates.push(value),
                "milestone" => form.milestones.push(value),
                _ => {}
            }
        }
        form
    }
}

/// `POST /shares`: makes the share; the page then shows its code, link and QR code (once: the
/// code is stored only hashed).
pub async fn make(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let form = ShareForm::from_pairs(form.into_inner());
    session.check_csrf(&form.csrf)?;
    let ui = Ui::new(&req, None);
    let typed = (form.purpose.clone(), form.days.clone());
    let days = match form.days.trim().parse::<i64>() {
        Ok(days) if (1..=create::MAX_DAYS).contains(&days) => days,
        _ => {
            let max = create::MAX_DAYS;
            let message = match ui.language {
                crate::domain::Language::ZhCn => format!("有效天数须为 1 至 {max}。"),
                crate::domain::Language::En => format!("Days valid must be 1 to {max}."),
            };
            return refused(&state, &req, session, typed, message).await;
        }
    };
    let enterprise_id = match form.enterprise.trim() {
        "" => None,
        chosen => match chosen.parse::<InstitutionId>() {
            Ok(id) => Some(id),
            Err(_) => {
                let message = ui.t(
                    "请从列表中选择企业。",
                    "Choose the enterprise from the list.",
                );
                return refused(&state, &req, session, typed, message).await;
            }
        },
    };
    let certificate_ids: Result<Vec<CertificateId>, _> =
        form.certificates.iter().map(|c| c.parse()).collect();
    let Ok(certificate_ids) = certificate_ids else {
        let message = ui.t("请从列表中选择证书。", "Choose certificates from the list.");
        return refused(&state, &req, session, typed, message).await;
    };
    let now = db::now();
    let request = create::Request {
        purpose: form.purpose,
        enterprise_id,
        certificate_ids: form.chosen.then_some(certificate_ids),
        milestone_keys: form.chosen.then_some(form.milestones),
        expires_at: Some(now + chrono::Duration::days(days)),
        consent_version: Some(form.consent),
    };
    let (draft, code) = match request.draft(learner_id, session.user.id, now) {
        Ok(drafted) => drafted,
        // The use case checks the consent as it does through the API; the page says which
        // field it refused.
        Err(AppError::Validation(fields)) => {
            let message = if fields
                .iter()
                .any(|f| f.field == sharing::create::CONSENT_FIELD)
            {
                ui.t(
                    "请阅读下面的同意书，勾选同意后再创建共享。",
                    "Read the consent below and tick it to create the share.",
                )
            } else {
                ui.t(
                    "请填写用途（至多200字）。",
                    "Give a purpose (at most 200 characters).",
                )
            };
            return refused(&state, &req, session, typed, message).await;
        }
        Err(other) => return Err(other.into()),
    };
    let st = state.clone();
    let made = state
        .db
        .write(move |conn| create::create(conn, &st.sharing_context(), draft))
        .await;
    match made {
        Ok(_) => {}
        Err(AppError::Validation(_)) => {
            let message = ui.t(
                "无法创建该共享：请选择列表中的企业，并至少选择一项已核验的证书或已满足的里程碑。",
                "This share cannot be made: choose an enterprise from the list, and at least one verified certificate or met milestone.",
            );
            return refused(&state, &req, session, typed, message).await;
        }
        Err(other) => return Err(other.into()),
    }
    let link = create::link(&state.settings.notify.public_url, &code);
    let qr_svg = QrCode::new(link.as_bytes())
        .map_err(|e| AppError::internal("QR code", e))?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: the element without its XML declaration.
    let qr_svg = qr_svg[qr_svg.find("<svg").unwrap_or(0)..].to_owned();
    let created = NewShareView { code, link, qr_svg };
    let days = create::DEFAULT_DAYS.to_string();
    show(
        &state,
        &req,
        session,
        StatusCode::CREATED,
        Some(created),
        (String::new(), days),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
}

/// `POST /shares/{id}/revoke`
pub async fn revoke(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<ShareId>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    session.check_csrf(&form.csrf)?;
    let (actor, id) = (session.user.id, id.into_inner());
    state
        .db
        .write(move |conn| sharing::revoke(conn, actor, learner_id, id, db::now()))
        .await?;
    Ok(super::see_other("/shares"))
}
