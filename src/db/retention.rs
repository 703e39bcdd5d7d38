//! Deleting what is kept no longer than its purpose needs (PIPL Art. 19).
//!
//! The audit log names shares and notifications by their number, and SQLite gives the next row
//! the highest number plus one: were the newest row deleted, its number would go to the next one,
//! and the entries about a deleted share would read as about another learner's. So the newest
//! row of each is kept until a newer one exists (PostgreSQL's sequences never give a number
//! twice; the rule costs nothing there). Decided correction requests are emptied, not deleted.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::schema::{
    correction_requests, inbox_messages, notification_outbox, share_accesses, shares,
};
use super::DbConnection;
use crate::domain::{Channel, CorrectionRequestId, CorrectionStatus, OutboxStatus};

/// Deletes the records of HR's looks made before `before`.
pub fn purge_share_accesses(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(share_accesses::table.filter(share_accesses::accessed_at.lt(before)))
        .execute(conn)
}

/// Deletes the shares that expired or were revoked before `before`, with their looks — all but
/// the newest share (see the module's doc).
pub fn purge_ended_shares(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let Some(newest) = shares::table
        .select(max(shares::id))
        .first::<Option<crate::domain::ShareId>>(conn)?
    else {
        return Ok(0);
    };
    let ended = || {
        shares::expires_at
            .lt(before)
            .or(shares::revoked_at.lt(before))
            .and(shares::id.lt(newest))
    };
    let ended_ids = shares::table.filter(ended()).select(shares::id.nullable());
    diesel::delete(share_accesses::table.filter(share_accesses::share_id.eq_any(ended_ids)))
        .execute(conn)?;
    diesel::delete(shares::table.filter(ended())).execute(conn)
}

/// Deletes the email notifications sent, and the notifications withdrawn, before `before` — all
/// but the newest notification (see the module's doc); the in-app inbox keeps its messages (and
/// the rows they came from).
pub fn purge_settled_notifications(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    let Some(newest) = notification_outbox::table
        .select(max(notification_outbox::id))
        .first::<Option<crate::domain::NoticeId>>(conn)?
    else {
        return Ok(0);
    };
    let in_inbox = inbox_messages::table.select(inbox_messages::outbox_id);
    let sent_email = notification_outbox::status
        .eq(OutboxStatus::Sent)
        .and(notification_outbox::channel.eq(Channel::Email))
        .and(notification_outbox::sent_at.lt(before));
    let withdrawn = notification_outbox::status
        .eq(OutboxStatus::Withdrawn)
        .and(notification_outbox::created_at.lt(before));
    diesel::delete(
        notification_outbox::table
            .filter(sent_email.or(withdrawn))
            .filter(notification_outbox::id.ne_all(in_inbox))
            .filter(notification_outbox::id.lt(newest)),
    )
    .execute(conn)
}

/// The correction requests decided before `before` that still hold their values and reasons:
/// id, changes, current values.
pub fn decided_corrections_to_forget(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<Vec<(CorrectionRequestId, String, String)>> {
    correction_requests::table
        .filter(correction_requests::status.ne(CorrectionStatus::Pending))
        .filter(correction_requests::decided_at.lt(before))
        .filter(correction_requests::reason.ne(""))
        .select((
            correction_requests::id,
            correction_requests::changes,
            correction_requests::current_values,
        ))
        .load(conn)
}

/// Keeps a decided request as the record that it was made and decided, with `changes` and
/// `current_values` as given (the fields without their values) and no reasons.
pub fn forget_correction(
    conn: &mut DbConnection,
    id: CorrectionRequestId,
    changes: &str,
    current_values: &str,
) -> QueryResult<usize> {
    diesel::update(correction_requests::table.find(id))
        .set((
            correction_requests::changes.eq(changes),
            correction_requests::current_values.eq(current_values),
            correction_requests::reason.eq(""),
            correction_requests::decision_reason.eq(Some("")),
        ))
        .execute(conn)
}
