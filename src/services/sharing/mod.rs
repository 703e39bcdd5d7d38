//! Sharing verified records with HR: share codes, the view an HR user sees (through a share or
//! as the learner's employer), the statement signed for offline checks, and the signing keys.

pub mod access;
pub mod consent;
pub mod create;

use chrono::{NaiveDate, NaiveDateTime};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::crypto::KeyVault;
use crate::db::shares::{self, ShareRow, SigningKeyRow};
use crate::db::{certificates, DbConnection};
use crate::domain::{
    AuditAction, AuditEntity, CertificateId, CertificateKind, CertificateStatus, InstitutionId,
    LearnerId, ShareId, SkillLevel, UserId,
};
use crate::error::AppError;
use crate::rules::{Citation, Milestone, Status, Text};
use crate::services::eligibility::ParameterCache;
use crate::statements;

/// Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 symbols: 80 bits of randomness.
const CODE_LENGTH: usize = 16;

/// A new share code, `XXXX-XXXX-XXXX-XXXX`.
pub fn new_code() -> String {
    let mut bytes = [0u8; CODE_LENGTH];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let symbols: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    symbols
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A typed or scanned code in its canonical form: upper case, without separators, with the
/// letters people confuse for digits read as those digits; `None` when it cannot be a code.
pub fn normalize_code(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LENGTH);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CODE_LENGTH).then_some(out)
}

/// What is stored of a code: its SHA-256 (the code has 80 random bits, so no slow hash is needed).
pub fn code_hash(normalized: &str) -> String {
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// Whether a share can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    Active,
    Revoked,
    Expired,
}

/// A list a share stores as JSON (its certificate ids, its milestone keys).
pub fn json_list<T: serde::de::DeserializeOwned>(stored: &str) -> Result<Vec<T>, AppError> {
    serde_json::from_str(stored).map_err(|e| AppError::internal("stored share", e))
}

/// `Gone` unless the share is still active.
pub fn require_active(share: &ShareRow, now: NaiveDateTime) -> Result<(), AppError> {
    match share_status(share, now) {
        ShareStatus::Revoked => Err(AppError::Gone {
            code: "share_revoked",
            detail: "The learner revoked this share.".into(),
        }),
        ShareStatus::Expired => Err(AppError::Gone {
            code: "share_expired",
            detail: "This share has expired.".into(),
        }),
        ShareStatus::Active => Ok(()),
    }
}

/// A page of the learner's shares, newest first (before the cursor), each with the enterprise it
/// names.
pub fn own_shares(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(ShareRow, Option<create::EnterpriseRef>)>, AppError> {
    let rows = shares::shares_of(conn, learner_id, before, limit)?;
    let ids: Vec<InstitutionId> = rows
        .iter()
        .filter_map(|r| r.recipient_institution_id)
        .collect();
    let names: std::collections::HashMap<InstitutionId, String> =
        crate::db::institutions::find_many(conn, &ids)?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let enterprise = row.recipient_institution_id.and_then(|id| {
                names.get(&id).map(|name| create::EnterpriseRef {
                    id,
                    name: name.clone(),
                })
            });
            (row, enterprise)
        })
        .collect())
}

/// The shares learners addressed to the HR caller's enterprise, newest first, each with the
/// learner's name masked as a share shows it, and whether the learner is (or was) an employee.
pub fn addressed_to_caller(
    conn: &mut DbConnection,
    caller: &crate::auth::AuthUser,
    limit: i64,
) -> Result<Vec<(ShareRow, String, bool)>, AppError> {
    let enterprise = crate::auth::scope::addressed_enterprise(caller)?;
    let rows = shares::shares_for_institution(conn, enterprise, limit)?;
    let ids: Vec<LearnerId> = rows.iter().map(|r| r.learner_id).collect();
    let names: std::collections::HashMap<LearnerId, String> =
        crate::db::learners::find_many(conn, &ids)?
            .into_iter()
            .map(|l| (l.id, crate::domain::text::masked_name(&l.name)))
            .collect();
    let employees = crate::auth::scope::employees_among(conn, caller, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.learner_id).cloned().unwrap_or_default();
            let employee = employees.contains(&row.learner_id);
            (row, name, employee)
        })
        .collect())
}

/// The learner revokes their share (repeating it changes nothing); the share as it stands.
/// Run inside a write transaction.
pub fn revoke(
    conn: &mut DbConnection,
    actor: UserId,
    learner_id: LearnerId,
    id: ShareId,
    now: NaiveDateTime,
) -> Result<ShareRow, AppError> {
    crate::auth::scope::own_share(conn, learner_id, id)?;
    if shares::revoke_share(conn, id, now)? {
        crate::db::audit::record(
            conn,
            Some(actor),
            AuditAction::Revoke,
            AuditEntity::Share,
            id,
            &serde_json::json!({}),
        )?;
    }
    crate::auth::scope::own_share(conn, learner_id, id)
}

pub fn share_status(share: &ShareRow, now: NaiveDateTime) -> ShareStatus {
    if share.revoked_at.is_some() {
        ShareStatus::Revoked
    } else if share.expires_at <= now {
        ShareStatus::Expired
    } else {
        ShareStatus::Active
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SharedCertificate {
    #[schema(value_type = i64)]
    pub id: CertificateId,
    pub number: String,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub level_name: Text,
    pub occupation_code: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    /// As it stands now: a certificate revoked since it was shared is shown as `revoked`.
    pub status: CertificateStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SharedMilestone {
    pub key: String,
    pub rule_id: String,
    pub title: Text,
    pub status: Status,
    pub eligible_from: Option<NaiveDate>,
    pub open_until: Option<NaiveDate>,
    pub target_label: Option<Text>,
    pub citation: Citation,
}

impl From<&Milestone> for SharedMilestone {
    fn from(m: &Milestone) -> Self {
        Self {
            key: m.key.clone(),
            rule_id: m.rule_id.to_string(),
            title: m.title.clone(),
            status: m.status,
            eligible_from: m.eligible_from,
            open_until: m.open_until,
            target_label: m.target_label.clone(),
            citation: m.citation.clone(),
        }
    }
}

/// What an HR user sees of a learner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifiedView {
    /// Masked: the first character of the name.
    pub display_name: String,
    pub certificates: Vec<SharedCertificate>,
    /// As of `as_of`.
    pub milestones: Vec<SharedMilestone>,
    pub as_of: NaiveDate,
}

/// Which records a view shows.
pub enum Selection<'a> {
    /// Those a share names (certificates whatever their status now; milestones by key).
    Named {
        certificate_ids: &'a [CertificateId],
        milestone_keys: &'a [String],
    },
    /// Verified certificates and met milestones (the default of a share, and the employer's view).
    VerifiedAndMet,
}

impl Selection<'_> {
    fn shows_certificate(&self, c: &certificates::CertificateRow) -> bool {
        match self {
            Selection::Named {
                certificate_ids, ..
            } => certificate_ids.contains(&c.id),
            Selection::VerifiedAndMet => c.status == CertificateStatus::Verified,
        }
    }

    fn shows_milestone(&self, m: &Milestone) -> bool {
        match self {
            Selection::Named { milestone_keys, .. } => milestone_keys.contains(&m.key),
            Selection::VerifiedAndMet => m.status == Status::Met,
        }
    }
}

fn shared_certificate(row: certificates::CertificateRow) -> Result<SharedCertificate, AppError> {
    let level = row.level;
    Ok(SharedCertificate {
        id: row.id,
        number: row.number,
        kind: row.kind,
        level,
        level_name: Text::new(level.name_zh(), level.name_en()),
        occupation_code: row.occupation_code,
        issuer: row.issuer,
        issued_on: row.issued_on,
        status: row.status,
    })
}

/// A learner's certificates and milestones as of a date: loaded once, then viewed.
pub struct Records {
    pub certificates: Vec<certificates::CertificateRow>,
    pub milestones: Vec<Milestone>,
    pub as_of: NaiveDate,
}

impl Records {
    pub fn load(
        conn: &mut DbConnection,
        parameters: &ParameterCache,
        learner_id: LearnerId,
        as_of: NaiveDate,
    ) -> Result<Self, AppError> {
        let (milestones, _) =
            crate::services::eligibility::compute(conn, parameters, learner_id, as_of)?;
        Ok(Self {
            certificates: certificates::of_learner(conn, learner_id)?,
            milestones,
            as_of,
        })
    }

    /// The records `selection` picks, as HR sees them.
    pub fn view(
        &self,
        learner_name: &str,
        selection: &Selection<'_>,
    ) -> Result<VerifiedView, AppError> {
        Ok(VerifiedView {
            display_name: crate::domain::text::masked_name(learner_name),
            certificates: self
                .certificates
                .iter()
                .filter(|c| selection.shows_certificate(c))
                .cloned()
                .map(shared_certificate)
                .collect::<Result<Vec<_>, _>>()?,
            milestones: self
                .milestones
                .iter()
                .filter(|m| selection.shows_milestone(m))
                .map(SharedMilestone::from)
                .collect(),
            as_of: self.as_of,
        })
    }
}

/// The key that signs now, made on first use.
pub fn signing_key(
    conn: &mut DbConnection,
    vault: &KeyVault,
    now: NaiveDateTime,
) -> Result<(String, Vec<u8>), AppError> {
    let row = match shares::active_key(conn)? {
        Some(row) => row,
        None => new_signing_key(conn, vault, now)?,
    };
    let secret = vault
        .open(&row.private_key)
        .map_err(|e| AppError::internal("signing key", e))?;
    Ok((row.kid, secret))
}

/// Makes and stores a new signing key.
pub fn new_signing_key(
    conn: &mut DbConnection,
    vault: &KeyVault,
    now: NaiveDateTime,
) -> Result<SigningKeyRow, AppError> {
    let key = statements::generate();
    let row = SigningKeyRow {
        kid: key.kid,
        algorithm: "EdDSA".into(),
        public_key: key.public_key,
        private_key: vault
            .seal(&key.secret)
            .map_err(|e| AppError::internal("sealing a signing key", e))?,
        created_at: now,
        retired_at: None,
        signed_until: None,
    };
    shares::insert_key(conn, &row)?;
    Ok(row)
}

/// Retires the signing key (it stays published until its statements expire) and makes a new one.
pub fn rotate(
    conn: &mut DbConnection,
    vault: &KeyVault,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<SigningKeyRow, AppError> {
    shares::retire_active(conn, now)?;
    let key = new_signing_key(conn, vault, now)?;
    crate::db::audit::record(
        conn,
        Some(actor),
        AuditAction::Rotate,
        AuditEntity::SigningKey,
        &key.kid,
        &json!({}),
    )?;
    Ok(key)
}

/// The JWK Set of the published keys.
pub fn jwks(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Value, AppError> {
    let keys: Vec<Value> = shares::published_keys(conn, now)?
        .iter()
        .map(|k| statements::jwk(&k.kid, &k.public_key))
        .collect();
    Ok(json!({ "keys": keys }))
}

/// What a share's statement asserts.
pub struct StatementContent<'a> {
    pub issuer: &'a str,
    pub share: &'a ShareRow,
    pub recipient: Option<(InstitutionId, String)>,
    pub view: &'a VerifiedView,
    pub status_url: String,
}

/// Signs a share's statement with `key` (from `signing_key`) and records how long the key must
/// stay published.
pub fn sign_statement(
    conn: &mut DbConnection,
    key: &(String, Vec<u8>),
    content: &StatementContent<'_>,
) -> Result<String, AppError> {
    let (kid, secret) = key;
    let share = content.share;
    let claims = json!({
        "iss": content.issuer,
        "sub": format!("share:{}", share.id),
        "jti": format!("share-{}", share.id),
        "iat": share.created_at.and_utc().timestamp(),
        "exp": share.expires_at.and_utc().timestamp(),
        "share_id": share.id,
        "purpose": share.purpose,
        "recipient": content.recipient.as_ref().map(|(id, name)| json!({"institution_id": id, "name": name})),
        "learner": {"display_name": content.view.display_name},
        "certificates": content.view.certificates,
        "milestones": content.view.milestones,
        "as_of": content.view.as_of,
        "status_url": content.status_url,
    });
    let jws = statements::sign(kid, secret, &claims)
        .map_err(|e| AppError::internal("signing a statement", e))?;
    shares::extend_signed_until(conn, kid, share.expires_at)?;
    Ok(jws)
}

/// How far back HR staff who looked at a certificate are told that it was revoked.
pub const RELIANCE_DAYS: i64 = 180;

/// The HR accounts that saw `certificate_id` in the last `RELIANCE_DAYS` days — through a share
/// that contained it, or in the employer's view (which shows verified certificates) — each once,
/// with their latest look. Disabled accounts are left out.
pub fn relied_on(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    certificate_id: CertificateId,
    now: NaiveDateTime,
) -> Result<Vec<shares::Reliance>, AppError> {
    let since = now - chrono::Duration::days(RELIANCE_DAYS);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for look in shares::looks_since(conn, learner_id, since)? {
        let showed_it = match &look.shared_certificates {
            Some(json) => json_list::<CertificateId>(json)?.contains(&certificate_id),
            None => true,
        };
        if showed_it && !look.disabled && seen.insert(look.user_id) {
            out.push(look);
        }
    }
    Ok(out)
}

/// The identifier of a share's public status (`/verifications/status/{id}`): the share's id with
/// an HMAC under a key derived from the data key, so that the status of a share is reachable by
/// whoever holds its statement and by nobody who counts ids.
pub struct StatusTokens {
    key: [u8; 32],
}

impl StatusTokens {
    pub fn new(data_key: &crate::config::Secret) -> anyhow::Result<Self> {
        Ok(Self {
            key: crate::crypto::hmac(data_key.expose(), b"skillpath/share-status/v1")?,
        })
    }

    /// `{share_id}.{signature}`, URL-safe.
    pub fn token(&self, share_id: ShareId) -> anyhow::Result<String> {
        use base64::Engine;
        let mac = crate::crypto::hmac(&self.key, share_id.to_string().as_bytes())?;
        Ok(format!(
            "{share_id}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    /// The share a token was made for; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<ShareId> {
        use base64::Engine;
        use hmac::Mac;
        let (id, signature) = token.split_once('.')?;
        let share_id = id.parse::<ShareId>().ok()?;
        let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .ok()?;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(share_id.to_string().as_bytes());
        mac.verify_slice(&given).ok()?;
        Some(share_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_forgiving() {
        let code = new_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let canonical = normalize_code(&code).unwrap();
        assert_eq!(canonical.len(), 16);
        // Lower case, spaces, and O/I/L for 0/1 all find the same code.
        let sloppy = canonical.to_lowercase().replace('0', "o").replace('1', "l");
        assert_eq!(normalize_code(&sloppy).unwrap(), canonical);
        assert_eq!(normalize_code("ABCD EFGH JKMN PQRS").unwrap().len(), 16);
        assert!(normalize_code("ABCD-EFGH").is_none());
        assert!(
            normalize_code("ABCD-EFGH-JKMN-PQRU").is_none(),
            "U is not a symbol"
        );
        assert!(normalize_code("ABCD-EFGH-JKMN-PQR中").is_none());
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(crate::domain::text::masked_name("王芳"), "王*");
        assert_eq!(crate::domain::text::masked_name("欧阳娜娜"), "欧***");
        assert_eq!(
            crate::domain::text::masked_name("Wang Fang Wei Long"),
            "W***"
        );
        assert_eq!(crate::domain::text::masked_name(""), "");
    }

    #[test]
    fn status_tokens_cannot_be_counted() {
        let key = crate::config::Secret::new(b"a data key for the test".to_vec());
        let tokens = StatusTokens::new(&key).unwrap();
        let token = tokens.token(ShareId(42)).unwrap();
        assert_eq!(tokens.verify(&token), Some(ShareId(42)));
        assert_eq!(tokens.verify("42"), None);
        assert_eq!(tokens.verify(&token.replacen("42", "43", 1)), None);
        let other =
            StatusTokens::new(&crate::config::Secret::new(b"another key".to_vec())).unwrap();
        assert_eq!(other.verify(&token), None);
    }
}
