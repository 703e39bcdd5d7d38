//! Correction requests (PIPL Art. 46): a learner asks to correct a fact their college or
//! employer recorded, with a reason; that institution's staff (or an administrator) accept — the
//! fact changes through the same use case as any change, audited, milestones recomputed — or
//! refuse with a reason; the learner is told either way. Nothing changes silently.
//!
//! What can be asked: the learner's own facts that they cannot change themselves (name, kind,
//! birth date), an enrollment's dates and full-time flag, an employment spell's occupation, post,
//! dates, place and frontline flag. An identity number is not taken in a request (it would be
//! kept in clear in it): the college corrects it directly on sight of the document.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::auth::scope::{self, RefusedMatches};
use crate::auth::AuthUser;
use crate::crypto::IdentityVault;
use crate::db::corrections::{self, CorrectionRow, Listing, NewCorrection};
use crate::db::records;
use crate::db::{audit, institutions, learners, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    AuditAction, AuditEntity, CorrectionDecision, CorrectionRecord, CorrectionRequestId,
    CorrectionStatus, EmploymentId, EnrollmentId, InstitutionKind, LearnerId, NoticeKind, UserId,
};
use crate::error::AppError;
use crate::notify::messages::correction_message;
use crate::services::learner_input::{LearnerInput, SELF_EDITABLE};
use crate::services::records::{
    correct_employment, correct_enrollment, employment_fix, enrollment_fix,
};

/// The learner's facts a correction may name (the others they change themselves, or, for the
/// identity number, their college changes on sight of the document).
const LEARNER_FIELDS: &[&str] = &["name", "kind", "kind_effective_from", "birth_date"];

/// A learner's request as they send it.
#[derive(Debug, Clone)]
pub struct CorrectionForm {
    pub record: CorrectionRecord,
    pub record_id: Option<i64>,
    /// The fields and the values asked for: a JSON object in the shape of the record's changes.
    pub changes: Value,
    pub reason: String,
}

/// The present fields of `changes` (an object), or a refusal naming `changes`.
pub fn fields_of(changes: &Value) -> Result<Vec<String>, AppError> {
    match changes.as_object() {
        Some(map) if !map.is_empty() => Ok(map.keys().cloned().collect()),
        _ => Err(AppError::invalid(
            "changes",
            "must be an object naming at least one field",
        )),
    }
}

fn parse<T: serde::de::DeserializeOwned>(changes: &Value) -> Result<T, AppError> {
    serde_json::from_value(changes.clone()).map_err(|e| AppError::invalid("changes", e.to_string()))
}

/// The values `fields` hold in `current` (a record as JSON).
fn current_of(current: &Value, fields: &[String]) -> Value {
    let mut out = Map::new();
    for field in fields {
        out.insert(
            field.clone(),
            current.get(field).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

fn json_of<T: Serialize>(value: &T) -> Result<Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::internal("correction", e))
}

/// Records the learner's request (pending), after checking that it names a record of theirs and
/// fields and values that could be stored. Run in a write transaction.
pub fn request(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    actor: UserId,
    form: CorrectionForm,
    vault: &IdentityVault,
    now: NaiveDateTime,
) -> Result<CorrectionRow, AppError> {
    let mut checks = Checks::new();
    let reason = checks.text("reason", &form.reason, 1000);
    // A field named is a field changed: null would read as "unchanged" once parsed.
    for (name, value) in form.changes.as_object().into_iter().flatten() {
        checks.ensure(
            !value.is_null(),
            &format!("changes.{name}"),
            "must have a value",
        );
    }
    checks.done(|| Some(()))?;
    let reason = reason.unwrap_or_default();
    let fields = fields_of(&form.changes)?;
    let learner =
        learners::find(conn, learner_id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let (record_id, current, institution) = match form.record {
        CorrectionRecord::Learner => {
            let mut checks = Checks::new();
            checks.ensure(
                form.record_id.is_none(),
                "record_id",
                "must be absent for the learner's own facts",
            );
            for field in &fields {
                let name = format!("changes.{field}");
                if SELF_EDITABLE.contains(&field.as_str()) {
                    checks.add(&name, "you can change this yourself (PATCH /learners/{id})");
                } else if field == "id_number" {
                    checks.add(
                        &name,
                        "is corrected by your college on sight of the document, not by a request",
                    );
                } else if !LEARNER_FIELDS.contains(&field.as_str()) {
                    checks.add(
                        &name,
                        format!(
                            "is not a field that can be corrected; one of: {}",
                            LEARNER_FIELDS.join(", ")
                        ),
                    );
                }
            }
            checks.done(|| Some(()))?;
            // Values that could not be stored are refused now, not when staff accept.
            parse::<LearnerInput>(&form.changes)?.check(vault, false)?;
            let current = json!({
                "name": learner.name, "kind": learner.kind, "birth_date": learner.birth_date,
                "kind_effective_from": Value::Null,
            });
            (None, current, learner.registered_by_institution_id)
        }
        CorrectionRecord::Enrollment => {
            let id = form
                .record_id
                .ok_or_else(|| AppError::invalid("record_id", "is required"))?;
            let row = records::find_enrollment(conn, learner_id, EnrollmentId(id))?
                .ok_or(AppError::NotFound { what: "enrollment" })?;
            enrollment_fix(&parse(&form.changes)?, &row, now)?;
            let program = institutions::find_program(conn, row.program_id)?;
            (Some(id), json_of(&row)?, program.map(|p| p.institution_id))
        }
        CorrectionRecord::Employment => {
            let id = form
                .record_id
                .ok_or_else(|| AppError::invalid("record_id", "is required"))?;
            let row = records::find_employment(conn, learner_id, EmploymentId(id))?
                .ok_or(AppError::NotFound { what: "employment" })?;
            employment_fix(conn, &parse(&form.changes)?, &row, now)?;
            // The employer's staff decide; for an employer outside Skillpath, the registering
            // institution's unless it is another enterprise (whose HR may not change the spell).
            let registering = match learner.registered_by_institution_id {
                Some(id) => institutions::find(conn, id)?
                    .filter(|i| i.kind != InstitutionKind::Enterprise)
                    .map(|i| i.id),
                None => None,
            };
            let decides = row.employer_institution_id.or(registering);
            (Some(id), json_of(&row)?, decides)
        }
    };
    let row = corrections::insert(
        conn,
        &NewCorrection {
            learner_id,
            record: form.record,
            record_id,
            changes: form.changes.to_string(),
            current_values: current_of(&current, &fields).to_string(),
            reason,
            institution_id: institution,
            status: CorrectionStatus::Pending,
            requested_by: Some(actor),
            created_at: now,
        },
    )?;
    // The audit names the fields, never their values (the request keeps those).
    audit::record(
        conn,
        Some(actor),
        AuditAction::RequestCorrection,
        AuditEntity::CorrectionRequest,
        row.id,
        &json!({"learner_id": learner_id, "record": form.record, "record_id": record_id, "fields": fields}),
    )?;
    Ok(row)
}

/// What deciding needs besides the request.
pub struct Deciding<'a> {
    pub vault: &'a IdentityVault,
    pub refused: &'a RefusedMatches,
    pub now: NaiveDateTime,
}

/// Accepts (the fact changes as asked, through the record's own use case) or refuses (a reason
/// is required) a pending request, and tells the learner. Run in a write transaction.
pub fn decide(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: CorrectionRequestId,
    decision: CorrectionDecision,
    reason: &str,
    cx: &Deciding<'_>,
) -> Result<CorrectionRow, AppError> {
    let not_found = || AppError::NotFound {
        what: "correction request",
    };
    scope::corrections_decided_by(caller)?;
    corrections::lock(conn, id)?;
    let row = corrections::find(conn, id)?.ok_or_else(not_found)?;
    scope::require_correction_decider(caller, row.institution_id)?;
    if row.status != CorrectionStatus::Pending {
        return Err(AppError::conflict(
            "already_decided",
            format!("This request was already {}.", row.status),
        ));
    }
    let mut checks = Checks::new();
    let reason = match decision {
        CorrectionDecision::Refuse => checks.text("reason", reason, 1000),
        CorrectionDecision::Accept if reason.trim().is_empty() => Some(String::new()),
        CorrectionDecision::Accept => checks.text("reason", reason, 1000),
    };
    checks.done(|| Some(()))?;
    let reason = reason.unwrap_or_default();
    let changes: Value = serde_json::from_str(&row.changes)
        .map_err(|e| AppError::internal("stored correction", e))?;
    let (status, action) = match decision {
        CorrectionDecision::Accept => {
            apply(conn, caller, &row, &changes, cx)?;
            (CorrectionStatus::Accepted, AuditAction::AcceptCorrection)
        }
        CorrectionDecision::Refuse => (CorrectionStatus::Refused, AuditAction::RefuseCorrection),
    };
    corrections::decide(conn, id, status, caller.id, &reason, cx.now)?;
    audit::record(
        conn,
        Some(caller.id),
        action,
        AuditEntity::CorrectionRequest,
        id,
        &json!({"learner_id": row.learner_id, "record": row.record, "record_id": row.record_id, "reason": reason}),
    )?;
    let fields = fields_of(&changes)?.join(", ");
    let accepted = status == CorrectionStatus::Accepted;
    super::tell(
        conn,
        row.learner_id,
        format!("correction:{id}:{status}"),
        if accepted {
            NoticeKind::CorrectionAccepted
        } else {
            NoticeKind::CorrectionRefused
        },
        correction_message(accepted, &fields, &reason),
        cx.now,
    )?;
    corrections::find(conn, id)?.ok_or_else(not_found)
}

/// Changes the record as the request asks, in the decider's name, through the record's use case
/// (its checks, its audit entry, the learner's milestones recomputed).
fn apply(
    conn: &mut DbConnection,
    caller: &AuthUser,
    row: &CorrectionRow,
    changes: &Value,
    cx: &Deciding<'_>,
) -> Result<(), AppError> {
    let learner_id = row.learner_id;
    match (row.record, row.record_id) {
        (CorrectionRecord::Learner, _) => {
            let checked = parse::<LearnerInput>(changes)?.check(cx.vault, false)?;
            crate::services::learners::update(
                conn, caller, learner_id, checked, caller.id, cx.refused,
            )
        }
        (CorrectionRecord::Enrollment, Some(id)) => correct_enrollment(
            conn,
            caller,
            learner_id,
            EnrollmentId(id),
            &parse(changes)?,
            (row.id, &fields_of(changes)?),
            cx.now,
        ),
        (CorrectionRecord::Employment, Some(id)) => correct_employment(
            conn,
            caller,
            learner_id,
            EmploymentId(id),
            &parse(changes)?,
            (row.id, &fields_of(changes)?),
            cx.now,
        ),
        (_, None) => Err(AppError::internal(
            "stored correction",
            "a record's correction without its id",
        )),
    }
}

/// A page of requests the caller sees, newest first.
pub fn list(
    conn: &mut DbConnection,
    listing: Listing,
    status: Option<CorrectionStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CorrectionRow>, AppError> {
    Ok(corrections::list(conn, listing, status, before, limit)?)
}
