//! The evaluator's queue: certificates waiting for a decision, oldest first, each with a form to
//! verify or reject it with a reason.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::session::Visitor;
use super::ui::Ui;
use crate::auth::web_session::WebSession;
use crate::domain::certificate_number::CertificateWarning;
use crate::domain::{CertificateId, CertificateStatus, Role};
use crate::error::AppError;
use crate::services::certificates as certificates_service;
use crate::state::AppState;

/// Certificates shown at once (the oldest; deciding one brings up the next).
const QUEUE_LENGTH: i64 = 50;

struct PendingView {
    id: CertificateId,
    learner: String,
    level: &'static str,
    occupation: String,
    number: String,
    issuer: String,
    issued: String,
    warnings: Vec<String>,
}

/// A refused decision, shown at its certificate with what was typed.
struct Refusal {
    id: CertificateId,
    message: String,
    decision: String,
    reason: String,
}

/// A certificate looked up by its number (to revoke a verified one).
struct FoundView {
    id: CertificateId,
    learner: String,
    level: &'static str,
    occupation: String,
    number: String,
    status: &'static str,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "evaluations.html")]
struct EvaluationsPage {
    ui: Ui,
    csrf: String,
    pending: Vec<PendingView>,
    done: bool,
    refusal: Option<Refusal>,
    /// The number looked up, and what it found.
    number: String,
    found: Option<FoundView>,
}

impl EvaluationsPage {
    fn refused_here(&self, id: &CertificateId) -> Option<&Refusal> {
        self.refusal.as_ref().filter(|r| r.id == *id)
    }

    /// A refusal about a certificate the queue no longer shows (decided meanwhile).
    fn refusal_elsewhere(&self) -> Option<&Refusal> {
        self.refusal
            .as_ref()
            .filter(|r| !self.pending.iter().any(|p| p.id == r.id))
            .filter(|r| {
                self.found
                    .as_ref()
                    .is_none_or(|f| f.id != r.id || !f.revocable)
            })
    }

    fn checked(&self, id: &CertificateId, decision: &str) -> bool {
        match self.refused_here(id) {
            Some(r) => r.decision == decision,
            None => decision == "verify",
        }
    }

    fn typed_reason(&self, id: &CertificateId) -> &str {
        self.refused_here(id).map_or("", |r| r.reason.as_str())
    }
}

fn evaluator(visitor: Visitor) -> Result<WebSession, AppError> {
    let session = visitor.signed_in()?;
    session.user.require(&[Role::Admin, Role::Evaluator])?;
    Ok(session)
}

async fn queue_page(
    state: &AppState,
    req: &HttpRequest,
    session: WebSession,
    done: bool,
    refusal: Option<Refusal>,
    number: String,
) -> Result<HttpResponse, PageError> {
    let ui = Ui::signed(req, &session);
    let typed = number.clone();
    let (rows, found) = state
        .db
        .read(move |conn| {
            let pending = certificates_service::pending(conn, None, QUEUE_LENGTH)?;
            let found = match typed.trim() {
                "" => None,
                typed => certificates_service::by_number(conn, typed)?,
            };
            Ok((pending, found))
        })
        .await?;
    let found = found.map(|(c, learner)| FoundView {
        id: c.id,
        learner,
        level: ui.level(c.level),
        occupation: c.occupation_code,
        number: c.number,
        status: ui.certificate_status(c.status),
        revocable: c.status == CertificateStatus::Verified,
    });
    let pending = rows
        .into_iter()
        .map(|(c, learner)| PendingView {
            id: c.id,
            learner,
            level: ui.level(c.level),
            occupation: c.occupation_code,
            number: c.number,
            issuer: c.issuer,
            issued: ui.date(c.issued_on),
            warnings: serde_json::from_str::<Vec<CertificateWarning>>(&c.warnings)
                .unwrap_or_default()
                .into_iter()
                .map(|w| w.message)
                .collect(),
        })
        .collect();
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = EvaluationsPage {
        ui,
        csrf: session.csrf_token,
        pending,
        done,
        refusal,
        number,
        found,
    };
    Ok(super::html(status).body(super::render(&page)?))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    done: Option<String>,
    /// A certificate number to look up.
    number: Option<String>,
}

/// `GET /evaluations`
pub async fn queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, PageError> {
    let session = evaluator(visitor)?;
    let query = query.into_inner();
    let number = query.number.unwrap_or_default();
    queue_page(&state, &req, session, query.done.is_some(), None, number).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// The number looked up, when the form was the revocation of a found certificate.
    #[serde(default)]
    number: String,
}

/// `POST /evaluations/{id}`: records the decision; the queue again, with the refusal next to
/// the certificate and what was typed kept, when it cannot be recorded.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<CertificateId>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    let session = evaluator(visitor)?;
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let ui = Ui::new(&req, None);
    let refusal = |message: String| Refusal {
        id,
        message,
        decision: form.decision.clone(),
        reason: form.reason.clone(),
    };
    let (decision, reason) =
        match certificates_service::check_decision(&form.decision, &form.reason) {
            Ok(checked) => checked,
            Err(AppError::Validation(errors)) => {
                let message = if errors.iter().any(|e| e.field == "reason") {
                    ui.t(
                        "驳回或撤销须填写理由（至多1000字）。",
                        "A reason (at most 1000 characters) is required to reject or revoke.",
                    )
                } else {
                    ui.t("请选择核验或驳回。", "Choose verify or reject.")
                };
                let message = refusal(message.into());
                return queue_page(&state, &req, session, false, Some(message), form.number).await;
            }
            Err(other) => return Err(other.into()),
        };
    let actor = session.user.id;
    let decided = state
        .db
        .write(move |conn| certificates_service::decide(conn, actor, id, decision, &reason))
        .await;
    match decided {
        Ok(_) => Ok(super::see_other("/evaluations?done=1")),
        Err(AppError::Conflict { .. }) => {
            let message = ui.t(
                "该证书已由他人处理或状态已变化，请刷新。",
                "This certificate was decided meanwhile; reload the queue.",
            );
            let message = refusal(message.into());
            queue_page(&state, &req, session, false, Some(message), form.number).await
        }
        Err(other) => Err(other.into()),
    }
}
