//! Deleting what is kept no longer than its purpose needs (PIPL Art. 19).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    correction_requests, inbox_messages, notification_outbox, share_accesses, shares,
};
use super::DbConnection;
use crate::domain::{Channel, CorrectionStatus, OutboxStatus};

/// Deletes the records of HR's looks made before `before`.
pub fn purge_share_accesses(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(share_accesses::table.filter(share_accesses::accessed_at.lt(before)))
        .execute(conn)
}

/// Deletes the shares that expired or were revoked before `before`, with their looks.
pub fn purge_ended_shares(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let ended = || {
        shares::expires_at
            .lt(before)
            .or(shares::revoked_at.lt(before))
    };
    let ended_ids = shares::table.filter(ended()).select(shares::id.nullable());
    diesel::delete(share_accesses::table.filter(share_accesses::share_id.eq_any(ended_ids)))
        .execute(conn)?;
    diesel::delete(shares::table.filter(ended())).execute(conn)
}

/// Deletes the email notifications sent, and the notifications withdrawn, before `before`; the
/// in-app inbox keeps its messages (and the rows they came from).
pub fn purge_settled_notifications(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
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
            .filter(notification_outbox::id.ne_all(in_inbox)),
    )
    .execute(conn)
}

/// Deletes the correction requests decided before `before` (a pending one stays, however old).
pub fn purge_decided_corrections(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        correction_requests::table
            .filter(correction_requests::status.ne(CorrectionStatus::Pending))
            .filter(correction_requests::decided_at.lt(before)),
    )
    .execute(conn)
}
