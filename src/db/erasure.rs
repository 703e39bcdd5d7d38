//! Deletion requests, and the erasure of one learner's personal information across the tables.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{
    account_links, audit_log, awards, certificate_decisions, certificates, correction_requests,
    deletion_requests, employments, enrollments, erasures_in_progress, inbox_messages,
    learner_kind_changes, learner_milestones, learners, milestone_events, notification_outbox,
    notification_preferences, progress_snapshots, refresh_tokens, share_accesses, shares, users,
    web_sessions,
};
use super::DbConnection;
use crate::domain::{CertificateStatus, LearnerId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deletion_requests, treat_none_as_default_value = false)]
pub struct DeletionRow {
    pub learner_id: LearnerId,
    pub requested_by: Option<UserId>,
    pub requested_at: NaiveDateTime,
    pub erase_after: NaiveDateTime,
}

pub fn deletion_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Option<DeletionRow>> {
    deletion_requests::table
        .find(learner_id)
        .select(DeletionRow::as_select())
        .get_result(conn)
        .optional()
}

/// Stores the request unless one is pending (two requests at once store one).
pub fn insert_deletion(conn: &mut DbConnection, row: &DeletionRow) -> QueryResult<usize> {
    crate::each_backend!(conn, c => diesel::insert_into(deletion_requests::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

/// The learner's pending request, its row locked until the transaction ends (PostgreSQL; SQLite's
/// write transaction holds the database): a cancellation waits for an erasure under way.
pub fn lock_deletion(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Option<DeletionRow>> {
    match conn {
        DbConnection::Postgres(pg) => deletion_requests::table
            .find(learner_id)
            .select(DeletionRow::as_select())
            .for_update()
            .get_result(pg)
            .optional(),
        DbConnection::Sqlite(_) => deletion_of(conn, learner_id),
    }
}

pub fn delete_deletion(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<usize> {
    diesel::delete(deletion_requests::table.find(learner_id)).execute(conn)
}

/// The learners whose grace period ended by `now`.
pub fn due_deletions(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<LearnerId>> {
    deletion_requests::table
        .filter(deletion_requests::erase_after.le(now))
        .order(deletion_requests::erase_after)
        .select(deletion_requests::learner_id)
        .load(conn)
}

/// Text replaced in a column: `REPLACE(column, from, to)`, the same function on both backends,
/// the texts bound as parameters.
macro_rules! replaced {
    ($column:literal, $from:expr, $to:expr) => {
        sql::<Text>(concat!("REPLACE(", $column, ", "))
            .bind::<Text, _>($from.to_owned())
            .sql(", ")
            .bind::<Text, _>($to.to_owned())
            .sql(")")
    };
}

/// Replaces every occurrence of each of `secrets` with `pseudonym` in the audit entries `ids`
/// of `learner_id`. The audit log's trigger allows that change only while the learner's row in
/// `erasures_in_progress` exists: it is inserted here and deleted before the caller's
/// transaction commits, so it is never seen outside it.
pub fn pseudonymise_audit(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    ids: &[i64],
    secrets: &[String],
    pseudonym: &str,
) -> QueryResult<usize> {
    diesel::insert_into(erasures_in_progress::table)
        .values(erasures_in_progress::learner_id.eq(learner_id))
        .execute(conn)?;
    let changed = replace_in_audit(conn, ids, secrets, pseudonym)?;
    diesel::delete(erasures_in_progress::table.find(learner_id)).execute(conn)?;
    Ok(changed)
}

fn replace_in_audit(
    conn: &mut DbConnection,
    ids: &[i64],
    secrets: &[String],
    pseudonym: &str,
) -> QueryResult<usize> {
    let mut changed = 0;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        // Only entries that hold the text, compared exactly (SQLite's LIKE ignores case).
        changed += diesel::update(
            audit_log::table
                .filter(audit_log::id.eq_any(ids))
                .filter(audit_log::summary.ne(replaced!("summary", secret, pseudonym))),
        )
        .set(audit_log::summary.eq(replaced!("summary", secret, pseudonym)))
        .execute(conn)?;
    }
    Ok(changed)
}

/// Replaces each of `secrets` with `pseudonym` in the notices sent to other people about the learner's
/// certificates (HR told that a certificate they relied on was revoked).
pub fn pseudonymise_notices_to_others(
    conn: &mut DbConnection,
    event_keys_like: &[String],
    secrets: &[String],
    pseudonym: &str,
) -> QueryResult<()> {
    for pattern in event_keys_like {
        let ids: Vec<i64> = notification_outbox::table
            .filter(notification_outbox::event_key.like(pattern))
            .filter(notification_outbox::user_id.is_not_null())
            .select(notification_outbox::id)
            .load(conn)?;
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            replace_in_notices(conn, &ids, secret, pseudonym)?;
        }
    }
    Ok(())
}

fn replace_in_notices(
    conn: &mut DbConnection,
    ids: &[i64],
    secret: &str,
    pseudonym: &str,
) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(notification_outbox::table.filter(notification_outbox::id.eq_any(ids)))
        .set(notification_outbox::payload.eq(replaced!("payload", secret, pseudonym)))
        .execute(conn)?;
    let messages = inbox_messages::table.filter(inbox_messages::outbox_id.eq_any(ids));
    diesel::update(messages)
        .set((
            inbox_messages::title_zh.eq(replaced!("title_zh", secret, pseudonym)),
            inbox_messages::title_en.eq(replaced!("title_en", secret, pseudonym)),
            inbox_messages::body_zh.eq(replaced!("body_zh", secret, pseudonym)),
            inbox_messages::body_en.eq(replaced!("body_en", secret, pseudonym)),
        ))
        .execute(conn)?;
    Ok(())
}

/// What one erasure deleted or emptied, by table.
pub type Counts = Vec<(&'static str, usize)>;

/// Deletes the learner's own records and empties their row, keeping its id (what is kept of them
/// refers to it); their accounts are disabled and emptied, their sessions ended.
pub fn erase_rows(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    pseudonym: &str,
    unusable_password: &str,
    now: NaiveDateTime,
) -> QueryResult<Counts> {
    let mut counts = Counts::new();
    let account_ids: Vec<UserId> = users::table
        .filter(users::learner_id.eq(learner_id))
        .select(users::id)
        .load(conn)?;
    // The notices to the learner, and to their accounts (a password reset).
    let theirs = notification_outbox::learner_id
        .eq(learner_id)
        .or(notification_outbox::user_id.eq_any(account_ids.clone()));
    let outbox_ids = notification_outbox::table
        .filter(theirs.clone())
        .select(notification_outbox::id);
    counts.push((
        "inbox_messages",
        diesel::delete(
            inbox_messages::table.filter(
                inbox_messages::learner_id
                    .eq(learner_id)
                    .or(inbox_messages::user_id.eq_any(account_ids.clone()))
                    .or(inbox_messages::outbox_id.eq_any(outbox_ids)),
            ),
        )
        .execute(conn)?,
    ));
    counts.push((
        "notification_outbox",
        diesel::delete(notification_outbox::table.filter(theirs)).execute(conn)?,
    ));
    counts.push((
        "notification_preferences",
        diesel::delete(notification_preferences::table.find(learner_id)).execute(conn)?,
    ));
    counts.push((
        "share_accesses",
        diesel::delete(share_accesses::table.filter(share_accesses::learner_id.eq(learner_id)))
            .execute(conn)?,
    ));
    // Shares stay as revoked tombstones: a statement HR checks by its identifier reads revoked.
    diesel::update(
        shares::table
            .filter(shares::learner_id.eq(learner_id))
            .filter(shares::revoked_at.is_null()),
    )
    .set(shares::revoked_at.eq(Some(now)))
    .execute(conn)?;
    counts.push((
        "shares",
        diesel::update(shares::table.filter(shares::learner_id.eq(learner_id)))
            .set(shares::purpose.eq("[erased]"))
            .execute(conn)?,
    ));
    counts.push((
        "calendar_entries",
        super::calendar::delete_entries(conn, learner_id)?,
    ));
    counts.push((
        "calendar_feeds",
        super::calendar::delete_feed(conn, learner_id)?,
    ));
    counts.push((
        "correction_requests",
        diesel::delete(
            correction_requests::table.filter(correction_requests::learner_id.eq(learner_id)),
        )
        .execute(conn)?,
    ));
    counts.push((
        "milestone_events",
        diesel::delete(milestone_events::table.filter(milestone_events::learner_id.eq(learner_id)))
            .execute(conn)?,
    ));
    counts.push((
        "learner_milestones",
        diesel::delete(
            learner_milestones::table.filter(learner_milestones::learner_id.eq(learner_id)),
        )
        .execute(conn)?,
    ));
    counts.push((
        "progress_snapshots",
        diesel::delete(progress_snapshots::table.find(learner_id)).execute(conn)?,
    ));
    counts.push((
        "enrollments",
        diesel::delete(enrollments::table.filter(enrollments::learner_id.eq(learner_id)))
            .execute(conn)?,
    ));
    counts.push((
        "employments",
        diesel::delete(employments::table.filter(employments::learner_id.eq(learner_id)))
            .execute(conn)?,
    ));
    counts.push((
        "awards",
        diesel::delete(awards::table.filter(awards::learner_id.eq(learner_id))).execute(conn)?,
    ));
    counts.push((
        "learner_kind_changes",
        diesel::delete(
            learner_kind_changes::table.filter(learner_kind_changes::learner_id.eq(learner_id)),
        )
        .execute(conn)?,
    ));
    // Certificates still awaiting a decision go (nobody decided on or relied on them); the
    // others and their decisions stay (evaluators' decisions, HR's reliance), without the
    // decisions' free text.
    let decided = certificate_decisions::table.select(certificate_decisions::certificate_id);
    counts.push((
        "certificates",
        diesel::delete(
            certificates::table
                .filter(certificates::learner_id.eq(learner_id))
                .filter(certificates::status.eq(CertificateStatus::Pending))
                .filter(certificates::id.ne_all(decided)),
        )
        .execute(conn)?,
    ));
    let certificate_ids = certificates::table
        .filter(certificates::learner_id.eq(learner_id))
        .select(certificates::id);
    counts.push((
        "certificate_decisions",
        diesel::update(
            certificate_decisions::table
                .filter(certificate_decisions::certificate_id.eq_any(certificate_ids)),
        )
        .set(certificate_decisions::reason.eq("[erased]"))
        .execute(conn)?,
    ));
    let mut links = account_links::table
        .filter(account_links::learner_id.eq(learner_id))
        .select(account_links::token_hash)
        .into_boxed();
    if !account_ids.is_empty() {
        links = links.or_filter(account_links::user_id.eq_any(account_ids.clone()));
    }
    let link_hashes: Vec<String> = links.load(conn)?;
    counts.push((
        "account_links",
        diesel::delete(account_links::table.filter(account_links::token_hash.eq_any(&link_hashes)))
            .execute(conn)?,
    ));
    counts.push((
        "refresh_tokens",
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq_any(&account_ids)))
            .execute(conn)?,
    ));
    counts.push((
        "web_sessions",
        diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq_any(&account_ids)))
            .execute(conn)?,
    ));
    let mut emptied = 0;
    for account in &account_ids {
        // One address per account (addresses are unique).
        emptied += diesel::update(users::table.find(account))
            .set((
                users::email.eq(format!("{pseudonym}.{account}@erased.invalid")),
                users::password_hash.eq(unusable_password),
                users::disabled.eq(true),
                users::token_version.eq(users::token_version + 1),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    counts.push(("users", emptied));
    counts.push((
        "learners",
        diesel::update(learners::table.find(learner_id))
            .set((
                learners::name.eq(pseudonym),
                learners::email.eq(None::<String>),
                learners::hukou.eq(None::<String>),
                learners::residence_permit_since.eq(None::<chrono::NaiveDate>),
                learners::social_insurance_since.eq(None::<chrono::NaiveDate>),
                learners::income_tax_in_shanghai.eq(None::<bool>),
                learners::insurance_base_at_least_average_6_of_12.eq(None::<bool>),
                learners::education_level.eq(None::<String>),
                learners::education_occupation_codes.eq(""),
                learners::birth_date.eq(None::<chrono::NaiveDate>),
                learners::id_number_ciphertext.eq(None::<String>),
                learners::id_number_hash.eq(None::<String>),
                learners::id_number_masked.eq(None::<String>),
                learners::updated_at.eq(now),
                learners::erased_at.eq(Some(now)),
            ))
            .execute(conn)?,
    ));
    counts.push((
        "deletion_requests",
        diesel::delete(deletion_requests::table.find(learner_id)).execute(conn)?,
    ));
    Ok(counts)
}
