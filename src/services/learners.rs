//! Registering a learner and changing their facts: the identity number and email checked
//! against the register (within the caller's scope; a match outside it is refused neutrally),
//! the kind's history kept, milestones recomputed and the change audited, in one transaction.

use chrono::NaiveDate;
use serde_json::json;

use crate::auth::scope::{self, require_learner, RefusedMatches};
use crate::auth::AuthUser;
use crate::db::learners::{
    self, KindChangeRow, LearnerChanges, LearnerFilter, LearnerRow, NewLearner,
};
use crate::db::{self, audit, DbConnection};
use crate::domain::{
    checks::Checks, AuditAction, AuditEntity, InstitutionId, Language, LearnerId, LearnerKind,
    UserId,
};
use crate::error::AppError;

/// A learner's fields as sent, each checked on its own.
pub struct CheckedLearner {
    pub changes: LearnerChanges,
    pub kind: Option<LearnerKind>,
    pub effective_from: NaiveDate,
    pub education_codes: Vec<String>,
    pub id_hash: Option<String>,
}

/// Registers the learner; their id. Run inside a write transaction.
pub fn register(
    conn: &mut DbConnection,
    caller: &AuthUser,
    checked: CheckedLearner,
    registered_by: Option<InstitutionId>,
    actor: UserId,
    refused: &RefusedMatches,
) -> Result<LearnerId, AppError> {
    let kind = checked
        .kind
        .ok_or_else(|| AppError::invalid("kind", "is required"))?;
    check_against_stored(conn, caller, &checked, None, refused)?;
    let now = db::now();
    let c = &checked.changes;
    let new = NewLearner {
        name: c.name.clone().unwrap_or_default(),
        kind,
        email: c.email.clone().flatten(),
        preferred_language: c.preferred_language.unwrap_or(Language::ZhCn),
        hukou: c.hukou.flatten(),
        residence_permit_since: c.residence_permit_since.flatten(),
        social_insurance_since: c.social_insurance_since.flatten(),
        income_tax_in_shanghai: c.income_tax_in_shanghai.flatten(),
        insurance_base_at_least_average_6_of_12: c
            .insurance_base_at_least_average_6_of_12
            .flatten(),
        education_level: c.education_level.flatten(),
        education_occupation_codes: c.education_occupation_codes.clone().unwrap_or_default(),
        birth_date: c.birth_date.flatten(),
        id_number_ciphertext: c.id_number_ciphertext.clone().flatten(),
        id_number_hash: c.id_number_hash.clone().flatten(),
        id_number_masked: c.id_number_masked.clone().flatten(),
        registered_by_institution_id: registered_by,
        created_at: now,
        updated_at: now,
    };
    let row = learners::insert(conn, &new)?;
    learners::record_kind(conn, row.id, kind, checked.effective_from, Some(actor), now)?;
    super::eligibility::refresh_now(conn, row.id)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Create,
        AuditEntity::Learner,
        row.id,
        &audit_summary(c, Some(&row.name)),
    )?;
    Ok(row.id)
}

/// Changes learner `id`'s facts. Run inside a write transaction.
pub fn update(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: LearnerId,
    checked: CheckedLearner,
    actor: UserId,
    refused: &RefusedMatches,
) -> Result<(), AppError> {
    require_learner(conn, caller, id)?;
    let current = learners::find(conn, id)?.ok_or(AppError::NotFound { what: "learner" })?;
    let new_kind = checked.kind.filter(|k| *k != current.kind);
    if new_kind.is_some() {
        // History is a sequence: a change cannot take effect before the kind it replaces.
        if let Some(last) = learners::kind_history(conn, id)?.last() {
            if checked.effective_from < last.effective_from {
                return Err(AppError::invalid(
                    "kind_effective_from",
                    format!(
                        "must not be before {}, when the current kind took effect",
                        last.effective_from
                    ),
                ));
            }
        }
    }
    // Matched last: a change refused for another reason tells nothing of who is on record.
    check_against_stored(conn, caller, &checked, Some(id), refused)?;
    let now = db::now();
    let mut changes = checked.changes;
    changes.updated_at = Some(now);
    learners::update(conn, id, &changes)?;
    if let Some(kind) = new_kind {
        learners::record_kind(conn, id, kind, checked.effective_from, Some(actor), now)?;
    }
    super::eligibility::refresh_now(conn, id)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Update,
        AuditEntity::Learner,
        id,
        &audit_summary(&changes, None),
    )?;
    Ok(())
}

/// Uniqueness of email and identity number among learners other than `except`, and the
/// existence of the education occupation codes.
/// Refuses an identity number or email that another learner holds. Within the caller's scope
/// the answer says so; outside it, the one neutral refusal of the scope module (which does not
/// tell which identifier matched), and the match is noted for the audit log.
fn check_against_stored(
    conn: &mut DbConnection,
    caller: &AuthUser,
    checked: &CheckedLearner,
    except: Option<LearnerId>,
    refused: &RefusedMatches,
) -> Result<(), AppError> {
    // Everything else is checked before anyone is matched: a request that fails anyway must
    // not tell, for free, whether its identity number or email is on record.
    let mut checks = Checks::new();
    super::occupation_catalog::check_occupations(
        conn,
        &mut checks,
        checked
            .education_codes
            .iter()
            .enumerate()
            .map(|(i, code)| (format!("education_occupation_codes[{i}]"), code.as_str())),
    )?;
    checks.done(|| Some(()))?;
    let by_hash = match &checked.id_hash {
        Some(hash) => learners::find_by_id_hash(conn, hash)?.filter(|o| Some(o.id) != except),
        None => None,
    };
    let by_email = match &checked.changes.email {
        Some(Some(email)) => learners::find_by_email(conn, email)?.filter(|o| Some(o.id) != except),
        _ => None,
    };
    let matches: Vec<(LearnerId, &'static str)> = by_hash
        .iter()
        .map(|o| (o.id, "id_number"))
        .chain(by_email.iter().map(|o| (o.id, "email")))
        .collect();
    let reachable = scope::split_matches(conn, caller, &matches, refused)?;
    if matches.iter().any(|(id, _)| !reachable.contains(id)) {
        return Err(scope::out_of_scope_match());
    }
    if by_hash.is_some() {
        return Err(AppError::conflict(
            "learner_exists",
            "A learner with this identity number is already registered.",
        ));
    }
    if by_email.is_some() {
        return Err(AppError::conflict(
            "learner_email_taken",
            "Another learner has this email.",
        ));
    }
    Ok(())
}

/// A summary for the audit log: which fields changed, never the identity number itself.
fn audit_summary(changes: &LearnerChanges, name: Option<&str>) -> serde_json::Value {
    json!({
        "name": name,
        "kind": changes.kind,
        "id_number": changes.id_number_masked.as_ref().map(|m| m.clone().unwrap_or_else(|| "cleared".into())),
        "email_changed": changes.email.is_some(),
        "residence_facts_changed": changes.hukou.is_some() || changes.residence_permit_since.is_some()
            || changes.social_insurance_since.is_some() || changes.income_tax_in_shanghai.is_some()
            || changes.insurance_base_at_least_average_6_of_12.is_some(),
    })
}

/// Learners the caller may see that match `filter`, after the cursor, each with the history of
/// their kind (oldest first).
pub fn list(
    conn: &mut DbConnection,
    caller: &AuthUser,
    filter: &LearnerFilter,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<(LearnerRow, Vec<KindChangeRow>)>, AppError> {
    let rows = learners::list(conn, caller.learner_scope(), filter, after, limit)?;
    let ids: Vec<LearnerId> = rows.iter().map(|r| r.id).collect();
    let histories = learners::kind_histories(conn, &ids)?;
    Ok(super::with_children(
        rows,
        histories,
        |r| r.id,
        |c| c.learner_id,
    ))
}

/// A cohort with its learners, each with the statuses of their stored milestones.
pub type CohortLearners = (
    crate::db::cohorts::CohortRow,
    Vec<(LearnerRow, Vec<crate::rules::Status>)>,
);

/// A cohort the caller may see (404 otherwise) with its learners, by name, each with the
/// statuses of their stored milestones.
pub fn of_cohort(
    conn: &mut DbConnection,
    caller: &AuthUser,
    cohort_id: crate::domain::CohortId,
) -> Result<CohortLearners, AppError> {
    let (cohort, _) = scope::visible_cohort(conn, caller, cohort_id)?;
    let ids = db::milestones::learner_ids_of_cohort(conn, cohort_id)?;
    let mut rows = learners::find_many(conn, &ids)?;
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let states = db::milestones::stored_states(conn, &ids)?;
    let learners = super::with_children(rows, states, |r| r.id, |s| s.learner_id)
        .into_iter()
        .map(|(row, states)| (row, states.into_iter().map(|s| s.status).collect()))
        .collect();
    Ok((cohort, learners))
}
