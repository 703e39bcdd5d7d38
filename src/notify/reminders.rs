//! Reminders before an upcoming milestone: `notify.reminder_days` before its date (default 30
//! and 7) and on the day, at 09:00 in Shanghai. They are outbox rows scheduled when a milestone
//! becomes upcoming, withdrawn and scheduled anew when its date moves, and withdrawn when it stops
//! being upcoming. The reminder on the day carries the same event key as the "you can now apply"
//! notice of that day, so the two are one notification.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::messages::{milestone_message, reminder_message, Message};
use super::{Category, Notice};
use crate::db::notifications;
use crate::db::DbConnection;
use crate::domain::{LearnerId, NoticeKind, SHANGHAI};
use crate::error::AppError;
use crate::rules::change::MilestoneChange;
use crate::rules::{Milestone, Status};

/// The hour (Shanghai) at which reminders are due (and the calendar feed's alarms ring).
pub const REMINDER_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// The event key of the notice that a milestone is met, recorded on `day`.
pub fn met_key(milestone_key: &str, eligible_from: NaiveDate, day: NaiveDate) -> String {
    format!("milestone:{milestone_key}:newly_met:{eligible_from}:{day}")
}

fn reminder_prefix(milestone_key: &str) -> String {
    format!("reminder:{milestone_key}:")
}

/// 09:00 Shanghai on `date`, as a stored (UTC) time.
fn due_on(date: NaiveDate) -> NaiveDateTime {
    let local = date.and_time(REMINDER_TIME);
    local - Duration::seconds(i64::from(SHANGHAI.local_minus_utc()))
}

fn upcoming_date(m: Option<&Milestone>) -> Option<NaiveDate> {
    m.filter(|m| m.status == Status::Upcoming)
        .and_then(|m| m.eligible_from)
}

/// Brings a milestone's reminders in line with one change of it (an event of
/// `rules::change`), in the transaction that records the change: withdraws those of a date
/// that no longer holds, and returns the notices to schedule (for `produce_many`).
#[allow(clippy::too_many_arguments)]
pub fn follow_change<'a>(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    email: Option<&'a str>,
    before: Option<&Milestone>,
    after: Option<&Milestone>,
    reminder_days: &[u32],
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<Vec<Notice<'a>>, AppError> {
    let mut notices = Vec::new();
    let Some(key) = after.or(before).map(|m| m.key.as_str()) else {
        return Ok(notices);
    };
    let (old_date, new_date) = (upcoming_date(before), upcoming_date(after));
    if old_date.is_none() && new_date.is_none() {
        return Ok(notices);
    }
    // The reminders of the old date go, except the notice of today's own event (the milestone
    // met on its day is the reminder of the day).
    let mut obsolete = Vec::new();
    if let Some(old) = old_date.filter(|d| Some(*d) != new_date) {
        let today_met = after
            .filter(|m| m.status == Status::Met)
            .and_then(|m| m.eligible_from)
            .map(|d| met_key(key, d, today));
        let old_key = met_key(key, old, old);
        if today_met.as_ref() != Some(&old_key) {
            obsolete.push(old_key);
        }
    }
    // Reminders exist only for a milestone that was upcoming.
    if old_date.is_some() {
        notifications::withdraw_pending(
            conn,
            learner_id,
            &reminder_prefix(key),
            &obsolete,
            "the milestone's date moved or it is no longer upcoming",
        )?;
    }
    let (Some(date), Some(m)) = (new_date, after) else {
        return Ok(notices);
    };
    let mut schedule = |event_key: String, kind: NoticeKind, message: Message, due| {
        if due > now {
            notices.push(Notice {
                recipient: super::Recipient::Learner(learner_id),
                email,
                event_key,
                category: Category::Milestone,
                kind,
                message,
                due_at: Some(due),
                secret: None,
            });
        }
    };
    for &days in reminder_days.iter().filter(|d| **d > 0) {
        let on = date - Duration::days(i64::from(days));
        schedule(
            format!("{}{date}:{days}", reminder_prefix(key)),
            NoticeKind::Reminder,
            reminder_message(days, m),
            due_on(on),
        );
    }
    if let Some(message) = milestone_message(MilestoneChange::NewlyMet, None, Some(m)) {
        schedule(
            met_key(key, date, date),
            NoticeKind::NewlyMet,
            message,
            due_on(date),
        );
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_are_due_at_nine_in_shanghai() {
        let d = NaiveDate::from_ymd_opt(2027, 6, 28).unwrap();
        assert_eq!(
            due_on(d),
            NaiveDate::from_ymd_opt(2027, 6, 28)
                .unwrap()
                .and_hms_opt(1, 0, 0)
                .unwrap()
        );
    }
}
