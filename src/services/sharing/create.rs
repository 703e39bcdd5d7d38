//! A learner shares records with an enterprise: the selection checked (verified certificates,
//! their own milestones), the share stored with the hash of its code, and a statement signed.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Records, Selection, StatementContent, StatusTokens, VerifiedView};
use crate::crypto::KeyVault;
use crate::db::shares::{self, NewShare, ShareRow};
use crate::db::{audit, institutions, learners, DbConnection};
use crate::domain::{
    checks::Checks, today_in_shanghai, AuditAction, AuditEntity, CertificateId, CertificateStatus,
    InstitutionId, InstitutionKind, LearnerId, UserId,
};
use crate::error::AppError;
use crate::services::eligibility::ParameterCache;

/// An institution by id and name: the enterprise a share is for, or the viewer's institution.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseRef {
    #[schema(value_type = i64)]
    pub id: InstitutionId,
    pub name: String,
}

/// What signing and checking shares needs of the process.
pub struct SharingContext<'a> {
    pub parameters: &'a ParameterCache,
    pub key_vault: &'a KeyVault,
    pub status_tokens: &'a StatusTokens,
    /// The service's public address, which statements name.
    pub public_url: &'a str,
}

/// A share as asked for, its fields already checked one by one.
pub struct Draft {
    pub learner_id: LearnerId,
    /// The account sharing (the learner's).
    pub actor: UserId,
    pub code_hash: String,
    pub purpose: String,
    pub enterprise_id: Option<InstitutionId>,
    /// Distinct ids; `None`: the learner's verified certificates.
    pub certificate_ids: Option<Vec<CertificateId>>,
    /// Distinct keys; `None`: the milestones met today.
    pub milestone_keys: Option<Vec<String>>,
    pub expires_at: NaiveDateTime,
    pub now: NaiveDateTime,
}

/// Default and longest lifetime of a share.
pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 180;
/// Certificates, and milestones, one share may name at most.
pub const MAX_SHARED_ITEMS: usize = 100;

/// `items` without repeats, in their first order.
fn distinct<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The field a refusal names when the learner's consent is missing or not to the current text.
pub const CONSENT_FIELD: &str = "consent_version";

/// A share as a learner asks for it, before its checks.
pub struct Request {
    pub purpose: String,
    pub enterprise_id: Option<InstitutionId>,
    pub certificate_ids: Option<Vec<CertificateId>>,
    pub milestone_keys: Option<Vec<String>>,
    /// Default: [`DEFAULT_DAYS`] from now.
    pub expires_at: Option<NaiveDateTime>,
    /// The version of the consent text the learner agreed to: the current one
    /// ([`super::consent::VERSION`]).
    pub consent_version: Option<String>,
}

impl Request {
    /// Checks the request (a purpose, an expiry within [`MAX_DAYS`], at most
    /// [`MAX_SHARED_ITEMS`] of each kind, repeats counted once) and draws its code: the draft
    /// to store and the code, which is shown once and stored only hashed.
    pub fn draft(
        self,
        learner_id: LearnerId,
        actor: UserId,
        now: NaiveDateTime,
    ) -> Result<(Draft, String), AppError> {
        let mut checks = Checks::new();
        let purpose = checks.text("purpose", &self.purpose, 200);
        let expires_at = self
            .expires_at
            .unwrap_or(now + chrono::Duration::days(DEFAULT_DAYS));
        checks.ensure(expires_at > now, "expires_at", "must be in the future");
        checks.ensure(
            expires_at <= now + chrono::Duration::days(MAX_DAYS),
            "expires_at",
            format!("must be at most {MAX_DAYS} days from now"),
        );
        let certificate_ids = self.certificate_ids.map(distinct);
        let milestone_keys = self.milestone_keys.map(distinct);
        for (field, len) in [
            ("certificate_ids", certificate_ids.as_ref().map(Vec::len)),
            ("milestone_keys", milestone_keys.as_ref().map(Vec::len)),
        ] {
            checks.ensure(
                len.unwrap_or(0) <= MAX_SHARED_ITEMS,
                field,
                format!("may name at most {MAX_SHARED_ITEMS} distinct items"),
            );
        }
        match self.consent_version.as_deref() {
            Some(super::consent::VERSION) => {}
            None => checks.add(
                CONSENT_FIELD,
                "is required: the learner's separate consent to this share (GET /me/shares/consent)",
            ),
            Some(_) => checks.add(
                CONSENT_FIELD,
                format!(
                    "is not the current consent text's version ({}): show the current text",
                    super::consent::VERSION
                ),
            ),
        }
        let purpose = checks.done(|| purpose)?;
        let code = super::new_code();
        let draft = Draft {
            learner_id,
            actor,
            code_hash: super::code_hash(&super::normalize_code(&code).unwrap_or_default()),
            purpose,
            enterprise_id: self.enterprise_id,
            certificate_ids,
            milestone_keys,
            expires_at,
            now,
        };
        Ok((draft, code))
    }
}

/// Where HR opens a share by its code.
pub fn link(public_url: &str, code: &str) -> String {
    format!("{public_url}/verify?code={code}")
}

pub struct Created {
    pub row: ShareRow,
    pub enterprise: Option<EnterpriseRef>,
    /// The signed statement (a compact JWS).
    pub statement: String,
    /// What the share shows today.
    pub shows: VerifiedView,
}

/// Stores the share and signs its statement. Run inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    ctx: &SharingContext<'_>,
    draft: Draft,
) -> Result<Created, AppError> {
    let learner =
        learners::find(conn, draft.learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let mut checks = Checks::new();
    let enterprise = match draft.enterprise_id {
        None => None,
        Some(id) => match institutions::find(conn, id)? {
            Some(i) if i.kind == InstitutionKind::Enterprise => {
                Some(EnterpriseRef { id, name: i.name })
            }
            _ => {
                checks.add("enterprise_id", "is not an enterprise");
                None
            }
        },
    };
    let today = today_in_shanghai();
    let records = Records::load(conn, ctx.parameters, draft.learner_id, today)?;
    let defaults = records.view(&learner.name, &Selection::VerifiedAndMet)?;
    let certificate_ids = match draft.certificate_ids {
        None => defaults.certificates.iter().map(|c| c.id).collect(),
        Some(ids) => {
            for id in &ids {
                match records.certificates.iter().find(|c| c.id == *id) {
                    None => checks.add(
                        "certificate_ids",
                        format!("{id} is not one of your certificates"),
                    ),
                    Some(c) if c.status != CertificateStatus::Verified => checks.add(
                        "certificate_ids",
                        format!(
                            "{id} is {}: only verified certificates can be shared",
                            c.status
                        ),
                    ),
                    Some(_) => {}
                }
            }
            ids
        }
    };
    let milestone_keys = match draft.milestone_keys {
        None => defaults.milestones.iter().map(|m| m.key.clone()).collect(),
        Some(keys) => {
            for key in &keys {
                if !records.milestones.iter().any(|m| &m.key == key) {
                    checks.add(
                        "milestone_keys",
                        format!("'{key}' is not one of your milestones"),
                    );
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
    let key = super::signing_key(conn, ctx.key_vault, draft.now)?;
    let row = shares::insert_share(
        conn,
        &NewShare {
            learner_id: draft.learner_id,
            code_hash: draft.code_hash,
            purpose: draft.purpose,
            recipient_institution_id: enterprise.as_ref().map(|e| e.id),
            certificate_ids: json!(certificate_ids).to_string(),
            milestone_keys: json!(milestone_keys).to_string(),
            kid: key.0.clone(),
            created_at: draft.now,
            expires_at: draft.expires_at,
            consent_version: Some(super::consent::VERSION.to_owned()),
            consent_text: Some(
                serde_json::to_string(&super::consent::text())
                    .map_err(|e| AppError::internal("consent text", e))?,
            ),
            consented_at: Some(draft.now),
        },
    )?;
    let shows = records.view(
        &learner.name,
        &Selection::Named {
            certificate_ids: &certificate_ids,
            milestone_keys: &milestone_keys,
        },
    )?;
    let public = ctx.public_url;
    let statement = super::sign_statement(
        conn,
        &key,
        &StatementContent {
            issuer: public,
            share: &row,
            recipient: enterprise.as_ref().map(|e| (e.id, e.name.clone())),
            view: &shows,
            status_url: format!(
                "{public}/api/v1/verifications/status/{}",
                ctx.status_tokens
                    .token(row.id)
                    .map_err(AppError::Internal)?
            ),
        },
    )?;
    audit::record(
        conn,
        Some(draft.actor),
        AuditAction::Share,
        AuditEntity::Share,
        row.id,
        &json!({"enterprise_id": row.recipient_institution_id, "certificates": certificate_ids.len(),
                "milestones": milestone_keys.len(), "expires_at": draft.expires_at}),
    )?;
    Ok(Created {
        row,
        enterprise,
        statement,
        shows,
    })
}
