//! Shares: a learner shows chosen verified records to HR for a while; HR verifies them by code
//! (live) or by the signed statement (offline); every look is logged and the learner told.
//! Also the employer's view of its own employees' verified records, logged the same way.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::scope;
use crate::auth::AuthUser;
use crate::db::shares::{self, AccessRow, ShareRow};
use crate::db::{self, institutions, DbConnection};
use crate::domain::AccessBasis;
use crate::domain::{CertificateId, InstitutionId, ShareId};
use crate::error::AppError;
use crate::rules::Text;
use crate::services::sharing::create::EnterpriseRef;
use crate::services::sharing::{self, ShareStatus, VerifiedView};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"purpose": "技师岗位津贴审核", "enterprise_id": 12, "consent_version": "share-consent-2026-12"}))]
pub struct CreateShare {
    /// Why it is shared (shown to HR and in the statement).
    #[schema(min_length = 1, max_length = 200)]
    pub purpose: String,
    /// Certificates to show, verified ones only (repeats count once; at most 100 distinct);
    /// default: the learner's verified certificates.
    #[schema(value_type = Option<Vec<i64>>)]
    pub certificate_ids: Option<Vec<CertificateId>>,
    /// Milestones (by key) to show (repeats count once; at most 100 distinct); default: the met
    /// milestones as of today.
    pub milestone_keys: Option<Vec<String>>,
    /// Only HR staff of this enterprise may use the code; any enterprise when absent.
    #[schema(value_type = Option<i64>)]
    pub enterprise_id: Option<InstitutionId>,
    /// Default 30 days from now; at most 180 days.
    pub expires_at: Option<DateTime<Utc>>,
    /// Required: the version of the consent text the learner was shown and agreed to (the
    /// current one, from `GET /me/shares/consent`).
    #[schema(example = "share-consent-2026-12", required = true)]
    pub consent_version: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareResponse {
    #[schema(value_type = i64)]
    pub id: ShareId,
    pub purpose: String,
    pub enterprise: Option<EnterpriseRef>,
    #[schema(value_type = Vec<i64>)]
    pub certificate_ids: Vec<CertificateId>,
    pub milestone_keys: Vec<String>,
    pub status: ShareStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The learner's separate consent to this share (absent for shares made before consent was
    /// recorded).
    pub consent: Option<ShareConsent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareConsent {
    pub version: String,
    /// The text agreed to.
    pub text: Text,
    pub consented_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentText {
    /// Name it as `consent_version` when sharing.
    pub version: &'static str,
    pub text: Text,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShare {
    #[serde(flatten)]
    pub share: ShareResponse,
    /// Typed or read from a QR code by HR; shown only now (stored hashed).
    pub code: String,
    /// The page where HR verifies it (after logging in).
    pub link: String,
    /// A JWS (EdDSA) of what is shared, verifiable offline against `/.well-known/jwks.json`.
    pub statement: String,
    /// What the share shows now.
    pub shows: VerifiedView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessResponse {
    pub id: i64,
    /// `share` (through a share) or `employment` (as the learner's employer).
    #[schema(value_type = String)]
    pub basis: AccessBasis,
    #[schema(value_type = Option<i64>)]
    pub share_id: Option<ShareId>,
    /// The HR account that looked.
    pub user_email: String,
    pub institution: Option<EnterpriseRef>,
    pub accessed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareDetail {
    #[serde(flatten)]
    pub share: ShareResponse,
    /// Newest first (the latest 200).
    pub accesses: Vec<AccessResponse>,
}

fn share_response(
    row: &ShareRow,
    enterprise: Option<EnterpriseRef>,
    now: chrono::NaiveDateTime,
) -> Result<ShareResponse, AppError> {
    Ok(ShareResponse {
        id: row.id,
        purpose: row.purpose.clone(),
        enterprise,
        certificate_ids: sharing::json_list(&row.certificate_ids)?,
        milestone_keys: sharing::json_list(&row.milestone_keys)?,
        status: sharing::share_status(row, now),
        created_at: row.created_at.and_utc(),
        expires_at: row.expires_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
        consent: match (&row.consent_version, &row.consent_text, row.consented_at) {
            (Some(version), Some(text), Some(at)) => Some(ShareConsent {
                version: version.clone(),
                text: serde_json::from_str(text)
                    .map_err(|e| AppError::internal("stored consent", e))?,
                consented_at: at.and_utc(),
            }),
            _ => None,
        },
    })
}

fn enterprise_ref(
    conn: &mut DbConnection,
    id: Option<InstitutionId>,
) -> Result<Option<EnterpriseRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    Ok(institutions::find(conn, id)?.map(|i| EnterpriseRef { id, name: i.name }))
}

/// The consent text a learner is shown before sharing, and its version (PIPL Art. 23, 29).
#[utoipa::path(get, path = "/api/v1/me/shares/consent", tag = "shares", security(("bearer" = [])),
    responses((status = 200, description = "The current consent text", body = ConsentText),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn consent_text(caller: AuthUser) -> Result<web::Json<ConsentText>, AppError> {
    caller.own_learner_id()?;
    Ok(web::Json(ConsentText {
        version: sharing::consent::VERSION,
        text: sharing::consent::text(),
    }))
}

/// Share verified records with HR, with the learner's separate consent (the version of the text
/// shown; the text and the time are kept with the share).
#[utoipa::path(post, path = "/api/v1/me/shares", tag = "shares", request_body = CreateShare, security(("bearer" = [])),
    responses((status = 201, description = "Shared: the code, the link and the signed statement", body = CreatedShare),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (named)", body = Problem, content_type = "application/problem+json")))]
pub async fn create_share(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateShare>,
) -> Result<HttpResponse, AppError> {
    let learner_id = caller.own_learner_id()?;
    let request = body.into_inner();
    let now = db::now();
    let (draft, code) = sharing::create::Request {
        purpose: request.purpose,
        enterprise_id: request.enterprise_id,
        certificate_ids: request.certificate_ids,
        milestone_keys: request.milestone_keys,
        expires_at: request.expires_at.map(|t| t.naive_utc()),
        consent_version: request.consent_version,
    }
    .draft(learner_id, caller.id, now)?;
    let st = state.clone();
    let sharing::create::Created {
        row,
        enterprise,
        statement,
        shows,
    } = state
        .db
        .write(move |conn| sharing::create::create(conn, &st.sharing_context(), draft))
        .await?;
    let public = &state.settings.notify.public_url;
    let created = CreatedShare {
        share: share_response(&row, enterprise, now)?,
        link: sharing::create::link(public, &code),
        code,
        statement,
        shows,
    };
    Ok(HttpResponse::Created().json(created))
}

fn access_response(
    (row, email, institution): (AccessRow, String, Option<String>),
) -> AccessResponse {
    AccessResponse {
        id: row.id,
        basis: row.basis,
        share_id: row.share_id,
        user_email: email,
        institution: row
            .institution_id
            .zip(institution)
            .map(|(id, name)| EnterpriseRef { id, name }),
        accessed_at: row.accessed_at.and_utc(),
    }
}

/// The learner's shares, newest first.
#[utoipa::path(get, path = "/api/v1/me/shares", tag = "shares", params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "One page of shares", body = Page<ShareResponse>),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn list_shares(
    state: web::Data<AppState>,
    caller: AuthUser,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<ShareResponse>>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let (limit, before) = (page.limit()?, page.after_id()?);
    let now = db::now();
    let rows = state
        .db
        .read(move |conn| sharing::own_shares(conn, learner_id, before, limit + 1))
        .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |(r, _)| r.id,
        |(r, enterprise)| share_response(&r, enterprise, now),
    )
    .transpose()?;
    Ok(web::Json(page))
}

/// One of the learner's shares with every access to it.
#[utoipa::path(get, path = "/api/v1/me/shares/{id}", tag = "shares",
    params(("id" = i64, Path, description = "Share id")), security(("bearer" = [])),
    responses((status = 200, description = "The share and its accesses", body = ShareDetail),
        (status = 404, description = "No such share of yours", body = Problem, content_type = "application/problem+json")))]
pub async fn get_share(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<ShareId>,
) -> Result<web::Json<ShareDetail>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let id = id.into_inner();
    let now = db::now();
    let (row, enterprise, accesses) = state
        .db
        .read(move |conn| {
            let row = scope::own_share(conn, learner_id, id)?;
            let enterprise = enterprise_ref(conn, row.recipient_institution_id)?;
            let accesses = shares::accesses_of(conn, learner_id, Some(id), None, 200)?;
            Ok((row, enterprise, accesses))
        })
        .await?;
    Ok(web::Json(ShareDetail {
        share: share_response(&row, enterprise, now)?,
        accesses: accesses.into_iter().map(access_response).collect(),
    }))
}

/// Revoke a share: the code answers 410 from now on, and the status endpoint says `revoked`.
#[utoipa::path(post, path = "/api/v1/me/shares/{id}/revoke", tag = "shares",
    params(("id" = i64, Path, description = "Share id")), security(("bearer" = [])),
    responses((status = 200, description = "Revoked (repeating it changes nothing)", body = ShareResponse),
        (status = 404, description = "No such share of yours", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_share(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<ShareId>,
) -> Result<web::Json<ShareResponse>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let id = id.into_inner();
    let now = db::now();
    let actor = caller.id;
    let (row, enterprise) = state
        .db
        .write(move |conn| {
            let row = sharing::revoke(conn, actor, learner_id, id, now)?;
            let enterprise = enterprise_ref(conn, row.recipient_institution_id)?;
            Ok((row, enterprise))
        })
        .await?;
    Ok(web::Json(share_response(&row, enterprise, now)?))
}

/// Every look at the learner's records by HR (through shares, or as employer), newest first.
#[utoipa::path(get, path = "/api/v1/me/share-accesses", tag = "shares", params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "One page of accesses", body = Page<AccessResponse>),
        (status = 403, description = "Not a learner account", body = Problem, content_type = "application/problem+json")))]
pub async fn list_accesses(
    state: web::Data<AppState>,
    caller: AuthUser,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<AccessResponse>>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let (limit, before) = (page.limit()?, page.after_id()?);
    let rows = state
        .db
        .read(move |conn| {
            Ok(shares::accesses_of(
                conn,
                learner_id,
                None,
                before,
                limit + 1,
            )?)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.0.id,
        access_response,
    )))
}
