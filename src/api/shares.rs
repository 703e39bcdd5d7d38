//! Shares: a learner shows chosen verified records to HR for a while; HR verifies them by code
//! (live) or by the signed statement (offline); every look is logged and the learner told.
//! Also the employer's view of its own employees' verified records, logged the same way.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::auth::client_address;
use crate::api::body::JsonBody;
use crate::api::pagination::{Page, PageParams};
use crate::api::problem::Problem;
use crate::auth::AuthUser;
use crate::db::shares::{self, AccessRow, NewAccess, NewShare, ShareRow};
use crate::db::{self, audit, institutions, learners, records, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{today_in_shanghai, CertificateStatus, InstitutionKind, Role, SHANGHAI};
use crate::domain::{AuditAction, AuditEntity};
use crate::error::AppError;
use crate::notify::{self, Category, Notice};
use crate::services::eligibility::ParameterCache;
use crate::sharing::{self, Selection, ShareStatus, StatementContent, VerifiedView};
use crate::state::AppState;

/// Default and longest lifetime of a share.
const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 180;
/// Certificates, and milestones, one share may name at most.
const MAX_SHARED_ITEMS: usize = 100;

/// `items` without repeats, in their first order.
fn distinct<T: PartialEq + Clone>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"purpose": "技师岗位津贴审核", "enterprise_id": 12}))]
pub struct CreateShare {
    /// Why it is shared (shown to HR and in the statement).
    #[schema(min_length = 1, max_length = 200)]
    pub purpose: String,
    /// Certificates to show, verified ones only (repeats count once; at most 100 distinct);
    /// default: the learner's verified certificates.
    pub certificate_ids: Option<Vec<i64>>,
    /// Milestones (by key) to show (repeats count once; at most 100 distinct); default: the met
    /// milestones as of today.
    pub milestone_keys: Option<Vec<String>>,
    /// Only HR staff of this enterprise may use the code; any enterprise when absent.
    pub enterprise_id: Option<i64>,
    /// Default 30 days from now; at most 180 days.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareResponse {
    pub id: i64,
    pub purpose: String,
    pub enterprise: Option<EnterpriseRef>,
    pub certificate_ids: Vec<i64>,
    pub milestone_keys: Vec<String>,
    pub status: ShareStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShare {
    #[serde(flatten)]
    pub share: ShareResponse,
    /// Typed or read from a QR code by HR; shown only now (stored hashed).
    pub code: String,
    /// Where HR verifies it (after logging in).
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
    pub basis: String,
    pub share_id: Option<i64>,
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

/// What an HR user gets for a code, or for an employee.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// `share` or `employment`.
    pub basis: String,
    pub share_id: Option<i64>,
    pub purpose: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub view: VerifiedView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareStatusResponse {
    pub share_id: i64,
    pub status: ShareStatus,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn json_list<T: serde::de::DeserializeOwned>(stored: &str) -> Result<Vec<T>, AppError> {
    serde_json::from_str(stored).map_err(|e| AppError::internal("stored share", e))
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
        certificate_ids: json_list(&row.certificate_ids)?,
        milestone_keys: json_list(&row.milestone_keys)?,
        status: sharing::share_status(row, now),
        created_at: row.created_at.and_utc(),
        expires_at: row.expires_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    })
}

fn enterprise_ref(
    conn: &mut DbConnection,
    id: Option<i64>,
) -> Result<Option<EnterpriseRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    Ok(institutions::find(conn, id)?.map(|i| EnterpriseRef { id, name: i.name }))
}

/// Share verified records with HR.
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
    let mut checks = Checks::new();
    let purpose = checks.text("purpose", &request.purpose, 200);
    let expires_at = match request.expires_at {
        None => now + Duration::days(DEFAULT_DAYS),
        Some(t) => t.naive_utc(),
    };
    checks.ensure(expires_at > now, "expires_at", "must be in the future");
    checks.ensure(
        expires_at <= now + Duration::days(MAX_DAYS),
        "expires_at",
        "must be at most 180 days from now",
    );
    let request = CreateShare {
        certificate_ids: request.certificate_ids.map(distinct),
        milestone_keys: request.milestone_keys.map(distinct),
        ..request
    };
    for (field, len) in [
        (
            "certificate_ids",
            request.certificate_ids.as_ref().map(Vec::len),
        ),
        (
            "milestone_keys",
            request.milestone_keys.as_ref().map(Vec::len),
        ),
    ] {
        checks.ensure(
            len.unwrap_or(0) <= MAX_SHARED_ITEMS,
            field,
            format!("may name at most {MAX_SHARED_ITEMS} distinct items"),
        );
    }
    let purpose = checks.done(|| purpose)?;

    let code = sharing::new_code();
    let hash = sharing::code_hash(&sharing::normalize_code(&code).unwrap_or_default());
    let st = state.clone();
    let (row, enterprise, statement, shows) = state
        .db
        .write(move |conn| {
            let learner = learners::find(conn, learner_id)?.ok_or(AppError::NotFound {
                what: "learner",
            })?;
            let mut checks = Checks::new();
            let enterprise = match request.enterprise_id {
                None => None,
                Some(id) => match institutions::find(conn, id)? {
                    Some(i) if i.kind == InstitutionKind::Enterprise.as_str() => {
                        Some(EnterpriseRef { id, name: i.name })
                    }
                    _ => {
                        checks.add("enterprise_id", "is not an enterprise");
                        None
                    }
                },
            };
            let today = today_in_shanghai();
            let records = sharing::Records::load(conn, &st.parameters, learner_id, today)?;
            let defaults = records.view(&learner.name, &Selection::VerifiedAndMet)?;
            let certificate_ids = match request.certificate_ids {
                None => defaults.certificates.iter().map(|c| c.id).collect(),
                Some(ids) => {
                    for id in &ids {
                        match records.certificates.iter().find(|c| c.id == *id) {
                            None => checks.add("certificate_ids", format!("{id} is not one of your certificates")),
                            Some(c) if c.status != CertificateStatus::Verified.as_str() => checks.add(
                                "certificate_ids",
                                format!("{id} is {}: only verified certificates can be shared", c.status),
                            ),
                            Some(_) => {}
                        }
                    }
                    ids
                }
            };
            let milestone_keys = match request.milestone_keys {
                None => defaults.milestones.iter().map(|m| m.key.clone()).collect(),
                Some(keys) => {
                    for key in &keys {
                        if !records.milestones.iter().any(|m| &m.key == key) {
                            checks.add("milestone_keys", format!("'{key}' is not one of your milestones"));
                        }
                    }
                    keys
                }
            };
            checks.ensure(
                !(certificate_ids.is_empty() && milestone_keys.is_empty()),
                "certificate_ids",
                "nothing to share: no verified certificate or met milestone yet",
            );
            checks.done(|| Some(()))?;
            let key = sharing::signing_key(conn, &st.key_vault, now)?;
            let row = shares::insert_share(
                conn,
                &NewShare {
                    learner_id,
                    code_hash: hash,
                    purpose,
                    recipient_institution_id: enterprise.as_ref().map(|e| e.id),
                    certificate_ids: json!(certificate_ids).to_string(),
                    milestone_keys: json!(milestone_keys).to_string(),
                    kid: key.0.clone(),
                    created_at: now,
                    expires_at,
                },
            )?;
            let shows = records.view(
                &learner.name,
                &Selection::Named {
                    certificate_ids: &certificate_ids,
                    milestone_keys: &milestone_keys,
                },
            )?;
            let public = &st.settings.notify.public_url;
            let statement = sharing::sign_statement(
                conn,
                &key,
                &StatementContent {
                    issuer: public,
                    share: &row,
                    recipient: enterprise.as_ref().map(|e| (e.id, e.name.clone())),
                    view: &shows,
                    status_url: format!(
                        "{public}/api/v1/verifications/status/{}",
                        st.status_tokens.token(row.id).map_err(AppError::Internal)?
                    ),
                },
            )?;
            audit::record(
                conn,
                Some(caller.id),
                AuditAction::Share,
                AuditEntity::Share,
                row.id,
                &json!({"enterprise_id": row.recipient_institution_id, "certificates": certificate_ids.len(),
                        "milestones": milestone_keys.len(), "expires_at": expires_at}),
            )?;
            Ok((row, enterprise, statement, shows))
        })
        .await?;
    let public = &state.settings.notify.public_url;
    let created = CreatedShare {
        share: share_response(&row, enterprise, now)?,
        link: format!("{public}/api/v1/verifications/{code}"),
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
    let (rows, enterprises) = state
        .db
        .read(move |conn| {
            let rows = shares::shares_of(conn, learner_id, before, limit + 1)?;
            let ids: Vec<i64> = rows
                .iter()
                .filter_map(|r| r.recipient_institution_id)
                .collect();
            Ok((rows, institutions::find_many(conn, &ids)?))
        })
        .await?;
    let mut page = Page::from_rows(rows, limit, |r| r.id, |r| r);
    let items = page
        .items
        .drain(..)
        .map(|r| {
            let enterprise = r.recipient_institution_id.and_then(|id| {
                enterprises
                    .iter()
                    .find(|i| i.id == id)
                    .map(|i| EnterpriseRef {
                        id,
                        name: i.name.clone(),
                    })
            });
            share_response(&r, enterprise, now)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

fn own_share(conn: &mut DbConnection, learner_id: i64, id: i64) -> Result<ShareRow, AppError> {
    shares::find_share(conn, id)?
        .filter(|s| s.learner_id == learner_id)
        .ok_or(AppError::NotFound { what: "share" })
}

/// One of the learner's shares with every access to it.
#[utoipa::path(get, path = "/api/v1/me/shares/{id}", tag = "shares",
    params(("id" = i64, Path, description = "Share id")), security(("bearer" = [])),
    responses((status = 200, description = "The share and its accesses", body = ShareDetail),
        (status = 404, description = "No such share of yours", body = Problem, content_type = "application/problem+json")))]
pub async fn get_share(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ShareDetail>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let id = id.into_inner();
    let now = db::now();
    let (row, enterprise, accesses) = state
        .db
        .read(move |conn| {
            let row = own_share(conn, learner_id, id)?;
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
    id: web::Path<i64>,
) -> Result<web::Json<ShareResponse>, AppError> {
    let learner_id = caller.own_learner_id()?;
    let id = id.into_inner();
    let now = db::now();
    let actor = caller.id;
    let (row, enterprise) = state
        .db
        .write(move |conn| {
            own_share(conn, learner_id, id)?;
            if shares::revoke_share(conn, id, now)? {
                audit::record(
                    conn,
                    Some(actor),
                    AuditAction::Revoke,
                    AuditEntity::Share,
                    id,
                    &json!({}),
                )?;
            }
            let row = own_share(conn, learner_id, id)?;
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

/// Logs an HR user's look at a learner's records and tells the learner (their preferences apply).
fn log_access(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner: &learners::LearnerRow,
    share: Option<&ShareRow>,
) -> Result<(), AppError> {
    let learner_id = learner.id;
    let now = db::now();
    let access_id = shares::insert_access(
        conn,
        &NewAccess {
            learner_id,
            share_id: share.map(|s| s.id),
            user_id: caller.id,
            institution_id: caller.institution_id,
            basis: if share.is_some() {
                "share"
            } else {
                "employment"
            }
            .into(),
            accessed_at: now,
        },
    )?;
    let enterprise = match caller.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    }
    .unwrap_or_default();
    let when = now
        .and_utc()
        .with_timezone(&SHANGHAI)
        .format("%Y-%m-%d %H:%M");
    let (kind, message) = notify::messages::viewed_message(
        &enterprise,
        &caller.email,
        share.map(|s| s.purpose.as_str()),
        &when.to_string(),
    );
    notify::produce(
        conn,
        &Notice {
            recipient: notify::Recipient::Learner(learner_id),
            email: learner.email.as_deref(),
            event_key: format!("access:{access_id}"),
            category: Category::Share,
            kind,
            message,
            due_at: None,
        },
        now,
    )
}

/// What an HR user sees of a learner now, logged and told to the learner.
fn look(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    caller: &AuthUser,
    learner: &learners::LearnerRow,
    share: Option<&ShareRow>,
    selection: &Selection<'_>,
) -> Result<Verification, AppError> {
    let view = sharing::Records::load(conn, parameters, learner.id, today_in_shanghai())?
        .view(&learner.name, selection)?;
    log_access(conn, caller, learner, share)?;
    Ok(Verification {
        basis: if share.is_some() {
            "share"
        } else {
            "employment"
        }
        .into(),
        share_id: share.map(|s| s.id),
        purpose: share.map(|s| s.purpose.clone()),
        expires_at: share.map(|s| s.expires_at.and_utc()),
        view,
    })
}

/// Verify a share by its code (HR staff; only the named enterprise when the share names one).
#[utoipa::path(get, path = "/api/v1/verifications/{code}", tag = "shares",
    params(("code" = String, Path, description = "The share code, e.g. 7KQ2-M9XD-4RTB-8WCF (case and dashes do not matter)")),
    security(("bearer" = [])),
    responses((status = 200, description = "The shared records as they stand today", body = Verification),
        (status = 403, description = "Not an HR account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such share (or not for your enterprise)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The share expired or was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many unknown codes", body = Problem, content_type = "application/problem+json")))]
pub async fn verify_code(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<web::Json<Verification>, AppError> {
    caller.require(&[Role::EmployerHr])?;
    let account = caller.id.to_string();
    let address = client_address(&req, &state.settings);
    let attempt = state.share_code_limiter.attempt(&account, &address)?;
    let hash = sharing::normalize_code(&code).map(|c| sharing::code_hash(&c));
    let now = db::now();
    let found = match hash {
        None => None,
        Some(hash) => {
            state
                .db
                .read(move |conn| Ok(shares::find_share_by_code(conn, &hash)?))
                .await?
        }
    };
    // A share for another enterprise answers as an unknown code does.
    let share = found.filter(|s| {
        s.recipient_institution_id.is_none() || s.recipient_institution_id == caller.institution_id
    });
    let Some(share) = share else {
        return Err(AppError::NotFound { what: "share" });
    };
    // A known code (live, expired or revoked) is not a guess; earlier guesses stay counted.
    attempt.not_a_failure();
    match sharing::share_status(&share, now) {
        ShareStatus::Revoked => {
            return Err(AppError::Gone {
                code: "share_revoked",
                detail: "The learner revoked this share.".into(),
            })
        }
        ShareStatus::Expired => {
            return Err(AppError::Gone {
                code: "share_expired",
                detail: "This share has expired.".into(),
            })
        }
        ShareStatus::Active => {}
    }
    let parameters = state.parameters.clone();
    let view = state
        .db
        .write(move |conn| {
            let learner = learners::find(conn, share.learner_id)?
                .ok_or(AppError::NotFound { what: "share" })?;
            let certificate_ids: Vec<i64> = json_list(&share.certificate_ids)?;
            let milestone_keys: Vec<String> = json_list(&share.milestone_keys)?;
            let selection = Selection::Named {
                certificate_ids: &certificate_ids,
                milestone_keys: &milestone_keys,
            };
            look(
                conn,
                &parameters,
                &caller,
                &learner,
                Some(&share),
                &selection,
            )
        })
        .await?;
    Ok(web::Json(view))
}

/// Whether a share is still valid, for verifiers holding its statement (no login). The
/// identifier is the last segment of the statement's `status_url` claim: unguessable, so that
/// nobody can enumerate shares.
#[utoipa::path(get, path = "/api/v1/verifications/status/{status_id}", tag = "shares",
    params(("status_id" = String, Path, description = "The last segment of a statement's `status_url`")),
    responses((status = 200, description = "active, revoked or expired", body = ShareStatusResponse),
        (status = 404, description = "No such share", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "A bare share id (statements signed before status links were made unguessable): ask for a new share or verify by code", body = Problem, content_type = "application/problem+json")))]
pub async fn share_status(
    state: web::Data<AppState>,
    status_id: web::Path<String>,
) -> Result<web::Json<ShareStatusResponse>, AppError> {
    if status_id.parse::<i64>().is_ok() {
        // The same answer for every number, whether a share has it or not.
        return Err(AppError::Gone {
            code: "status_link_replaced",
            detail: "Status links by share id were replaced by the unguessable link in newer \
statements; verify the share by its code, or ask the learner to share again."
                .into(),
        });
    }
    let id = state
        .status_tokens
        .verify(&status_id)
        .ok_or(AppError::NotFound { what: "share" })?;
    let row = state
        .db
        .read(move |conn| Ok(shares::find_share(conn, id)?))
        .await?
        .ok_or(AppError::NotFound { what: "share" })?;
    Ok(web::Json(ShareStatusResponse {
        share_id: row.id,
        status: sharing::share_status(&row, db::now()),
        expires_at: row.expires_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    }))
}

/// The public keys that verify statements (JWK Set, RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "shares",
    responses((status = 200, description = "The JWK Set", body = Object)))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let set = state.db.read(|conn| sharing::jwks(conn, db::now())).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(set))
}

/// An employee's verified certificates and met milestones, for HR staff of an enterprise where
/// the learner has (or had) an employment spell. Logged and told to the learner.
#[utoipa::path(get, path = "/api/v1/employees/{learner_id}", tag = "shares",
    params(("learner_id" = i64, Path, description = "Learner id")), security(("bearer" = [])),
    responses((status = 200, description = "Verified certificates and met milestones as of today", body = Verification),
        (status = 403, description = "Not an HR account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such employee of your enterprise", body = Problem, content_type = "application/problem+json")))]
pub async fn employee(
    state: web::Data<AppState>,
    caller: AuthUser,
    learner_id: web::Path<i64>,
) -> Result<web::Json<Verification>, AppError> {
    caller.require(&[Role::EmployerHr])?;
    let learner_id = learner_id.into_inner();
    let parameters = state.parameters.clone();
    let view = state
        .db
        .write(move |conn| {
            let employed = caller.institution_id.is_some()
                && records::employments_of(conn, learner_id)?
                    .iter()
                    .any(|e| e.employer_institution_id == caller.institution_id);
            let learner = learners::find(conn, learner_id)?
                .filter(|_| employed)
                .ok_or(AppError::NotFound { what: "employee" })?;
            look(
                conn,
                &parameters,
                &caller,
                &learner,
                None,
                &Selection::VerifiedAndMet,
            )
        })
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyResponse {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    /// Since when it no longer signs.
    pub retired_at: Option<DateTime<Utc>>,
    /// The latest expiry of a statement it signed: it stays in the JWK Set until then.
    pub signed_until: Option<DateTime<Utc>>,
    pub published: bool,
}

/// The signing keys, newest first (admin).
#[utoipa::path(get, path = "/api/v1/admin/signing-keys", tag = "shares", security(("bearer" = [])),
    responses((status = 200, description = "Keys", body = Vec<SigningKeyResponse>),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<web::Json<Vec<SigningKeyResponse>>, AppError> {
    caller.require_admin()?;
    let now = db::now();
    let keys = state.db.read(|conn| Ok(shares::all_keys(conn)?)).await?;
    Ok(web::Json(
        keys.into_iter()
            .map(|k| SigningKeyResponse {
                published: k.retired_at.is_none() || k.signed_until.is_some_and(|t| t > now),
                kid: k.kid,
                algorithm: k.algorithm,
                created_at: k.created_at.and_utc(),
                retired_at: k.retired_at.map(|t| t.and_utc()),
                signed_until: k.signed_until.map(|t| t.and_utc()),
            })
            .collect(),
    ))
}

/// Rotate the signing key: a new key signs from now on; the old one stays published until the
/// last statement it signed has expired.
#[utoipa::path(post, path = "/api/v1/admin/signing-keys/rotate", tag = "shares", security(("bearer" = [])),
    responses((status = 201, description = "The new key", body = SigningKeyResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_key(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    caller.require_admin()?;
    let now = db::now();
    let st = state.clone();
    let actor = caller.id;
    let key = state
        .db
        .write(move |conn| {
            let key = sharing::rotate(conn, &st.key_vault, now)?;
            audit::record(
                conn,
                Some(actor),
                AuditAction::Rotate,
                AuditEntity::SigningKey,
                &key.kid,
                &json!({}),
            )?;
            Ok(key)
        })
        .await?;
    Ok(HttpResponse::Created().json(SigningKeyResponse {
        kid: key.kid,
        algorithm: key.algorithm,
        created_at: key.created_at.and_utc(),
        retired_at: None,
        signed_until: None,
        published: true,
    }))
}
