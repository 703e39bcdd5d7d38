//! A learner registers a certificate they hold: it waits, as `pending`, for an evaluator.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::domain::{CertificateKind, SkillLevel};
use crate::error::{AppError, FieldError};
use crate::services::certificates::{self as certificates_service, Submission};
use crate::state::AppState;

pub(super) struct Choice {
    pub(super) value: &'static str,
    pub(super) label: &'static str,
}

/// The skill levels to choose from, named in the reader's language.
pub(super) fn level_choices(ui: &Ui) -> Vec<Choice> {
    SkillLevel::ALL
        .iter()
        .map(|l| Choice {
            value: l.as_str(),
            label: ui.level(*l),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "certificate_new.html")]
struct NewCertificatePage {
    ui: Ui,
    csrf: String,
    kinds: Vec<Choice>,
    levels: Vec<Choice>,
    form: CertificateForm,
    /// (field, message) of each refusal.
    errors: Vec<(&'static str, &'static str)>,
}

impl NewCertificatePage {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| *m)
    }
}

fn kind_label(ui: &Ui, kind: CertificateKind) -> &'static str {
    match kind {
        CertificateKind::SkillLevel => ui.t("职业技能等级证书", "Skill level certificate"),
        CertificateKind::VocationalQualification => {
            ui.t("职业资格证书", "Vocational qualification certificate")
        }
        CertificateKind::PreparatoryTechnician => {
            ui.t("预备技师证书", "Preparatory technician certificate")
        }
    }
}

/// What each field's refusal says, in the reader's language.
fn message(ui: &Ui, field: &str) -> (&'static str, &'static str) {
    match field {
        "number" => (
            "number",
            ui.t(
                "请填写证书编号（至多40个字符）。",
                "Enter the certificate number (at most 40 characters).",
            ),
        ),
        "kind" => (
            "kind",
            ui.t("请选择证书类别。", "Choose the kind of certificate."),
        ),
        "level" => ("level", ui.t("请选择等级。", "Choose the level.")),
        "occupation_code" => (
            "occupation_code",
            ui.t(
                "请填写职业编码，如 6-18-02-04，且须在职业目录中。",
                "Enter an occupation code such as 6-18-02-04, one in the catalog.",
            ),
        ),
        "issuer" => ("issuer", ui.t("请填写发证机构。", "Enter the issuer.")),
        _ => (
            "issued_on",
            ui.t(
                "发证日期不能晚于今天，也不能早于该类证书开始颁发的时间。",
                "The issue date cannot be in the future, nor before such certificates existed.",
            ),
        ),
    }
}

fn show(
    req: &HttpRequest,
    session: &WebSession,
    form: CertificateForm,
    errors: Vec<(&'static str, &'static str)>,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::signed(req, session);
    let kinds = CertificateKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: kind_label(&ui, *k),
        })
        .collect();
    let levels = level_choices(&ui);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = NewCertificatePage {
        ui,
        csrf: session.csrf_token.clone(),
        kinds,
        levels,
        form,
        errors,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

/// The form as typed (kept when refused).
#[derive(Deserialize, Default)]
pub struct CertificateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    occupation_code: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    issued_on: String,
}

/// `GET /certificates/new`
pub async fn form(req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    session.user.own_learner_id()?;
    let form = CertificateForm {
        kind: CertificateKind::SkillLevel.as_str().into(),
        ..CertificateForm::default()
    };
    show(&req, &session, form, Vec::new())
}

/// `POST /certificates`: registers it and goes to the progress page, where it shows as waiting
/// for verification; the form again, each refusal at its field, when it cannot be registered.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<CertificateForm>,
) -> Result<HttpResponse, PageError> {
    let session = visitor.signed_in()?;
    let learner_id = session.user.own_learner_id()?;
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let ui = Ui::new(&req, None);
    let refused = |fields: &[FieldError]| -> Vec<(&'static str, &'static str)> {
        fields.iter().map(|e| message(&ui, &e.field)).collect()
    };
    let issued_on = NaiveDate::parse_from_str(form.issued_on.trim(), "%Y-%m-%d");
    let checked = match issued_on {
        Err(_) => Err(AppError::invalid("issued_on", "is not a date")),
        Ok(date) => Submission::check(
            learner_id,
            &form.number,
            &form.kind,
            &form.level,
            &form.occupation_code,
            &form.issuer,
            date,
        ),
    };
    let submission = match checked {
        Ok(submission) => submission,
        Err(AppError::Validation(fields)) => {
            let errors = refused(&fields);
            return show(&req, &session, form, errors);
        }
        Err(other) => return Err(other.into()),
    };
    let caller = session.user.clone();
    let stored = state
        .db
        .write(move |conn| certificates_service::submit(conn, &caller, submission))
        .await;
    match stored {
        Ok(_) => Ok(super::see_other("/progress")),
        Err(AppError::Validation(fields)) => {
            let errors = refused(&fields);
            show(&req, &session, form, errors)
        }
        Err(AppError::Conflict { .. }) => {
            let errors = vec![(
                "number",
                ui.t(
                    "该证书编号已登记。",
                    "This certificate number is already registered.",
                ),
            )];
            show(&req, &session, form, errors)
        }
        Err(other) => Err(other.into()),
    }
}
