//! The notification outbox and the in-app inbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{inbox_messages, notification_outbox};
use super::DbConnection;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notification_outbox)]
pub struct NewOutboxRow {
    pub learner_id: i64,
    pub event_key: String,
    pub channel: String,
    pub category: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Inserts the row unless one for the same (learner, event, channel) exists; the id when inserted.
pub fn enqueue(conn: &mut DbConnection, row: &NewOutboxRow) -> QueryResult<Option<i64>> {
    crate::each_backend!(conn, c => diesel::insert_into(notification_outbox::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(notification_outbox::id)
        .get_result::<i64>(c)
        .optional())
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inbox_messages)]
pub struct NewInboxMessage {
    pub learner_id: i64,
    pub outbox_id: i64,
    pub category: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub created_at: NaiveDateTime,
}

pub fn deliver_to_inbox(conn: &mut DbConnection, message: &NewInboxMessage) -> QueryResult<usize> {
    diesel::insert_into(inbox_messages::table)
        .values(message)
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inbox_messages)]
pub struct InboxRow {
    pub id: i64,
    pub learner_id: i64,
    pub outbox_id: i64,
    pub category: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// A page of a learner's inbox, newest first, before `before_id`.
pub fn inbox(
    conn: &mut DbConnection,
    learner_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<InboxRow>> {
    let mut query = inbox_messages::table
        .filter(inbox_messages::learner_id.eq(learner_id))
        .order(inbox_messages::id.desc())
        .limit(limit)
        .select(InboxRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(inbox_messages::id.lt(before));
    }
    query.load(conn)
}

pub fn unread_count(conn: &mut DbConnection, learner_id: i64) -> QueryResult<i64> {
    inbox_messages::table
        .filter(inbox_messages::learner_id.eq(learner_id))
        .filter(inbox_messages::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks one message read; false when the learner has no such message.
pub fn mark_read(
    conn: &mut DbConnection,
    learner_id: i64,
    id: i64,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let exists: Option<i64> = inbox_messages::table
        .filter(inbox_messages::id.eq(id))
        .filter(inbox_messages::learner_id.eq(learner_id))
        .select(inbox_messages::id)
        .first(conn)
        .optional()?;
    if exists.is_none() {
        return Ok(false);
    }
    diesel::update(
        inbox_messages::table
            .filter(inbox_messages::id.eq(id))
            .filter(inbox_messages::read_at.is_null()),
    )
    .set(inbox_messages::read_at.eq(Some(at)))
    .execute(conn)?;
    Ok(true)
}

pub fn mark_all_read(
    conn: &mut DbConnection,
    learner_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        inbox_messages::table
            .filter(inbox_messages::learner_id.eq(learner_id))
            .filter(inbox_messages::read_at.is_null()),
    )
    .set(inbox_messages::read_at.eq(Some(at)))
    .execute(conn)
}

/// Email rows waiting for the worker (for the outbox's own checks and the admin view).
pub fn pending_email_count(conn: &mut DbConnection, learner_id: i64) -> QueryResult<i64> {
    notification_outbox::table
        .filter(notification_outbox::learner_id.eq(learner_id))
        .filter(notification_outbox::channel.eq("email"))
        .filter(notification_outbox::status.eq("pending"))
        .count()
        .get_result(conn)
}

/// A learner's stored preferences (JSON), if they set any.
pub fn preferences(conn: &mut DbConnection, learner_id: i64) -> QueryResult<Option<String>> {
    use super::schema::notification_preferences;
    notification_preferences::table
        .find(learner_id)
        .select(notification_preferences::settings)
        .first(conn)
        .optional()
}

pub fn save_preferences(
    conn: &mut DbConnection,
    learner_id: i64,
    settings: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::notification_preferences;
    diesel::delete(notification_preferences::table.find(learner_id)).execute(conn)?;
    diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::learner_id.eq(learner_id),
            notification_preferences::settings.eq(settings),
            notification_preferences::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
