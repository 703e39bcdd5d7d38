//! Milestones computed and stored: each change with its event, its notice and its reminders,
//! in the transaction of the write that caused it.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;

use super::facts::{facts_of, load_facts};
use super::parameters::{InForce, ParameterCache};
use super::progress::{evaluate_until, snapshot_rows};
use crate::db::milestones::{self, NewEvent, StoredMilestone, StoredState};
use crate::db::{self, certificates, learners, progress_snapshots, DbConnection};
use crate::domain::{LearnerId, NoticeKind};
use crate::error::AppError;
use crate::notify::messages::milestone_message;
use crate::rules::change::change;
use crate::rules::{self, Facts, Milestone};

/// A learner's milestones on `as_of`, under the parameters in force that day.
pub fn compute(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    as_of: NaiveDate,
) -> Result<(Vec<Milestone>, String), AppError> {
    let facts = load_facts(conn, learner_id)?;
    evaluate(conn, parameters, &facts, as_of)
}

/// Milestones of loaded facts on `as_of`, under the parameters in force that day.
pub fn evaluate(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    facts: &Facts,
    as_of: NaiveDate,
) -> Result<(Vec<Milestone>, String), AppError> {
    let params = parameters.in_force(conn, as_of)?;
    Ok((
        rules::evaluate(facts, &params, as_of),
        params.version.clone(),
    ))
}

/// Recomputes the milestones of `learner_ids` on the day of `in_force`, stores them and records
/// an event for each change, and writes the progress snapshots that no longer hold, in a fixed
/// number of queries for the whole batch. Run inside the write transaction of the change that
/// caused it.
pub fn refresh(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
    in_force: &InForce,
) -> Result<usize, AppError> {
    refresh_with(conn, learner_ids, in_force, Vec::new())
}

/// `refresh`, writing `notices` (of the change that caused it) together with those of the
/// milestone events: one set of statements for all of them.
pub fn refresh_with(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
    in_force: &InForce,
    notices: Vec<crate::notify::Notice<'_>>,
) -> Result<usize, AppError> {
    let (params, today) = (&*in_force.parameters, in_force.day);
    learners::lock(conn, learner_ids)?;
    let mut learner_rows = learners::find_many(conn, learner_ids)?;
    // An erased learner keeps no milestones (a decision on a certificate kept after their
    // erasure recomputes nothing for them and tells them nothing).
    let live: Vec<LearnerId>;
    let (learner_ids, notices) = if learner_rows.iter().any(|r| r.erased_at.is_some()) {
        learner_rows.retain(|r| r.erased_at.is_none());
        live = learner_rows.iter().map(|r| r.id).collect();
        let notices = notices
            .into_iter()
            .filter(|n| n.recipient.learner_id().is_none_or(|id| live.contains(&id)))
            .collect();
        (&live[..], notices)
    } else {
        (learner_ids, notices)
    };
    let certificates = certificates::of_learners(conn, learner_ids)?;
    let facts = facts_of(conn, &learner_rows, &certificates)?;
    // A snapshot still holding today is true (a change to the learner's records would have
    // removed it): the nightly pass rewrites only those whose range has ended.
    let holding: HashSet<LearnerId> = progress_snapshots::holding_on(conn, learner_ids, today)?
        .into_iter()
        .collect();
    let mut evaluated = Vec::with_capacity(facts.len());
    let mut to_snapshot = Vec::new();
    for (&learner_id, learner_facts) in &facts {
        let (milestones, until) = evaluate_until(learner_facts, in_force);
        if !holding.contains(&learner_id) {
            to_snapshot.push((learner_id, milestones.clone(), until));
        }
        evaluated.push((learner_id, milestones));
    }
    let snapshots = snapshot_rows(conn, &learner_rows, certificates, to_snapshot, in_force)?;
    progress_snapshots::store(conn, &snapshots)?;
    // Stored milestones are compared by their columns; payloads (with their traces, the bulk of
    // the table) are read and parsed only for what changed.
    let mut previous: HashMap<(LearnerId, String), StoredState> =
        milestones::stored_states(conn, learner_ids)?
            .into_iter()
            .map(|s| ((s.learner_id, s.milestone_key.clone()), s))
            .collect();
    let now = db::now();
    let mut changed: Vec<(LearnerId, Milestone, bool)> = Vec::new();
    for (learner_id, milestones) in evaluated {
        for m in milestones {
            let stored = previous.remove(&(learner_id, m.key.clone()));
            // The same status, date and parameters: no event, and the stored row stands.
            let unchanged = stored.as_ref().is_some_and(|s| {
                s.status == m.status
                    && s.eligible_from == m.eligible_from
                    && *s.parameters_version == *m.parameters_version
            });
            if !unchanged {
                changed.push((learner_id, m, stored.is_some()));
            }
        }
    }
    // What is left of the stored milestones has vanished.
    let vanished: Vec<(LearnerId, String)> = previous.into_keys().collect();
    let mut stale: Vec<(LearnerId, String)> = changed
        .iter()
        .filter(|(_, _, was_stored)| *was_stored)
        .map(|(learner_id, m, _)| (*learner_id, m.key.clone()))
        .collect();
    stale.extend(vanished.iter().cloned());
    let befores: HashMap<(LearnerId, String), Milestone> = milestones::payloads(conn, &stale)?
        .into_iter()
        .filter_map(|(learner_id, key, payload)| {
            Some((
                (learner_id, key),
                serde_json::from_str::<Milestone>(&payload).ok()?,
            ))
        })
        .collect();
    let json = |m: Option<&Milestone>| m.and_then(|m| serde_json::to_string(m).ok());
    let mut events = Vec::new();
    let mut rows = Vec::new();
    for (learner_id, m, _) in &changed {
        let before = befores.get(&(*learner_id, m.key.clone()));
        if let Some(kind) = change(before, Some(m)) {
            events.push(NewEvent {
                learner_id: *learner_id,
                milestone_key: m.key.clone(),
                rule_id: m.rule_id.to_string(),
                event: kind,
                before: json(before),
                after: json(Some(m)),
                created_at: now,
            });
        }
        rows.push(StoredMilestone {
            learner_id: *learner_id,
            milestone_key: m.key.clone(),
            rule_id: m.rule_id.to_string(),
            status: m.status,
            eligible_from: m.eligible_from,
            payload: serde_json::to_string(m).map_err(|e| AppError::internal("milestone", e))?,
            parameters_version: m.parameters_version.to_string(),
            computed_at: now,
        });
    }
    for (learner_id, key) in vanished {
        let old = befores.get(&(learner_id, key.clone()));
        if let Some(kind) = old.and_then(|old| change(Some(old), None)) {
            events.push(NewEvent {
                learner_id,
                milestone_key: key,
                rule_id: old.map(|o| o.rule_id.to_string()).unwrap_or_default(),
                event: kind,
                before: json(old),
                after: None,
                created_at: now,
            });
        }
    }
    events.sort_by(|a, b| (a.learner_id, &a.milestone_key).cmp(&(b.learner_id, &b.milestone_key)));
    milestones::replace_some(conn, &stale, &rows)?;
    milestones::insert_events(conn, &events)?;
    let reminder_days = params.days(crate::param!("notify.reminder_days"));
    crate::metrics::producing(|| {
        notify_events(conn, &events, notices, &reminder_days, today, now)
    })?;
    Ok(events.len())
}

/// Puts a notification in the outbox for each milestone event, and moves the milestone's
/// reminders with it, in the same transaction.
fn notify_events<'a>(
    conn: &mut DbConnection,
    events: &'a [NewEvent],
    caused: Vec<crate::notify::Notice<'a>>,
    reminder_days: &[u32],
    today: NaiveDate,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    if events.is_empty() && caused.is_empty() {
        return Ok(());
    }
    let ids: Vec<LearnerId> = events
        .iter()
        .map(|e| e.learner_id)
        .chain(caused.iter().filter_map(|n| n.recipient.learner_id()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let crate::notify::Contacts {
        emails,
        preferences,
    } = crate::notify::contacts(conn, &ids)?;
    let mut notices: Vec<crate::notify::Notice<'_>> = caused;
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<Milestone>(j).ok())
    };
    for event in events {
        let (before, after) = (parse(&event.before), parse(&event.after));
        let email = emails.get(&event.learner_id).map(String::as_str);
        notices.extend(crate::notify::reminders::follow_change(
            conn,
            event.learner_id,
            email,
            before.as_ref(),
            after.as_ref(),
            reminder_days,
            today,
            now,
        )?);
        let change = event.event;
        let (Some(kind), Some(message)) = (
            NoticeKind::of_change(change),
            milestone_message(change, before.as_ref(), after.as_ref()),
        ) else {
            continue;
        };
        let date = after
            .as_ref()
            .and_then(|m| m.eligible_from)
            .map_or_else(|| "-".to_owned(), |d| d.to_string());
        notices.push(crate::notify::Notice {
            recipient: crate::notify::Recipient::Learner(event.learner_id),
            email,
            // The same change recorded twice on one day (two recomputations racing) is one notice.
            event_key: format!(
                "milestone:{}:{}:{date}:{today}",
                event.milestone_key, event.event
            ),
            category: crate::notify::Category::Milestone,
            kind,
            message,
            due_at: None,
            secret: None,
        });
    }
    crate::notify::produce_many(conn, &notices, &preferences, now)
}

/// `refresh` with the parameters in force today: what every write of a learner's facts calls.
pub fn refresh_now(conn: &mut DbConnection, learner_id: LearnerId) -> Result<usize, AppError> {
    refresh_now_with(conn, learner_id, Vec::new())
}

/// `refresh_now`, writing the notices of the change that caused it together with its own.
pub fn refresh_now_with(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    notices: Vec<crate::notify::Notice<'_>>,
) -> Result<usize, AppError> {
    let in_force = InForce::read(conn, crate::domain::today_in_shanghai())?;
    refresh_with(conn, &[learner_id], &in_force, notices)
}
