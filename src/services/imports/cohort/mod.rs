//! A cohort's enrollments from a CSV file: rows checked, learners matched (within the
//! importer's scope) or created, and enrolled, all or nothing unless partial.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde_json::json;

use crate::auth::scope::{self, RefusedMatches};
use crate::auth::AuthUser;
use crate::crypto::IdentityVault;
use crate::db::learners::{self, NewLearner};
use crate::db::records::{self, NewEnrollment};
use crate::db::{self, audit, DbConnection};
use crate::domain::{
    today_in_shanghai, AuditAction, AuditEntity, CohortId, IdentityNumber, InstitutionId,
    LearnerId, LearnerKind, ProgramId, UserId,
};
use crate::error::AppError;

mod rows;
use crate::services::imports::csv::{CsvUpload, ImportReport, Rejections};
use rows::{file_consistent, parse_line, CohortLine, COHORT_COLUMNS};

/// Rows handled per round trip: a few statements per batch instead of several per row.
const BATCH_ROWS: usize = 500;

pub struct ImportContext<'a> {
    pub vault: &'a IdentityVault,
    /// Who imports: matches outside their scope are refused (the scope module decides).
    pub caller: &'a AuthUser,
    /// Where refused matches are noted for the audit log (outside the transaction).
    pub refused: &'a RefusedMatches,
    pub cohort_id: CohortId,
    pub program_id: ProgramId,
    pub institution_id: InstitutionId,
    pub actor: UserId,
}

/// Where an import goes: a cohort in the caller's scope (404 otherwise), of a program of an
/// institution the caller manages (403 otherwise).
#[derive(Debug, Clone, Copy)]
pub struct ImportTarget {
    pub cohort_id: CohortId,
    pub program_id: ProgramId,
    pub institution_id: InstitutionId,
}

impl ImportTarget {
    pub fn check(
        conn: &mut DbConnection,
        caller: &AuthUser,
        cohort_id: CohortId,
    ) -> Result<Self, AppError> {
        let (cohort, institution_id) = scope::visible_cohort(conn, caller, cohort_id)?;
        if !caller.manages_institution(institution_id) {
            return Err(AppError::Forbidden);
        }
        Ok(Self {
            cohort_id,
            program_id: cohort.program_id,
            institution_id,
        })
    }
}

/// Imports an upload into the cohort and queues the refresh of its learners' milestones and
/// the invitations of the learners it enrolled who have an address and no account: the one use
/// case of the API's import and the pages' upload. Run inside a write transaction.
pub fn import_and_refresh(
    conn: &mut DbConnection,
    ctx: &ImportContext<'_>,
    upload: CsvUpload,
    partial: bool,
) -> Result<ImportReport, AppError> {
    let at = db::now();
    let report = import_cohort(conn, ctx, upload, partial, at)?;
    // Invitations first: jobs run in the order they were queued, and the refresh of a large
    // cohort takes a while.
    if report.created > 0 {
        crate::services::jobs::enqueue(
            conn,
            &crate::services::jobs::Job::InviteEnrolled {
                cohort_id: ctx.cohort_id,
                at,
                actor: ctx.actor,
            },
        )?;
    }
    crate::services::jobs::enqueue(
        conn,
        &crate::services::jobs::Job::RefreshCohort {
            cohort_id: ctx.cohort_id,
        },
    )?;
    Ok(report)
}

/// How a row finds its learner: by identity-number hash, else by email.
#[derive(Clone, PartialEq, Eq, Hash)]
enum LearnerKey {
    IdHash(String),
    Email(String),
}

/// Where a row of the file leads.
enum Target {
    Existing(LearnerId),
    New(LearnerKey),
}

/// Matches or creates the learners of one batch and enrolls them in the cohort.
fn import_batch(
    conn: &mut DbConnection,
    ctx: &ImportContext<'_>,
    batch: Vec<CohortLine>,
    report: &mut ImportReport,
    rejected: &mut Rejections,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    // Seal identity numbers once per row.
    let mut rows = Vec::with_capacity(batch.len());
    for line in batch {
        let sealed = match &line.id_number {
            Some(n) => Some(ctx.vault.seal(n).map_err(AppError::Internal)?),
            None => None,
        };
        rows.push((line, sealed));
    }
    let hashes: Vec<String> = rows
        .iter()
        .filter_map(|(_, s)| s.as_ref().map(|s| s.hash.clone()))
        .collect();
    let emails: Vec<String> = rows.iter().filter_map(|(l, _)| l.email.clone()).collect();
    let mut by_hash: HashMap<String, LearnerId> = HashMap::new();
    let mut by_email: HashMap<String, (LearnerId, Option<String>)> = HashMap::new();
    for (id, hash, email) in learners::keys_by_hashes(conn, &hashes)?
        .into_iter()
        .chain(learners::keys_by_emails(conn, &emails)?)
    {
        if let Some(h) = &hash {
            by_hash.insert(h.clone(), id);
        }
        if let Some(e) = email {
            by_email.insert(e, (id, hash));
        }
    }

    // A match may be reached only within the importer's scope; the refusal is neutral.
    let matched: Vec<(LearnerId, &'static str)> = by_hash
        .values()
        .copied()
        .chain(by_email.values().map(|(id, _)| *id))
        .collect::<std::collections::BTreeSet<LearnerId>>()
        .into_iter()
        .map(|id| (id, "cohort_import"))
        .collect();
    let reachable = scope::split_matches(conn, ctx.caller, &matched, ctx.refused)?;

    // Resolve each row to an existing learner or a learner to create (once per key).
    let mut new_learners: Vec<NewLearner> = Vec::new();
    let mut new_keys: HashSet<LearnerKey> = HashSet::new();
    let mut new_emails: HashMap<String, Option<String>> = HashMap::new();
    let mut resolved: Vec<(CohortLine, Target)> = Vec::with_capacity(rows.len());
    for (line, sealed) in rows {
        let hash = sealed.as_ref().map(|s| s.hash.clone());
        let by_email_match = line.email.as_ref().and_then(|e| by_email.get(e));
        let outside = hash
            .as_ref()
            .and_then(|h| by_hash.get(h))
            .into_iter()
            .chain(by_email_match.map(|(id, _)| id))
            .find(|id| !reachable.contains(id));
        if outside.is_some() {
            rejected.push(line.line, "row", scope::OUT_OF_SCOPE_ROW);
            continue;
        }
        let target = if let Some(id) = hash.as_ref().and_then(|h| by_hash.get(h)) {
            Target::Existing(*id)
        } else if let Some((id, stored_hash)) = by_email_match {
            if stored_hash.is_some() && hash.is_some() && stored_hash != &hash {
                rejected.push(
                    line.line,
                    "email",
                    "belongs to another learner with a different identity number",
                );
                continue;
            }
            Target::Existing(*id)
        } else {
            if let Some(email) = &line.email {
                if let Some(other_hash) = new_emails.get(email) {
                    if other_hash != &hash {
                        rejected.push(
                            line.line,
                            "email",
                            "is used by another row of this file for a different learner",
                        );
                        continue;
                    }
                }
            }
            let key = match &hash {
                Some(h) => LearnerKey::IdHash(h.clone()),
                None => LearnerKey::Email(line.email.clone().unwrap_or_default()),
            };
            if new_keys.insert(key.clone()) {
                if let Some(email) = &line.email {
                    new_emails.insert(email.clone(), hash.clone());
                }
                new_learners.push(NewLearner {
                    name: line.name.clone(),
                    kind: line.kind,
                    email: line.email.clone(),
                    preferred_language: line.language,
                    hukou: line.hukou,
                    residence_permit_since: None,
                    social_insurance_since: None,
                    income_tax_in_shanghai: None,
                    insurance_base_at_least_average_6_of_12: None,
                    education_level: None,
                    education_occupation_codes: String::new(),
                    birth_date: line.id_number.as_ref().and_then(IdentityNumber::birth_date),
                    id_number_ciphertext: sealed.as_ref().map(|s| s.ciphertext.clone()),
                    id_number_hash: hash.clone(),
                    id_number_masked: sealed.as_ref().map(|s| s.masked.clone()),
                    registered_by_institution_id: Some(ctx.institution_id),
                    created_at: now,
                    updated_at: now,
                });
            }
            Target::New(key)
        };
        resolved.push((line, target));
    }

    let created = learners::insert_many(conn, &new_learners)?;
    report.learners_created = Some(report.learners_created.unwrap_or(0) + created.len() as u64);
    let mut created_ids: HashMap<LearnerKey, LearnerId> = HashMap::new();
    for (id, hash, email) in &created {
        match (hash, email) {
            (Some(h), _) => created_ids.insert(LearnerKey::IdHash(h.clone()), *id),
            (None, Some(e)) => created_ids.insert(LearnerKey::Email(e.clone()), *id),
            (None, None) => None,
        };
    }
    let kinds: Vec<(LearnerId, LearnerKind)> = new_learners
        .iter()
        .filter_map(|n| {
            let key = match (&n.id_number_hash, &n.email) {
                (Some(h), _) => LearnerKey::IdHash(h.clone()),
                (None, Some(e)) => LearnerKey::Email(e.clone()),
                (None, None) => return None,
            };
            created_ids.get(&key).map(|id| (*id, n.kind))
        })
        .collect();
    learners::record_first_kinds(conn, &kinds, today_in_shanghai(), Some(ctx.actor), now)?;

    report_unapplied(conn, &resolved, report)?;

    // Enroll: skip enrollments that already exist (same learner, program and start date).
    let mut learner_ids = Vec::with_capacity(resolved.len());
    let mut lines = Vec::with_capacity(resolved.len());
    for (line, target) in resolved {
        let id = match target {
            Target::Existing(id) => {
                report.learners_matched = Some(report.learners_matched.unwrap_or(0) + 1);
                id
            }
            Target::New(key) => *created_ids.get(&key).ok_or_else(|| {
                AppError::internal("cohort import", "a created learner was not returned")
            })?,
        };
        learner_ids.push(id);
        lines.push((id, line));
    }
    let mut existing: HashSet<(LearnerId, NaiveDate)> =
        records::existing_enrollments(conn, ctx.program_id, &learner_ids)?
            .into_iter()
            .collect();
    let mut enrollments = Vec::new();
    for (learner_id, line) in lines {
        if !existing.insert((learner_id, line.start)) {
            report.unchanged += 1;
            continue;
        }
        enrollments.push(NewEnrollment {
            learner_id,
            program_id: ctx.program_id,
            cohort_id: Some(ctx.cohort_id),
            start_date: line.start,
            end_date: line.end,
            full_time: line.full_time,
            status: line.status,
            class_type: line.class_type,
            created_at: now,
            updated_at: now,
        });
    }
    report.created += records::insert_enrollments(conn, &enrollments)? as u64;
    Ok(())
}

/// Compares each row matched to an existing learner with the stored record: the import enrolls,
/// it does not edit a person's record, so whatever differs is reported row by row.
fn report_unapplied(
    conn: &mut DbConnection,
    resolved: &[(CohortLine, Target)],
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let ids: Vec<LearnerId> = resolved
        .iter()
        .filter_map(|(_, t)| match t {
            Target::Existing(id) => Some(*id),
            Target::New(_) => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let stored: HashMap<LearnerId, learners::LearnerRow> = learners::find_many(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for (line, target) in resolved {
        let Target::Existing(id) = target else {
            continue;
        };
        let Some(row) = stored.get(id) else {
            continue;
        };
        let n = line.line;
        if row.name != line.name {
            report.warn(
                n,
                "name",
                "differs from the learner's stored name, which is kept",
            );
        }
        if line.id_number.is_some() && row.id_number_hash.is_none() {
            report.warn(
                n,
                "id_number",
                "not applied: the learner was matched by email and has no identity number on \
record; add it in the learner's record",
            );
        }
        if let Some(email) = &line.email {
            match &row.email {
                Some(stored) if stored == email => {}
                Some(_) => report.warn(
                    n,
                    "email",
                    "not applied: the learner was matched by identity number and has another \
email on record",
                ),
                None => report.warn(
                    n,
                    "email",
                    "not applied: the learner has no email on record; add it in the learner's \
record",
                ),
            }
        }
        if line.kind_given && row.kind != line.kind {
            report.warn(n, "kind", "not applied: differs from the stored kind");
        }
        if line.language_given && row.preferred_language != line.language {
            report.warn(
                n,
                "preferred_language",
                "not applied: differs from the stored language",
            );
        }
        if let Some(hukou) = line.hukou {
            if row.hukou != Some(hukou) {
                report.warn(n, "hukou", "not applied: differs from the stored hukou");
            }
        }
    }
    Ok(())
}

/// Imports an upload into the cohort; what it creates is stamped `now` (the invitations that
/// follow find its enrollments by that time).
pub fn import_cohort(
    conn: &mut DbConnection,
    ctx: &ImportContext<'_>,
    mut upload: CsvUpload,
    partial: bool,
    now: chrono::NaiveDateTime,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::new(upload.encoding, partial);
    report.learners_created = Some(0);
    report.learners_matched = Some(0);
    let mut rejected = Rejections::default();
    let columns = upload.columns(COHORT_COLUMNS)?;
    // All-or-nothing: every row is checked before any is matched against stored learners, so a
    // file that will be refused anyway reveals nothing of who is on record. With ?partial=true,
    // rows are matched a batch at a time as they are read.
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut held: Vec<CohortLine> = Vec::new();
    let mut emails_in_file: HashMap<String, Option<String>> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match upload.reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                report.rows_read += 1;
                let line = record.position().map_or(0, |p| p.line());
                if !columns.fits(&record, line, &mut rejected) {
                    continue;
                }
                if let Some(parsed) = parse_line(&columns, &record, line, &mut rejected) {
                    if partial {
                        batch.push(parsed);
                    } else if file_consistent(&parsed, &mut emails_in_file, &mut rejected)
                        && rejected.count == 0
                    {
                        held.push(parsed);
                    }
                }
            }
            Err(e) => {
                if e.is_io_error() {
                    return Err(AppError::bad_input(
                        "invalid_body",
                        format!("Reading the upload failed: {e}"),
                    ));
                }
                report.rows_read += 1;
                rejected.push(
                    e.position().map_or(0, |p| p.line()),
                    "row",
                    format!("unreadable row: {e}"),
                );
            }
        }
        if batch.len() >= BATCH_ROWS {
            import_batch(
                conn,
                ctx,
                std::mem::take(&mut batch),
                &mut report,
                &mut rejected,
                now,
            )?;
        }
    }
    if partial {
        import_batch(conn, ctx, batch, &mut report, &mut rejected, now)?;
    } else if rejected.count == 0 {
        let mut rows = held.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<CohortLine> = rows.by_ref().take(BATCH_ROWS).collect();
            import_batch(conn, ctx, chunk, &mut report, &mut rejected, now)?;
            if rejected.count > 0 {
                break; // nothing will be stored: match no further
            }
        }
    }
    let report = report.finish(rejected)?;
    audit::record(
        conn,
        Some(ctx.actor),
        AuditAction::Import,
        AuditEntity::Cohort,
        ctx.cohort_id,
        &json!({
            "rows": report.rows_read, "enrollments_created": report.created, "unchanged": report.unchanged,
            "learners_created": report.learners_created, "learners_matched": report.learners_matched,
            "rejected": report.rejected_count, "partial": partial,
        }),
    )?;
    Ok(report)
}
