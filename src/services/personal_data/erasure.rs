//! Deletion (PIPL Art. 47): a learner asks to delete their account; after a grace period
//! (`retention.deletion_grace_days`, during which they can cancel) their personal information is
//! erased by the daily durable job. Administrators erase at once on a verified request.
//!
//! Erased: the learner's name, contacts, identity number (ciphertext, keyed hash, masked form),
//! every fact and free text; their enrollments, employment, awards, milestones and their events,
//! notifications, preferences, calendar, correction requests, HR's looks; their accounts' emails,
//! passwords and sessions. Kept, pseudonymised — the person replaced by a pseudonym drawn at
//! random for this erasure (`erased-…`), the same in every place it appears: the learner's row
//! (its id anchors the rest; it says when it was erased), the certificates with the evaluators'
//! decisions (their reasons emptied), the shares as revoked tombstones (a statement HR checks by
//! its identifier reads revoked), and the audit entries about the person.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::RngCore;
use serde_json::json;

use crate::db::erasure::{self, DeletionRow};
use crate::db::personal_data;
use crate::db::{audit, learners, Database, DbConnection};
use crate::domain::{AuditAction, AuditEntity, LearnerId, NoticeKind, UserId};
use crate::error::AppError;
use crate::notify::messages::{deletion_cancelled_message, deletion_scheduled_message};
use crate::services::eligibility::InForce;

/// The learner's pending deletion, if they asked for one.
pub fn pending(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> Result<Option<DeletionRow>, AppError> {
    Ok(erasure::deletion_of(conn, learner_id)?)
}

/// The day (in Shanghai) after which the learner is erased, as they are told it.
pub fn erase_on(row: &DeletionRow) -> NaiveDate {
    row.erase_after
        .and_utc()
        .with_timezone(&crate::domain::SHANGHAI)
        .date_naive()
}

/// Schedules the erasure of the learner after the grace period (asking again changes nothing)
/// and tells them when. Run in a write transaction.
pub fn request(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    actor: UserId,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<DeletionRow, AppError> {
    if let Some(existing) = erasure::deletion_of(conn, learner_id)? {
        return Ok(existing);
    }
    let params = InForce::read(conn, today)?.parameters;
    let grace = i64::from(params.int(crate::param!("retention.deletion_grace_days")));
    let row = DeletionRow {
        learner_id,
        requested_by: Some(actor),
        requested_at: now,
        erase_after: now + Duration::days(grace),
    };
    if erasure::insert_deletion(conn, &row)? == 0 {
        // Asked twice at once: the other request stands.
        return erasure::deletion_of(conn, learner_id)?
            .ok_or(AppError::NotFound { what: "learner" });
    }
    audit::record(
        conn,
        Some(actor),
        AuditAction::RequestDeletion,
        AuditEntity::Learner,
        learner_id,
        &json!({"erase_after": row.erase_after}),
    )?;
    super::tell(
        conn,
        learner_id,
        format!("deletion:{learner_id}:scheduled:{now}"),
        NoticeKind::DeletionScheduled,
        deletion_scheduled_message(erase_on(&row)),
        now,
    )?;
    Ok(row)
}

/// Cancels the learner's pending deletion; whether there was one. Run in a write transaction.
pub fn cancel(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    if erasure::delete_deletion(conn, learner_id)? == 0 {
        return Ok(false);
    }
    audit::record(
        conn,
        Some(actor),
        AuditAction::CancelDeletion,
        AuditEntity::Learner,
        learner_id,
        &json!({}),
    )?;
    super::tell(
        conn,
        learner_id,
        format!("deletion:{learner_id}:cancelled:{now}"),
        NoticeKind::DeletionCancelled,
        deletion_cancelled_message(),
        now,
    )?;
    Ok(true)
}

/// Why a learner was erased, for the audit log.
#[derive(Debug, Clone)]
pub enum ErasureBasis {
    /// Their own request, after the grace period.
    OwnRequest,
    /// An administrator acting on a verified request (its reference and reason).
    Administrator { reference: String, reason: String },
}

impl ErasureBasis {
    /// An administrator's basis, checked: the request's reference (1 to 200 characters) and
    /// how it was verified (1 to 1000); each refusal names its field.
    pub fn administrator(reference: &str, reason: &str) -> Result<Self, AppError> {
        let mut checks = crate::domain::checks::Checks::new();
        let reference = checks.text("reference", reference, 200);
        let reason = checks.text("reason", reason, 1000);
        checks.done(|| {
            Some(Self::Administrator {
                reference: reference?,
                reason: reason?,
            })
        })
    }
}

/// What stands for the person now, and since when (the rows it touched are in its audit entry).
#[derive(Debug, Clone)]
pub struct Erased {
    pub pseudonym: String,
    pub erased_at: NaiveDateTime,
}

/// Erases the learner's personal information now (see the module's documentation). Run in a
/// write transaction.
pub fn erase(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    actor: Option<UserId>,
    basis: &ErasureBasis,
    now: NaiveDateTime,
) -> Result<Erased, AppError> {
    // Two erasures of one learner at once: the second finds the row erased.
    learners::lock(conn, &[learner_id])?;
    let rows = personal_data::learner_rows(conn, learner_id)?
        .filter(|r| r.learner.erased_at.is_none())
        .ok_or(AppError::NotFound { what: "learner" })?;
    let mut random = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let pseudonym = format!("erased-{}", hex::encode(random));
    let secrets = names_of(&rows);
    let audit_ids: Vec<i64> = rows.audit_entries.iter().map(|a| a.id).collect();
    erasure::pseudonymise_audit(conn, learner_id, &audit_ids, &secrets, &pseudonym)?;
    let about_certificates: Vec<String> = rows
        .certificates
        .iter()
        .map(|c| format!("certificate:{}:%", c.id))
        .collect();
    erasure::pseudonymise_notices_to_others(conn, &about_certificates, &secrets, &pseudonym)?;
    // No password matches a stored value that is not a hash (and the accounts are disabled):
    // no hashing inside the write transaction.
    let unusable = "!erased";
    let counts = erasure::erase_rows(conn, learner_id, &pseudonym, unusable, now)?;
    let basis = match basis {
        ErasureBasis::OwnRequest => json!({"basis": "own_request"}),
        ErasureBasis::Administrator { reference, reason } => {
            json!({"basis": "administrator", "reference": reference, "reason": reason})
        }
    };
    audit::record(
        conn,
        actor,
        AuditAction::Erase,
        AuditEntity::Learner,
        learner_id,
        &json!({
            "pseudonym": pseudonym,
            "request": basis,
            "rows": counts.iter().map(|(t, n)| (t.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        }),
    )?;
    tracing::info!(learner_id = learner_id.0, "learner erased");
    Ok(Erased {
        pseudonym,
        erased_at: now,
    })
}

/// Every text that names the person as it may appear in what is kept: their name, email
/// addresses and masked identity number, now and before (the names and masked numbers the audit
/// entries about their record and their correction requests hold). Longest first, so that a
/// name inside an address is replaced with the address; none shorter than two characters.
fn names_of(rows: &personal_data::LearnerRows) -> Vec<String> {
    let mut secrets: Vec<String> = vec![rows.learner.name.clone()];
    secrets.extend(rows.learner.email.clone());
    secrets.extend(rows.learner.id_number_masked.clone());
    secrets.extend(rows.accounts.iter().map(|a| a.email.clone()));
    let text_of = |value: &serde_json::Value, key: &str| {
        value.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    };
    for entry in rows
        .audit_entries
        .iter()
        .filter(|a| a.entity_type == AuditEntity::Learner.as_str())
    {
        if let Ok(summary) = serde_json::from_str::<serde_json::Value>(&entry.summary) {
            secrets.extend(text_of(&summary, "name"));
            secrets.extend(text_of(&summary, "id_number").filter(|n| n.contains('*')));
        }
    }
    for request in &rows.correction_requests {
        for text in [&request.changes, &request.current_values] {
            if let Ok(values) = serde_json::from_str::<serde_json::Value>(text) {
                secrets.extend(text_of(&values, "name"));
            }
        }
    }
    secrets.retain(|s| s.trim().chars().count() >= 2);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    let mut seen = std::collections::HashSet::new();
    secrets.retain(|s| seen.insert(s.clone()));
    secrets
}

/// Erases every learner whose grace period has ended, each in its own transaction; how many.
/// One that fails is logged and the others go on; the job fails afterwards (and is retried).
pub fn erase_due(database: &Database, now: NaiveDateTime) -> Result<usize, AppError> {
    let due = erasure::due_deletions(&mut *database.get()?, now)?;
    let (mut erased, mut failed) = (0, 0);
    for learner_id in due {
        let outcome = database.get().and_then(|mut conn| {
            crate::db::write_transaction(&mut conn, |conn| {
                // Locked, so that a cancellation waits; cancelled since it was read: nothing to do.
                match erasure::lock_deletion(conn, learner_id)? {
                    Some(row) if row.erase_after <= now => {
                        erase(conn, learner_id, None, &ErasureBasis::OwnRequest, now).map(|_| true)
                    }
                    _ => Ok(false),
                }
            })
        });
        match outcome {
            Ok(done) => erased += usize::from(done),
            Err(error) => {
                failed += 1;
                tracing::error!(learner_id = learner_id.0, error = ?error, "erasing a learner failed");
            }
        }
    }
    if failed > 0 {
        return Err(AppError::internal(
            "erasure",
            format!("{failed} learner(s) could not be erased ({erased} were)"),
        ));
    }
    Ok(erased)
}
