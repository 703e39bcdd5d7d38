//! Certificates: submission under a learner, and the evaluators' verification workflow.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope::{self, require_learner};
use crate::auth::AuthUser;
use crate::db::certificates::{self, CertificateRow};
use crate::db::DbConnection;
use crate::domain::{
    CertificateId, CertificateKind, CertificateStatus, Decision, LearnerId, Role, SkillLevel,
};
use crate::error::AppError;
use crate::services::certificates as certificates_service;
use crate::state::AppState;

use crate::services::certificate_view::{
    certificate_response, load_certificate, load_certificates,
};
pub use crate::services::certificate_view::{
    own_certificates, CertificateResponse, DecisionResponse,
};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "Y310000000000024300012", "kind": "skill_level", "level": "senior_worker",
    "occupation_code": "6-18-02-04", "issuer": "上海某职业技能等级认定机构", "issued_on": "2024-06-30"}))]
pub struct CreateCertificateRequest {
    pub number: String,
    #[schema(value_type = CertificateKind)]
    pub kind: String,
    #[schema(value_type = SkillLevel)]
    pub level: String,
    pub occupation_code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub issuer: String,
    pub issued_on: NaiveDate,
}

/// Submit a certificate for a learner; it starts `pending` until an evaluator decides.
///
/// Checks: the number is unique; the occupation is in the catalog; the issue date is not in
/// the future, not before the kind of certificate existed (1994 for 职业资格证书 and 预备技师,
/// 2019 for 职业技能等级证书), and not before the learner's 14th birthday when the birth date is
/// known. A number whose year or level digits disagree with the record is stored with warnings.
#[utoipa::path(post, path = "/api/v1/learners/{id}/certificates", tag = "certificates",
    params(("id" = i64, Path, description = "Learner id")),
    request_body = CreateCertificateRequest, security(("bearer" = [])),
    responses((status = 201, description = "Submitted (pending)", body = CertificateResponse),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_certificate(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
    body: JsonBody<CreateCertificateRequest>,
) -> Result<HttpResponse, AppError> {
    let learner_id = id.into_inner();
    scope::may_add_facts(&caller, learner_id)?;
    let b = body.into_inner();
    let submission = certificates_service::Submission::check(
        learner_id,
        &b.number,
        &b.kind,
        &b.level,
        &b.occupation_code,
        &b.issuer,
        b.issued_on,
    )?;
    let created = state
        .db
        .write(move |conn| {
            let (row, learner_name) = certificates_service::submit(conn, &caller, submission)?;
            certificate_response(row, learner_name, Vec::new())
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/certificates/{}", created.id),
        ))
        .json(created))
}

/// The learner's certificates, every status.
#[utoipa::path(get, path = "/api/v1/learners/{id}/certificates", tag = "certificates",
    params(("id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Certificates", body = Vec<CertificateResponse>),
        (status = 404, description = "No such learner (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_learner_certificates(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<LearnerId>,
) -> Result<web::Json<Vec<CertificateResponse>>, AppError> {
    let learner_id = id.into_inner();
    let list = state
        .db
        .read(move |conn| {
            if caller.role != Role::Evaluator {
                require_learner(conn, &caller, learner_id)?;
            }
            certificates_of(conn, learner_id)
        })
        .await?;
    Ok(web::Json(list))
}

/// A learner's certificates with their decisions, oldest first.
pub fn certificates_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> Result<Vec<CertificateResponse>, AppError> {
    let rows = certificates::of_learner(conn, learner_id)?;
    load_certificates(conn, rows)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCertificatesQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    #[param(value_type = Option<CertificateStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<i64>)]
    pub learner_id: Option<LearnerId>,
}

/// Certificates to decide (evaluators and administrators), oldest first.
#[utoipa::path(get, path = "/api/v1/certificates", tag = "certificates",
    params(ListCertificatesQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page", body = Page<CertificateResponse>),
        (status = 403, description = "Not an evaluator or administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn list_certificates(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListCertificatesQuery>,
) -> Result<web::Json<Page<CertificateResponse>>, AppError> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    let q = query.into_inner();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, after) = (page.limit()?, page.after_id()?);
    let status = match &q.status {
        Some(status) => Some(
            status
                .parse::<CertificateStatus>()
                .map_err(|m| AppError::invalid("status", m))?,
        ),
        None => None,
    };
    let page = state
        .db
        .read(move |conn| {
            let rows = certificates::list(conn, status, q.learner_id, after, limit + 1)?;
            let page = Page::from_rows(rows, limit, |r| r.id, |r| r);
            let items = load_certificates(conn, page.items)?;
            Ok(Page {
                items,
                next_cursor: page.next_cursor,
            })
        })
        .await?;
    Ok(web::Json(page))
}

/// A certificate the caller may see: evaluators and administrators see all; others see those of
/// learners in their scope.
fn visible_certificate(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: CertificateId,
) -> Result<CertificateRow, AppError> {
    let row = certificates::find(conn, id)?.ok_or(AppError::NotFound {
        what: "certificate",
    })?;
    if !matches!(caller.role, Role::Admin | Role::Evaluator) {
        require_learner(conn, caller, row.learner_id).map_err(|_| AppError::NotFound {
            what: "certificate",
        })?;
    }
    Ok(row)
}

/// One certificate with its decision history.
#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "certificates",
    params(("id" = i64, Path, description = "Certificate id")), security(("bearer" = [])),
    responses((status = 200, description = "The certificate", body = CertificateResponse),
        (status = 404, description = "No such certificate (or not in your scope)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_certificate(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<CertificateId>,
) -> Result<web::Json<CertificateResponse>, AppError> {
    let id = id.into_inner();
    let cert = state
        .db
        .read(move |conn| {
            let row = visible_certificate(conn, &caller, id)?;
            load_certificate(conn, row)
        })
        .await?;
    Ok(web::Json(cert))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "verify", "reason": "与全国联网查询结果一致"}))]
pub struct VerificationRequest {
    #[schema(value_type = Decision)]
    pub decision: String,
    /// Why. Required to reject or revoke.
    #[serde(default)]
    pub reason: String,
}

/// Decide on a certificate (evaluators and administrators): `pending` → `verified` or
/// `rejected`; `verified` → `revoked`. Every decision is kept with who, when and why.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/verification", tag = "certificates",
    params(("id" = i64, Path, description = "Certificate id")),
    request_body = VerificationRequest, security(("bearer" = [])),
    responses((status = 200, description = "Decided", body = CertificateResponse),
        (status = 403, description = "Not an evaluator or administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Transition not allowed from the current status", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid decision or missing reason", body = Problem, content_type = "application/problem+json")))]
pub async fn decide(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<CertificateId>,
    body: JsonBody<VerificationRequest>,
) -> Result<web::Json<CertificateResponse>, AppError> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    let id = id.into_inner();
    let b = body.into_inner();
    let (decision, reason) = certificates_service::check_decision(&b.decision, &b.reason)?;
    let actor = caller.id;
    let cert = state
        .db
        .write(move |conn| {
            let row = certificates_service::decide(conn, actor, id, decision, &reason)?;
            load_certificate(conn, row)
        })
        .await?;
    Ok(web::Json(cert))
}
