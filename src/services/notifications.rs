//! A learner's notification preferences (set in the app, or turned off by an email's
//! unsubscribe link) and an administrator's retry of a notice that could not be delivered.

use serde_json::json;

use crate::db::notifications::{self, InboxRow, OutboxRow, Recipient};
use crate::db::{self, audit, DbConnection};
use crate::domain::{AuditAction, AuditEntity, Category, Channel, LearnerId, NoticeId, UserId};
use crate::error::AppError;
use crate::notify::preferences::Preferences;

/// One page of an inbox, newest first (before the cursor), and how many messages are unread.
pub fn inbox(
    conn: &mut DbConnection,
    owner: Recipient,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<InboxRow>, i64), AppError> {
    Ok((
        notifications::inbox(conn, owner, before, limit)?,
        notifications::unread_count(conn, owner)?,
    ))
}

/// Stores a learner's preferences, checked by [`Preferences::check`].
pub fn save_preferences(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    prefs: &Preferences,
) -> Result<(), AppError> {
    let json = serde_json::to_string(prefs).map_err(|e| AppError::internal("preferences", e))?;
    notifications::save_preferences(conn, learner_id, &json, db::now())?;
    Ok(())
}

/// Turns email off for one category (RFC 8058 one-click); repeating it changes nothing.
pub fn unsubscribe(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    category: Category,
) -> Result<(), AppError> {
    let mut prefs = crate::notify::load_preferences(conn, learner_id)?;
    // Account links carry no unsubscribe link; a forged token for them changes nothing.
    let Some(channels) = prefs.channels_mut(category).filter(|c| c.email) else {
        return Ok(());
    };
    channels.email = false;
    save_preferences(conn, learner_id, &prefs)?;
    audit::record(
        conn,
        None,
        AuditAction::Unsubscribe,
        AuditEntity::Learner,
        learner_id,
        &json!({"category": category, "channel": Channel::Email}),
    )?;
    Ok(())
}

/// Puts a dead notice back in the queue with a fresh count of attempts.
pub fn retry(conn: &mut DbConnection, actor: UserId, id: NoticeId) -> Result<OutboxRow, AppError> {
    let not_found = || AppError::NotFound {
        what: "notification",
    };
    let row = notifications::find(conn, id)?.ok_or_else(not_found)?;
    if !notifications::retry_dead(conn, id, db::now())? {
        return Err(AppError::conflict(
            "not_dead",
            format!("the notification is {}, not dead", row.status),
        ));
    }
    audit::record(
        conn,
        Some(actor),
        AuditAction::Retry,
        AuditEntity::Notification,
        id,
        &json!({"last_error": row.last_error, "attempts": row.attempts}),
    )?;
    notifications::find(conn, id)?.ok_or_else(not_found)
}
