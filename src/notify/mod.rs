//! Notifications: each one is a row of the outbox, written in the same transaction as the change
//! that causes it, once per (learner, event, channel) — so a notification is neither lost nor
//! produced twice. The in-app inbox copy is delivered at once; email rows wait for a worker.

use std::collections::HashMap;

use chrono::NaiveDateTime;

pub mod email;
pub mod links;
pub mod messages;
pub mod preferences;
pub mod reminders;
pub mod unsubscribe;
pub mod worker;

pub use crate::db::notifications::Recipient;
use crate::db::notifications::{self, NewInboxMessage, NewOutboxRow};
use crate::db::DbConnection;
pub use crate::domain::{Category, NoticeKind};
use crate::domain::{Channel, LearnerId, NoticeId, OutboxStatus};
use crate::error::AppError;
pub use messages::Message;

/// The page of the web face a notice speaks of (a path): for a learner their progress (a
/// certificate decision, a milestone) or their shares (someone looked); for staff their inbox.
pub fn page_of(to_learner: bool, category: Category) -> &'static str {
    match (to_learner, category) {
        (true, Category::Certificate | Category::Milestone) => "/progress",
        (true, Category::Share) => "/shares",
        // An account link's email leads to its own page (`links::path`), never here.
        (_, Category::Account) => "/login",
        (_, Category::Institution | Category::Requests) => "/inbox",
        (false, _) => "/inbox",
    }
}

/// One notification to produce.
pub struct Notice<'a> {
    pub recipient: Recipient,
    /// The recipient's email, when email can reach them.
    pub email: Option<&'a str>,
    /// Identifies the cause: the same key for the same event produces nothing new.
    pub event_key: String,
    pub category: Category,
    pub kind: NoticeKind,
    pub message: Message,
    /// When to deliver it; `None`: now (the inbox copy is delivered at once).
    pub due_at: Option<NaiveDateTime>,
    /// A one-time link's token, sealed (`links`): the email carries the link.
    pub secret: Option<String>,
}

/// Writes the notice's outbox rows (inbox, and email when there is an address) and delivers the
/// inbox copy, or schedules both when the notice is due later. Call inside the transaction of the
/// change that causes it.
pub fn produce(
    conn: &mut DbConnection,
    notice: &Notice<'_>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let prefs = match notice.recipient {
        Recipient::Learner(id) => load_preferences_many(conn, &[id])?,
        Recipient::User(_) => HashMap::new(),
    };
    produce_many(conn, std::slice::from_ref(notice), &prefs, now)
}

/// `produce` for many notices, in a few multi-row statements, with the learners' preferences
/// already at hand (missing ones, and staff accounts', are the defaults).
pub fn produce_many(
    conn: &mut DbConnection,
    notices: &[Notice<'_>],
    prefs: &HashMap<LearnerId, preferences::Preferences>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if notices.is_empty() {
        return Ok(());
    }
    let defaults = preferences::Preferences::default();
    let staff = preferences::Preferences::without_quiet_hours();
    let mut rows = Vec::with_capacity(notices.len() * 2);
    for notice in notices {
        let payload = serde_json::to_string(&notice.message)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("notice payload: {e}")))?;
        let scheduled = notice.due_at.filter(|due| *due > now);
        let row = |channel: Channel, status: OutboxStatus, due_at| NewOutboxRow {
            learner_id: notice.recipient.learner_id(),
            user_id: notice.recipient.user_id(),
            event_key: notice.event_key.clone(),
            channel,
            category: notice.category,
            kind: notice.kind,
            payload: payload.clone(),
            status,
            attempts: 0,
            due_at,
            created_at: now,
            // An immediate inbox copy is delivered in this transaction.
            sent_at: (scheduled.is_none() && channel == Channel::Inbox).then_some(now),
            secret: notice.secret.clone(),
        };
        let prefs = match notice.recipient {
            // A link the person is waiting for goes out at once, even in quiet hours.
            _ if notice.category == Category::Account => &staff,
            Recipient::Learner(id) => prefs.get(&id).unwrap_or(&defaults),
            // Staff notices concern their work and go out at once.
            Recipient::User(_) => &staff,
        };
        // The learner's preferences decide both channels (for certificates and milestones the
        // inbox cannot be turned off, see `Preferences::check`).
        if prefs.channels(notice.category).inbox {
            rows.push(match scheduled {
                // The worker delivers it to the inbox when it is due.
                Some(due) => row(Channel::Inbox, OutboxStatus::Pending, due),
                None => row(Channel::Inbox, OutboxStatus::Sent, now),
            });
        }
        if notice.email.is_some() && prefs.channels(notice.category).email {
            rows.push(row(
                Channel::Email,
                OutboxStatus::Pending,
                prefs.email_due(scheduled.unwrap_or(now)),
            ));
        }
    }
    let mut inserted: HashMap<notifications::OutboxKey, NoticeId> =
        notifications::enqueue_many(conn, &rows)?
            .into_iter()
            .map(|(id, key)| (key, id))
            .collect();
    let mut messages = Vec::new();
    for row in &rows {
        let key = row.key();
        // Taken once: the same notice twice in one batch is still one message.
        match inserted.remove(&key) {
            Some(outbox_id) if row.sent_at.is_some() => {
                let message: Message = serde_json::from_str(&row.payload)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("notice payload: {e}")))?;
                messages.push(NewInboxMessage {
                    learner_id: row.learner_id,
                    user_id: row.user_id,
                    outbox_id,
                    category: row.category,
                    title_zh: message.title.zh.into_owned(),
                    title_en: message.title.en.into_owned(),
                    body_zh: message.body.zh.into_owned(),
                    body_en: message.body.en.into_owned(),
                    created_at: now,
                });
            }
            Some(_) => {}
            // Produced before: nothing new, unless it was withdrawn (a reminder whose date moved
            // away and back), which comes back.
            None if row.status == OutboxStatus::Pending => {
                notifications::revive(conn, row)?;
            }
            None => {}
        }
    }
    notifications::deliver_to_inbox_many(conn, &messages)?;
    Ok(())
}

/// The preferences of several learners (the defaults for those who set none).
pub fn load_preferences_many(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> Result<HashMap<LearnerId, preferences::Preferences>, AppError> {
    let mut stored: HashMap<LearnerId, String> =
        notifications::preferences_many(conn, learner_ids)?
            .into_iter()
            .collect();
    Ok(learner_ids
        .iter()
        .map(|id| (*id, stored_preferences(stored.remove(id))))
        .collect())
}

/// Stored preferences (JSON), or the defaults when there are none (or they no longer parse).
fn stored_preferences(json: Option<String>) -> preferences::Preferences {
    json.and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Learners' email addresses (of those who have one) and preferences.
pub struct Contacts {
    pub emails: HashMap<LearnerId, String>,
    pub preferences: HashMap<LearnerId, preferences::Preferences>,
}

/// The contacts of several learners, in one query.
pub fn contacts(conn: &mut DbConnection, learner_ids: &[LearnerId]) -> Result<Contacts, AppError> {
    let mut emails = HashMap::new();
    let mut prefs = HashMap::new();
    for (id, email, settings) in notifications::contacts(conn, learner_ids)? {
        if let Some(email) = email {
            emails.insert(id, email);
        }
        prefs.insert(id, stored_preferences(settings));
    }
    Ok(Contacts {
        emails,
        preferences: prefs,
    })
}

/// A learner's preferences, or the defaults when they set none.
pub fn load_preferences(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> Result<preferences::Preferences, AppError> {
    Ok(load_preferences_many(conn, &[learner_id])?
        .remove(&learner_id)
        .unwrap_or_default())
}
