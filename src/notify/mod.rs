//! Notifications: each one is a row of the outbox, written in the same transaction as the change
//! that causes it, once per (learner, event, channel) — so a notification is neither lost nor
//! produced twice. The in-app inbox copy is delivered at once; email rows wait for a worker.

use chrono::{NaiveDate, NaiveDateTime};

pub mod email;
pub mod preferences;
pub mod reminders;
pub mod unsubscribe;
pub mod worker;

use crate::db::notifications::{self, NewInboxMessage, NewOutboxRow};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::rules::{Milestone, Text};

crate::string_enum! {
    /// What a notification is about; preferences are per category (and channel).
    Category {
        Certificate => "certificate",
        Milestone => "milestone",
    }
}

/// A notification's text in both languages (stored as the outbox row's payload).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub title: Text,
    pub body: Text,
}

/// One notification to produce.
pub struct Notice<'a> {
    pub learner_id: i64,
    /// The learner's email, when email can reach them.
    pub email: Option<&'a str>,
    /// Identifies the cause: the same key for the same event produces nothing new.
    pub event_key: String,
    pub category: Category,
    pub kind: &'a str,
    pub message: Message,
    /// When to deliver it; `None`: now (the inbox copy is delivered at once).
    pub due_at: Option<NaiveDateTime>,
}

/// Writes the notice's outbox rows (inbox, and email when there is an address) and delivers the
/// inbox copy, or schedules both when the notice is due later. Call inside the transaction of the
/// change that causes it.
pub fn produce(
    conn: &mut DbConnection,
    notice: &Notice<'_>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let payload = serde_json::to_string(&notice.message)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("notice payload: {e}")))?;
    let scheduled = notice.due_at.filter(|due| *due > now);
    let row = |channel: &str, status: &str, sent: bool, due_at| NewOutboxRow {
        learner_id: notice.learner_id,
        event_key: notice.event_key.clone(),
        channel: channel.into(),
        category: notice.category.as_str().into(),
        kind: notice.kind.into(),
        payload: payload.clone(),
        status: status.into(),
        attempts: 0,
        due_at,
        created_at: now,
        sent_at: sent.then_some(now),
    };
    match scheduled {
        // The worker delivers it to the inbox when it is due.
        Some(due) => enqueue_or_revive(conn, &row("inbox", "pending", false, due))?,
        None => {
            if let Some(outbox_id) = notifications::enqueue(conn, &row("inbox", "sent", true, now))?
            {
                notifications::deliver_to_inbox(
                    conn,
                    &NewInboxMessage {
                        learner_id: notice.learner_id,
                        outbox_id,
                        category: notice.category.as_str().into(),
                        title_zh: notice.message.title.zh.to_string(),
                        title_en: notice.message.title.en.to_string(),
                        body_zh: notice.message.body.zh.to_string(),
                        body_en: notice.message.body.en.to_string(),
                        created_at: now,
                    },
                )?;
            }
        }
    }
    if notice.email.is_some() {
        let prefs = load_preferences(conn, notice.learner_id)?;
        if prefs.channels(notice.category).email {
            let due = prefs.email_due(scheduled.unwrap_or(now));
            enqueue_or_revive(conn, &row("email", "pending", false, due))?;
        }
    }
    Ok(())
}

/// A row for a key that was withdrawn (a reminder whose date moved away and back) is revived.
fn enqueue_or_revive(conn: &mut DbConnection, row: &NewOutboxRow) -> Result<(), ApiError> {
    if notifications::enqueue(conn, row)?.is_none() {
        notifications::revive(conn, row)?;
    }
    Ok(())
}

/// A learner's preferences, or the defaults when they set none.
pub fn load_preferences(
    conn: &mut DbConnection,
    learner_id: i64,
) -> Result<preferences::Preferences, ApiError> {
    Ok(notifications::preferences(conn, learner_id)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

fn day(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// The notification of a change of a milestone (the events of `eligibility::change`).
pub fn milestone_message(
    event: &str,
    before: Option<&Milestone>,
    after: Option<&Milestone>,
) -> Option<Message> {
    let m = after.or(before)?;
    let target = m.target_label.clone().unwrap_or_else(|| m.title.clone());
    let clause = format!("{} {}", m.citation.source, m.citation.clause);
    let (title, body) = match event {
        "newly_met" => (
            Text::new(
                format!("可以申请了：{}", target.zh),
                format!("You can now apply: {}", target.en),
            ),
            Text::new(
                format!(
                    "自{}起，您符合“{}”的条件（{}）。",
                    day(m.eligible_from),
                    m.title.zh,
                    clause
                ),
                format!(
                    "Since {} you meet the conditions of \"{}\" ({clause}).",
                    day(m.eligible_from),
                    m.title.en
                ),
            ),
        ),
        "newly_upcoming" => (
            Text::new(
                format!("{}起可申请：{}", day(m.eligible_from), target.zh),
                format!("From {}: {}", day(m.eligible_from), target.en),
            ),
            Text::new(
                format!(
                    "如无变化，您将于{}符合“{}”的条件。",
                    day(m.eligible_from),
                    m.title.zh
                ),
                format!(
                    "If nothing changes, you will meet the conditions of \"{}\" on {}.",
                    m.title.en,
                    day(m.eligible_from)
                ),
            ),
        ),
        "date_moved" => (
            Text::new(
                format!("日期变更：{}", target.zh),
                format!("Date changed: {}", target.en),
            ),
            Text::new(
                format!(
                    "“{}”的日期由{}变为{}。",
                    m.title.zh,
                    day(before.and_then(|b| b.eligible_from)),
                    day(m.eligible_from)
                ),
                format!(
                    "The date of \"{}\" moved from {} to {}.",
                    m.title.en,
                    day(before.and_then(|b| b.eligible_from)),
                    day(m.eligible_from)
                ),
            ),
        ),
        "achieved" => (
            Text::new(
                format!("已达成：{}", target.zh),
                format!("Achieved: {}", target.en),
            ),
            Text::new(
                format!("恭喜！您已达成“{}”。", m.title.zh),
                format!("Congratulations: \"{}\" is achieved.", m.title.en),
            ),
        ),
        "lost" => (
            Text::new(
                format!("条件不再满足：{}", m.title.zh),
                format!("No longer met: {}", m.title.en),
            ),
            Text::new(
                format!("“{}”的条件目前不再满足，请查看详情。", m.title.zh),
                format!(
                    "The conditions of \"{}\" are no longer met; see the details in the app.",
                    m.title.en
                ),
            ),
        ),
        "lapsed" => (
            Text::new(
                format!("已过期：{}", m.title.zh),
                format!("Window closed: {}", m.title.en),
            ),
            Text::new(
                format!("“{}”的申请期已结束。", m.title.zh),
                format!("The window for \"{}\" has closed.", m.title.en),
            ),
        ),
        _ => return None,
    };
    Some(Message { title, body })
}

/// The notification of a certificate decision.
pub fn certificate_message(
    decision: &str,
    number: &str,
    level_zh: &str,
    level_en: &str,
    reason: &str,
) -> Message {
    let reason_zh = if reason.is_empty() {
        String::new()
    } else {
        format!("原因：{reason}")
    };
    let reason_en = if reason.is_empty() {
        String::new()
    } else {
        format!(" Reason: {reason}")
    };
    let (zh, en) = match decision {
        "verify" => ("已核验", "verified"),
        "reject" => ("未通过核验", "rejected"),
        _ => ("已撤销", "revoked"),
    };
    Message {
        title: Text::new(
            format!("证书{zh}：{level_zh}"),
            format!("Certificate {en}: {level_en}"),
        ),
        body: Text::new(
            format!("您的{level_zh}证书（编号{number}）{zh}。{reason_zh}"),
            format!("Your {level_en} certificate (number {number}) was {en}.{reason_en}"),
        ),
    }
}
