//! The notification outbox and the in-app inbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{inbox_messages, notification_outbox};
use super::DbConnection;
use crate::domain::{
    Category, Channel, LearnerId, MessageId, NoticeId, NoticeKind, OutboxStatus, UserId,
};

/// Whom a notification is for: a learner, or a staff account (HR staff who relied on a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipient {
    Learner(LearnerId),
    User(UserId),
}

impl Recipient {
    pub fn learner_id(self) -> Option<LearnerId> {
        match self {
            Self::Learner(id) => Some(id),
            Self::User(_) => None,
        }
    }

    pub fn user_id(self) -> Option<UserId> {
        match self {
            Self::User(id) => Some(id),
            Self::Learner(_) => None,
        }
    }

    /// The recipient of a stored row (`None` for a row that names neither, which the database
    /// refuses).
    pub fn of(learner_id: Option<LearnerId>, user_id: Option<UserId>) -> Option<Self> {
        learner_id.map(Self::Learner).or(user_id.map(Self::User))
    }
}

/// The inbox messages of one recipient, as a filter usable in selects and updates.
fn inbox_of(
    recipient: Recipient,
) -> Box<
    dyn BoxableExpression<
        inbox_messages::table,
        super::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    match recipient {
        Recipient::Learner(id) => Box::new(inbox_messages::learner_id.eq(id).assume_not_null()),
        Recipient::User(id) => Box::new(inbox_messages::user_id.eq(id).assume_not_null()),
    }
}

/// The outbox rows of the recipient a row names.
fn outbox_of(
    learner_id: Option<LearnerId>,
    user_id: Option<UserId>,
) -> Box<
    dyn BoxableExpression<
        notification_outbox::table,
        super::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    match (learner_id, user_id) {
        (Some(id), _) => Box::new(notification_outbox::learner_id.eq(id).assume_not_null()),
        (None, Some(id)) => Box::new(notification_outbox::user_id.eq(id).assume_not_null()),
        (None, None) => Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("FALSE")),
    }
}

/// What makes an outbox row unique: (learner, user, event key, channel).
pub type OutboxKey = (Option<LearnerId>, Option<UserId>, String, Channel);

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notification_outbox, treat_none_as_default_value = false)]
pub struct NewOutboxRow {
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub event_key: String,
    pub channel: Channel,
    pub category: Category,
    pub kind: NoticeKind,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// A one-time link's token, sealed (`notify::links`); cleared once the email is sent.
    pub secret: Option<String>,
}

impl NewOutboxRow {
    pub fn key(&self) -> OutboxKey {
        (
            self.learner_id,
            self.user_id,
            self.event_key.clone(),
            self.channel,
        )
    }
}

/// Inserts the row unless one for the same (recipient, event, channel) exists; the id when
/// inserted.
pub fn enqueue(conn: &mut DbConnection, row: &NewOutboxRow) -> QueryResult<Option<NoticeId>> {
    crate::each_backend!(conn, c => diesel::insert_into(notification_outbox::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(notification_outbox::id)
        .get_result::<NoticeId>(c)
        .optional())
}

/// Inserts the rows that do not exist yet (by recipient, event and channel), in chunks; returns
/// the ids of those inserted with their (recipient, event key, channel).
pub fn enqueue_many(
    conn: &mut DbConnection,
    rows: &[NewOutboxRow],
) -> QueryResult<Vec<(NoticeId, OutboxKey)>> {
    use notification_outbox::dsl as o;
    let mut inserted = Vec::with_capacity(rows.len());
    if let DbConnection::Postgres(pg) = conn {
        for chunk in rows.chunks(500) {
            inserted.extend(
                diesel::insert_into(o::notification_outbox)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .returning((o::id, o::learner_id, o::user_id, o::event_key, o::channel))
                    .get_results::<(NoticeId, Option<LearnerId>, Option<UserId>, String, Channel)>(
                        pg,
                    )?
                    .into_iter()
                    .map(|(id, learner, user, key, channel)| (id, (learner, user, key, channel))),
            );
        }
        return Ok(inserted);
    }
    // SQLite runs a batch insert with RETURNING row by row anyway (and fails on a skipped
    // conflict), so rows go one by one; in-process statements are cheap.
    for row in rows {
        if let Some(id) = enqueue(conn, row)? {
            inserted.push((id, row.key()));
        }
    }
    Ok(inserted)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inbox_messages, treat_none_as_default_value = false)]
pub struct NewInboxMessage {
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub outbox_id: NoticeId,
    pub category: Category,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub created_at: NaiveDateTime,
}

pub fn deliver_to_inbox_many(
    conn: &mut DbConnection,
    messages: &[NewInboxMessage],
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in messages.chunks(500) {
        n += crate::each_backend!(conn, c => diesel::insert_into(inbox_messages::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

pub fn deliver_to_inbox(conn: &mut DbConnection, message: &NewInboxMessage) -> QueryResult<usize> {
    diesel::insert_into(inbox_messages::table)
        .values(message)
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = inbox_messages)]
pub struct InboxRow {
    pub id: MessageId,
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub outbox_id: NoticeId,
    pub category: Category,
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
    recipient: Recipient,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<InboxRow>> {
    let mut query = inbox_messages::table
        .filter(inbox_of(recipient))
        .order(inbox_messages::id.desc())
        .limit(limit)
        .select(InboxRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(inbox_messages::id.lt(before));
    }
    query.load(conn)
}

pub fn unread_count(conn: &mut DbConnection, recipient: Recipient) -> QueryResult<i64> {
    inbox_messages::table
        .filter(inbox_of(recipient))
        .filter(inbox_messages::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks one message read; false when the learner has no such message.
pub fn mark_read(
    conn: &mut DbConnection,
    recipient: Recipient,
    id: MessageId,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let exists: Option<i64> = inbox_messages::table
        .filter(inbox_messages::id.eq(id))
        .filter(inbox_of(recipient))
        .select(inbox_messages::id)
        .get_result(conn)
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
    recipient: Recipient,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        inbox_messages::table
            .filter(inbox_of(recipient))
            .filter(inbox_messages::read_at.is_null()),
    )
    .set(inbox_messages::read_at.eq(Some(at)))
    .execute(conn)
}

/// Email rows waiting for the worker (for the outbox's own checks and the admin view).
pub fn pending_email_count(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<i64> {
    notification_outbox::table
        .filter(notification_outbox::learner_id.eq(learner_id))
        .filter(notification_outbox::channel.eq(Channel::Email))
        .filter(notification_outbox::status.eq(OutboxStatus::Pending))
        .count()
        .get_result(conn)
}

/// A learner's id, email address and stored preferences (JSON), if any.
pub type Contact = (LearnerId, Option<String>, Option<String>);

pub fn contacts(conn: &mut DbConnection, learner_ids: &[LearnerId]) -> QueryResult<Vec<Contact>> {
    use super::schema::learners;
    use super::schema::notification_preferences as p;
    learners::table
        .left_join(p::table.on(p::learner_id.eq(learners::id)))
        .filter(learners::id.eq_any(learner_ids))
        .select((learners::id, learners::email, p::settings.nullable()))
        .load(conn)
}

/// The stored preferences (JSON) of those of `learner_ids` who set any.
pub fn preferences_many(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<(LearnerId, String)>> {
    use super::schema::notification_preferences as p;
    p::table
        .filter(p::learner_id.eq_any(learner_ids))
        .select((p::learner_id, p::settings))
        .load(conn)
}

pub fn save_preferences(
    conn: &mut DbConnection,
    learner_id: LearnerId,
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

/// An outbox row as the worker and the administrators see it.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notification_outbox)]
pub struct OutboxRow {
    pub id: NoticeId,
    pub learner_id: Option<LearnerId>,
    pub user_id: Option<UserId>,
    pub event_key: String,
    pub channel: Channel,
    pub category: Category,
    pub kind: NoticeKind,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    #[serde(skip_serializing)]
    pub secret: Option<String>,
}

/// Claims up to `limit` due rows of `channels` for one worker until `lease_until`, counting the
/// attempt. A row under another worker's unexpired lease is not due; on PostgreSQL rows that
/// another worker is claiming at this moment are skipped (`FOR UPDATE SKIP LOCKED`), and SQLite
/// serialises claims with its write lock.
pub fn claim_due(
    conn: &mut DbConnection,
    channels: &[Channel],
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    use notification_outbox::dsl as o;
    super::write_transaction(conn, |conn| {
        let due = o::notification_outbox
            .filter(o::status.eq(OutboxStatus::Pending))
            .filter(o::due_at.le(now))
            .filter(o::lease_until.is_null().or(o::lease_until.lt(now)))
            .filter(o::channel.eq_any(channels))
            .order((o::due_at.asc(), o::id.asc()))
            .limit(limit)
            .select(o::id);
        let ids: Vec<NoticeId> = match conn {
            DbConnection::Postgres(c) => due.for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(o::notification_outbox.filter(o::id.eq_any(&ids)))
            .set((
                o::lease_until.eq(Some(lease_until)),
                o::attempts.eq(o::attempts + 1),
            ))
            .execute(conn)?;
        o::notification_outbox
            .filter(o::id.eq_any(&ids))
            .order((o::due_at.asc(), o::id.asc()))
            .select(OutboxRow::as_select())
            .load(conn)
    })
}

/// How a claimed row ends its attempt.
pub enum Settlement<'a> {
    Sent {
        at: NaiveDateTime,
    },
    /// Failed for now: due again at `at`.
    Retry {
        at: NaiveDateTime,
        error: &'a str,
    },
    /// `dead` (failed for good; an administrator may retry it) or `withdrawn` (nothing left to
    /// deliver, e.g. the learner removed their address).
    Final {
        status: OutboxStatus,
        error: &'a str,
    },
}

#[derive(AsChangeset)]
#[diesel(table_name = notification_outbox)]
struct Settle<'a> {
    status: Option<OutboxStatus>,
    due_at: Option<NaiveDateTime>,
    sent_at: Option<Option<NaiveDateTime>>,
    lease_until: Option<Option<NaiveDateTime>>,
    last_error: Option<Option<&'a str>>,
    secret: Option<Option<&'a str>>,
}

/// Records the outcome of a claimed row's attempt, releasing its lease. Only a pending row
/// changes: an administrator's action or another worker's delivery after an expired lease wins.
pub fn settle(
    conn: &mut DbConnection,
    id: NoticeId,
    outcome: &Settlement<'_>,
) -> QueryResult<bool> {
    use notification_outbox::dsl as o;
    let changes = match *outcome {
        Settlement::Sent { at } => Settle {
            status: Some(OutboxStatus::Sent),
            due_at: None,
            sent_at: Some(Some(at)),
            lease_until: Some(None),
            last_error: Some(None),
            // The link has reached its recipient: the database keeps no usable copy.
            secret: Some(None),
        },
        Settlement::Retry { at, error } => Settle {
            status: None,
            due_at: Some(at),
            sent_at: None,
            lease_until: Some(None),
            last_error: Some(Some(error)),
            secret: None,
        },
        Settlement::Final { status, error } => Settle {
            status: Some(status),
            due_at: None,
            sent_at: None,
            lease_until: Some(None),
            last_error: Some(Some(error)),
            secret: None,
        },
    };
    diesel::update(
        o::notification_outbox
            .filter(o::id.eq(id))
            .filter(o::status.eq(OutboxStatus::Pending)),
    )
    .set(&changes)
    .execute(conn)
    .map(|n| n == 1)
}

/// Puts a dead row back in the queue with a fresh count of attempts; false unless it was dead.
pub fn retry_dead(conn: &mut DbConnection, id: NoticeId, now: NaiveDateTime) -> QueryResult<bool> {
    use notification_outbox::dsl as o;
    diesel::update(
        o::notification_outbox
            .filter(o::id.eq(id))
            .filter(o::status.eq(OutboxStatus::Dead)),
    )
    .set((
        o::status.eq(OutboxStatus::Pending),
        o::attempts.eq(0),
        o::due_at.eq(now),
        o::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn find(conn: &mut DbConnection, id: NoticeId) -> QueryResult<Option<OutboxRow>> {
    notification_outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .get_result(conn)
        .optional()
}

/// A page of rows of one status (all when `None`), oldest first after `after_id`.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    learner_id: Option<LearnerId>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    use notification_outbox::dsl as o;
    let mut query = o::notification_outbox
        .order(o::id.asc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(o::status.eq(status.to_owned()));
    }
    if let Some(learner) = learner_id {
        query = query.filter(o::learner_id.eq(learner));
    }
    if let Some(after) = after_id {
        query = query.filter(o::id.gt(after));
    }
    query.load(conn)
}

/// (channel, status, rows) and (channel, rows due now).
pub type OutboxCounts = (Vec<(Channel, OutboxStatus, i64)>, Vec<(Channel, i64)>);

/// Pending and dead rows by channel, and pending rows already due: what the metrics report (sent
/// rows grow without bound, so they are counted by the workers instead).
pub fn counts(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<OutboxCounts> {
    use diesel::dsl::count_star;
    use notification_outbox::dsl as o;
    let by_status = o::notification_outbox
        .filter(o::status.eq_any([OutboxStatus::Pending, OutboxStatus::Dead]))
        .group_by((o::channel, o::status))
        .select((o::channel, o::status, count_star()))
        .load(conn)?;
    let due = o::notification_outbox
        .filter(o::status.eq(OutboxStatus::Pending))
        .filter(o::due_at.le(now))
        .group_by(o::channel)
        .select((o::channel, count_star()))
        .load(conn)?;
    Ok((by_status, due))
}

/// The due time of the oldest row waiting to be delivered, by channel.
pub fn oldest_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(Channel, Option<NaiveDateTime>)>> {
    use notification_outbox::dsl as o;
    o::notification_outbox
        .filter(o::status.eq(OutboxStatus::Pending))
        .filter(o::due_at.le(now))
        .group_by(o::channel)
        .select((o::channel, diesel::dsl::min(o::due_at)))
        .load(conn)
}

/// Withdraws a learner's pending rows whose key starts with `key_prefix` or is one of `keys`
/// (reminders of a date that moved).
pub fn withdraw_pending(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    key_prefix: &str,
    keys: &[String],
    reason: &str,
) -> QueryResult<usize> {
    use notification_outbox::dsl as o;
    diesel::update(
        o::notification_outbox
            .filter(o::learner_id.eq(learner_id))
            .filter(o::status.eq(OutboxStatus::Pending))
            .filter(
                o::event_key
                    .like(format!("{}%", super::escape_like(key_prefix)))
                    .escape('\\')
                    .or(o::event_key.eq_any(keys)),
            ),
    )
    .set((
        o::status.eq(OutboxStatus::Withdrawn),
        o::lease_until.eq(None::<NaiveDateTime>),
        o::last_error.eq(Some(reason)),
    ))
    .execute(conn)
}

/// Puts a withdrawn row back in the queue with a new date and text (a reminder whose date came
/// back); false when the row is not withdrawn.
pub fn revive(conn: &mut DbConnection, row: &NewOutboxRow) -> QueryResult<bool> {
    use notification_outbox::dsl as o;
    diesel::update(
        o::notification_outbox
            .filter(outbox_of(row.learner_id, row.user_id))
            .filter(o::event_key.eq(&row.event_key))
            .filter(o::channel.eq(row.channel))
            .filter(o::status.eq(OutboxStatus::Withdrawn)),
    )
    .set((
        o::status.eq(OutboxStatus::Pending),
        o::payload.eq(&row.payload),
        o::due_at.eq(row.due_at),
        o::attempts.eq(0),
        o::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}
