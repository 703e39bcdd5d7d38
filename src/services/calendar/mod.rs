//! A learner's milestones in their own calendar: a private iCalendar feed at a secret address
//! (turned on, rotated and turned off by the learner), with an event for each date a milestone
//! gives — the day the learner becomes eligible, and the last day of an open window.
//!
//! Calendar clients keep what they fetched, so the feed remembers what it showed
//! (`calendar_entries`): when what an event shows changes, its SEQUENCE rises; when the milestone
//! no longer gives the date (a certificate refused, a fact corrected), the event is sent once
//! more as CANCELLED so that clients remove it. A milestone reached (achieved) or whose window
//! passed (lapsed) keeps its events as they were: the dates happened.

pub mod ics;

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use crate::auth::sessions::{hash_token, random_token};
use crate::db::calendar::{self, EntryRow, FeedRow};
use crate::db::{learners, milestones, DbConnection};
use crate::domain::{CalendarMoment, Language, LearnerId};
use crate::error::AppError;
use crate::rules::next_steps::next_steps;
use crate::rules::{Milestone, Status};
use crate::services::eligibility::ParameterCache;

/// Past events stay in the feed this long (a year of history in the calendar), and are
/// forgotten after a little longer.
const HISTORY_DAYS: i64 = 366;
const FORGET_AFTER_DAYS: i64 = 400;

/// Whether the learner's feed is on, and since when.
#[derive(Debug, Clone)]
pub struct FeedState {
    pub enabled: bool,
    pub created_at: Option<NaiveDateTime>,
    pub last_fetched_at: Option<NaiveDateTime>,
}

pub fn state(conn: &mut DbConnection, learner_id: LearnerId) -> Result<FeedState, AppError> {
    let feed = calendar::feed_of(conn, learner_id)?;
    Ok(FeedState {
        enabled: feed.is_some(),
        created_at: feed.as_ref().map(|f| f.created_at),
        last_fetched_at: feed.and_then(|f| f.last_fetched_at),
    })
}

/// A feed's address, shown once: for fetching, and for apps that subscribe to `webcal:` links.
#[derive(Debug, Clone)]
pub struct FeedAddress {
    pub url: String,
    pub webcal_url: String,
}

impl FeedAddress {
    fn of(public_url: &str, token: &str) -> Self {
        let url = format!(
            "{}/api/v1/calendar/{token}.ics",
            public_url.trim_end_matches('/')
        );
        let webcal_url = match url.split_once("://") {
            Some((_, rest)) => format!("webcal://{rest}"),
            None => url.clone(),
        };
        Self { url, webcal_url }
    }
}

/// Turns the feed on with a new secret token, or gives it a new one (the old address stops
/// working at once). Answers the address: shown once, its token stored hashed.
pub fn enable(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<FeedAddress, AppError> {
    let token = random_token();
    calendar::replace_feed(
        conn,
        &FeedRow {
            learner_id,
            token_hash: hash_token(&token),
            created_at: now,
            last_fetched_at: None,
        },
    )?;
    Ok(FeedAddress::of(public_url, &token))
}

/// Turns the feed off: its address answers 404 from now on, and what it showed is forgotten
/// (nothing would fetch, and so clean, it again). Whether it was on.
pub fn disable(conn: &mut DbConnection, learner_id: LearnerId) -> Result<bool, AppError> {
    calendar::delete_entries(conn, learner_id)?;
    Ok(calendar::delete_feed(conn, learner_id)? > 0)
}

/// The learner whose feed is at `token`'s address (a read: a wrong token costs no write).
pub fn owner(conn: &mut DbConnection, token: &str) -> Result<LearnerId, AppError> {
    let not_found = AppError::NotFound {
        what: "calendar feed",
    };
    // A token is 43 URL-safe characters; anything else is not one, and costs no query.
    let well_formed = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(not_found);
    }
    calendar::learner_of_token(conn, &hash_token(token))?.ok_or(not_found)
}

/// What a feed shows, as recorded: rendered once the transaction that recorded it is over.
#[derive(Debug, Clone)]
pub struct FeedContent {
    language: Language,
    entries: Vec<EntryRow>,
}

/// The learner's feed, brought up to date with their stored milestones (in a write transaction:
/// it records what it shows). Not found when the feed was turned off since `owner` answered.
pub fn feed(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<FeedContent, AppError> {
    if calendar::fetched(conn, learner_id, now)? == 0 {
        return Err(AppError::NotFound {
            what: "calendar feed",
        });
    }
    let language = learners::find(conn, learner_id)?
        .map(|l| l.preferred_language)
        .unwrap_or(Language::ZhCn);
    let alarm_days = parameters
        .in_force(conn, today)?
        .days(crate::param!("notify.reminder_days"));
    let stored: Vec<Milestone> = milestones::payloads_of(
        conn,
        learner_id,
        &[
            Status::Met,
            Status::Upcoming,
            Status::Achieved,
            Status::Lapsed,
        ],
    )?
    .iter()
    .map(|p| serde_json::from_str(p).map_err(|e| AppError::internal("stored milestone", e)))
    .collect::<Result<_, _>>()?;
    // What is older than the forgetting horizon is forgotten first, and not stored again.
    let forget_before = today - Duration::days(FORGET_AFTER_DAYS);
    calendar::delete_entries_before(conn, learner_id, forget_before)?;
    let shown = calendar::entries_of(conn, learner_id)?;
    let mut changed = reconcile(learner_id, &stored, &shown, language, &alarm_days, now);
    changed.retain(|e| e.on_date >= forget_before);
    calendar::replace_entries(conn, &changed)?;
    let history_from = today - Duration::days(HISTORY_DAYS);
    let entries = merged(shown, changed)
        .into_iter()
        .filter(|e| e.on_date >= history_from)
        .collect();
    Ok(FeedContent { language, entries })
}

impl FeedContent {
    /// The feed as iCalendar text (RFC 5545).
    pub fn render(&self) -> String {
        let prepared: Vec<(String, Vec<u32>)> = self
            .entries
            .iter()
            .map(|e| {
                (
                    uid(e),
                    serde_json::from_str(&e.alarm_days).unwrap_or_default(),
                )
            })
            .collect();
        let events: Vec<ics::Event<'_>> = self
            .entries
            .iter()
            .zip(&prepared)
            .map(|(e, (uid, alarm_days))| ics::Event {
                uid,
                stamp: e.updated_at,
                date: e.on_date,
                summary: &e.summary,
                description: &e.description,
                sequence: e.sequence,
                cancelled: e.cancelled,
                alarm_days,
                alarm_time: crate::notify::reminders::REMINDER_TIME,
            })
            .collect();
        let name = match self.language {
            Language::ZhCn => "Skillpath 里程碑",
            Language::En => "Skillpath milestones",
        };
        ics::calendar(name, &events)
    }
}

/// A stable, opaque event identifier: the same learner, milestone and moment always give the
/// same UID, whatever the feed's token.
fn uid(entry: &EntryRow) -> String {
    let digest = Sha256::digest(
        format!(
            "skillpath-calendar\u{0}{}\u{0}{}\u{0}{}",
            entry.learner_id.0, entry.milestone_key, entry.moment
        )
        .as_bytes(),
    );
    format!("{}@skillpath", &hex::encode(digest)[..32])
}

/// The entries to store so that the feed shows `stored` milestones, given what it showed:
/// new and changed events (SEQUENCE one higher than shown), and events to cancel.
fn reconcile(
    learner_id: LearnerId,
    stored: &[Milestone],
    shown: &[EntryRow],
    language: Language,
    alarm_days: &[u32],
    now: NaiveDateTime,
) -> Vec<EntryRow> {
    let shown_by_key: HashMap<(&str, CalendarMoment), &EntryRow> = shown
        .iter()
        .map(|e| ((e.milestone_key.as_str(), e.moment), e))
        .collect();
    let held: HashSet<&str> = stored
        .iter()
        .filter(|m| matches!(m.status, Status::Achieved | Status::Lapsed))
        .map(|m| m.key.as_str())
        .collect();
    let alarms = serde_json::Value::from(alarm_days.to_vec()).to_string();
    let mut wanted: Vec<EntryRow> = Vec::new();
    for m in stored
        .iter()
        .filter(|m| matches!(m.status, Status::Met | Status::Upcoming))
    {
        let step = next_steps(std::slice::from_ref(m)).into_iter().next();
        for (moment, date) in [
            (CalendarMoment::EligibleFrom, m.eligible_from),
            (CalendarMoment::OpenUntil, m.open_until),
        ] {
            let Some(date) = date else { continue };
            let (summary, description) = texts(m, moment, step.as_ref(), language);
            wanted.push(EntryRow {
                learner_id,
                milestone_key: m.key.clone(),
                moment,
                on_date: date,
                summary,
                description,
                alarm_days: alarms.clone(),
                sequence: 0,
                cancelled: false,
                updated_at: now,
            });
        }
    }
    let wanted_keys: HashSet<(&str, CalendarMoment)> = wanted
        .iter()
        .map(|e| (e.milestone_key.as_str(), e.moment))
        .collect();
    let mut out: Vec<EntryRow> = Vec::new();
    for mut entry in wanted.iter().cloned() {
        match shown_by_key.get(&(entry.milestone_key.as_str(), entry.moment)) {
            Some(before) if same_content(before, &entry) => {}
            Some(before) => {
                entry.sequence = before.sequence + 1;
                out.push(entry);
            }
            None => out.push(entry),
        }
    }
    for before in shown {
        let key = (before.milestone_key.as_str(), before.moment);
        if before.cancelled || wanted_keys.contains(&key) || held.contains(key.0) {
            continue;
        }
        out.push(EntryRow {
            sequence: before.sequence + 1,
            cancelled: true,
            updated_at: now,
            ..before.clone()
        });
    }
    out
}

/// The entries shown, with `changed` in place of those of the same milestone and moment (what
/// `replace_entries` stores), in the order `entries_of` reads them.
fn merged(shown: Vec<EntryRow>, changed: Vec<EntryRow>) -> Vec<EntryRow> {
    let mut all: HashMap<(String, CalendarMoment), EntryRow> = shown
        .into_iter()
        .map(|e| ((e.milestone_key.clone(), e.moment), e))
        .collect();
    for e in changed {
        all.insert((e.milestone_key.clone(), e.moment), e);
    }
    let mut out: Vec<EntryRow> = all.into_values().collect();
    out.sort_by(|a, b| {
        (a.on_date, &a.milestone_key, a.moment).cmp(&(b.on_date, &b.milestone_key, b.moment))
    });
    out
}

fn same_content(a: &EntryRow, b: &EntryRow) -> bool {
    (
        a.on_date,
        &a.summary,
        &a.description,
        &a.alarm_days,
        a.cancelled,
    ) == (
        b.on_date,
        &b.summary,
        &b.description,
        &b.alarm_days,
        b.cancelled,
    )
}

/// The event's summary and description in the learner's language: the milestone's title, what
/// the date means, the next step and the policy clause.
fn texts(
    m: &Milestone,
    moment: CalendarMoment,
    step: Option<&crate::rules::next_steps::NextStep>,
    language: Language,
) -> (String, String) {
    let (title, step_text) = match language {
        Language::ZhCn => (m.title.zh.as_ref(), step.map(|s| s.text.zh.as_ref())),
        Language::En => (m.title.en.as_ref(), step.map(|s| s.text.en.as_ref())),
    };
    let summary = match (language, moment) {
        (Language::ZhCn, CalendarMoment::EligibleFrom) => format!("可申请：{title}"),
        (Language::ZhCn, CalendarMoment::OpenUntil) => format!("申请截止：{title}"),
        (Language::En, CalendarMoment::EligibleFrom) => format!("Eligible: {title}"),
        (Language::En, CalendarMoment::OpenUntil) => format!("Last day to apply: {title}"),
    };
    let basis = match language {
        Language::ZhCn => "依据",
        Language::En => "Basis",
    };
    let mut description = String::new();
    if let Some(text) = step_text {
        description.push_str(text);
        description.push('\n');
    }
    description.push_str(&format!(
        "{basis}: {} {}",
        m.citation.source, m.citation.clause
    ));
    (summary, description)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Citation, Text};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn milestone(key: &str, status: Status, from: &str, until: Option<&str>) -> Milestone {
        let mut m = Milestone::new(
            "sh.technician_after_senior_worker",
            key,
            Text::new("申报技师", "Apply for 技师"),
            Citation::new("沪人社职〔2021〕489号", "五(七)"),
        )
        .with_status(status);
        m.eligible_from = Some(date(from));
        m.open_until = until.map(date);
        m
    }

    fn now(day: &str) -> NaiveDateTime {
        date(day).and_hms_opt(2, 0, 0).unwrap()
    }

    fn apply(shown: &[EntryRow], changed: Vec<EntryRow>) -> Vec<EntryRow> {
        merged(shown.to_vec(), changed)
    }

    #[test]
    fn a_moved_date_raises_the_sequence_and_nothing_else_does() {
        let id = LearnerId(7);
        let m = milestone("c1", Status::Upcoming, "2027-06-28", None);
        let first = reconcile(
            id,
            std::slice::from_ref(&m),
            &[],
            Language::ZhCn,
            &[30, 7],
            now("2026-12-05"),
        );
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].sequence, 0);
        assert_eq!(first[0].summary, "可申请：申报技师");
        assert!(
            first[0].description.contains("五(七)"),
            "{}",
            first[0].description
        );
        let shown = apply(&[], first);
        // Unchanged: nothing to store.
        assert!(reconcile(
            id,
            std::slice::from_ref(&m),
            &shown,
            Language::ZhCn,
            &[30, 7],
            now("2026-12-06")
        )
        .is_empty());
        // The date moves: sequence 1, the new date.
        let moved = milestone("c1", Status::Upcoming, "2027-09-01", None);
        let second = reconcile(
            id,
            std::slice::from_ref(&moved),
            &shown,
            Language::ZhCn,
            &[30, 7],
            now("2026-12-07"),
        );
        assert_eq!(
            (second[0].sequence, second[0].on_date),
            (1, date("2027-09-01"))
        );
        let shown = apply(&shown, second);
        // The reminder days change: the alarms are part of what is shown.
        let third = reconcile(
            id,
            std::slice::from_ref(&moved),
            &shown,
            Language::ZhCn,
            &[7],
            now("2026-12-08"),
        );
        assert_eq!(third[0].sequence, 2);
        // The language changes.
        let shown = apply(&shown, third);
        let fourth = reconcile(id, &[moved], &shown, Language::En, &[7], now("2026-12-09"));
        assert_eq!(
            (fourth[0].sequence, fourth[0].summary.as_str()),
            (3, "Eligible: Apply for 技师")
        );
    }

    #[test]
    fn a_withdrawn_milestone_is_cancelled_once_and_a_reached_one_is_kept() {
        let id = LearnerId(7);
        let open = milestone("c1", Status::Met, "2026-06-28", Some("2027-06-30"));
        let shown = apply(
            &[],
            reconcile(
                id,
                std::slice::from_ref(&open),
                &[],
                Language::ZhCn,
                &[30],
                now("2026-12-05"),
            ),
        );
        assert_eq!(shown.len(), 2, "the eligible day and the deadline");
        // Reached: both events stay as they were.
        let reached = open.clone().with_status(Status::Achieved);
        assert!(reconcile(
            id,
            &[reached],
            &shown,
            Language::ZhCn,
            &[30],
            now("2026-12-06")
        )
        .is_empty());
        // Withdrawn (no longer met): both cancelled, sequence raised, once.
        let lost = open.with_status(Status::NotMet);
        let cancelled = reconcile(
            id,
            std::slice::from_ref(&lost),
            &shown,
            Language::ZhCn,
            &[30],
            now("2026-12-06"),
        );
        assert_eq!(cancelled.len(), 2);
        assert!(cancelled.iter().all(|e| e.cancelled && e.sequence == 1));
        let shown = apply(&shown, cancelled);
        assert!(reconcile(
            id,
            &[lost],
            &shown,
            Language::ZhCn,
            &[30],
            now("2026-12-07")
        )
        .is_empty());
        // Met again: shown again with a higher sequence.
        let again = milestone("c1", Status::Met, "2026-06-28", Some("2027-06-30"));
        let back = reconcile(
            id,
            &[again],
            &shown,
            Language::ZhCn,
            &[30],
            now("2026-12-08"),
        );
        assert!(
            back.iter().all(|e| !e.cancelled && e.sequence == 2),
            "{back:?}"
        );
    }

    #[test]
    fn uids_are_stable_and_distinct() {
        let entry = |key: &str, moment| EntryRow {
            learner_id: LearnerId(7),
            milestone_key: key.into(),
            moment,
            on_date: date("2027-01-01"),
            summary: String::new(),
            description: String::new(),
            alarm_days: "[]".into(),
            sequence: 0,
            cancelled: false,
            updated_at: now("2026-12-05"),
        };
        let a = uid(&entry("k", CalendarMoment::EligibleFrom));
        assert_eq!(a, uid(&entry("k", CalendarMoment::EligibleFrom)));
        assert_ne!(a, uid(&entry("k", CalendarMoment::OpenUntil)));
        assert_ne!(a, uid(&entry("k2", CalendarMoment::EligibleFrom)));
        assert!(a.ends_with("@skillpath") && a.len() == 32 + "@skillpath".len());
    }
}
