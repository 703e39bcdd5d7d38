//! Rule parameters, each learner's stored milestones, and the events of their changes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{learner_milestones, milestone_events, rule_parameters};
use super::DbConnection;
use crate::domain::{CohortId, LearnerId, UserId};
use crate::rules::change::MilestoneChange;
use crate::rules::params::ParameterValue;
use crate::rules::Status;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rule_parameters)]
pub struct ParameterRow {
    pub id: i64,
    pub name: String,
    pub occupation_code: Option<String>,
    pub value: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub source: String,
    pub clause: String,
    pub note: String,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

impl ParameterRow {
    pub fn to_value(&self) -> ParameterValue {
        ParameterValue {
            name: self.name.clone(),
            occupation_code: self.occupation_code.clone(),
            value: serde_json::from_str(&self.value).unwrap_or(serde_json::Value::Null),
            effective_from: self.effective_from,
            effective_until: self.effective_until,
            source: self.source.clone(),
            clause: self.clause.clone(),
            note: self.note.clone(),
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rule_parameters, treat_none_as_default_value = false)]
pub struct NewParameter<'a> {
    pub name: &'a str,
    pub occupation_code: Option<&'a str>,
    pub value: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub source: &'a str,
    pub clause: &'a str,
    pub note: &'a str,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

/// Every stored parameter value, oldest first (the table is small: tens of rows).
pub fn all_parameters(conn: &mut DbConnection) -> QueryResult<Vec<ParameterRow>> {
    rule_parameters::table
        .order((
            rule_parameters::name,
            rule_parameters::effective_from,
            rule_parameters::id,
        ))
        .select(ParameterRow::as_select())
        .load(conn)
}

/// Row count, highest id and latest creation time of `rule_parameters`: they change whenever a
/// value is added (the time as well, should SQLite reuse the id of a row rolled back).
pub type ParametersMarker = (i64, Option<i64>, Option<chrono::NaiveDateTime>);

pub fn parameters_marker(conn: &mut DbConnection) -> QueryResult<ParametersMarker> {
    rule_parameters::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(rule_parameters::id),
            diesel::dsl::max(rule_parameters::created_at),
        ))
        .get_result(conn)
}

pub fn insert_parameter(conn: &mut DbConnection, new: &NewParameter<'_>) -> QueryResult<usize> {
    diesel::insert_into(rule_parameters::table)
        .values(new)
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = learner_milestones, treat_none_as_default_value = false)]
pub struct StoredMilestone {
    pub learner_id: LearnerId,
    pub milestone_key: String,
    pub rule_id: String,
    pub status: Status,
    pub eligible_from: Option<NaiveDate>,
    pub payload: String,
    pub parameters_version: String,
    pub computed_at: NaiveDateTime,
}

/// What a stored milestone says without its payload: enough to see whether it changed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = learner_milestones)]
pub struct StoredState {
    pub learner_id: LearnerId,
    pub milestone_key: String,
    pub status: Status,
    pub eligible_from: Option<NaiveDate>,
    pub parameters_version: String,
}

/// The stored milestones of many learners, without their payloads.
pub fn stored_states(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<StoredState>> {
    learner_milestones::table
        .filter(learner_milestones::learner_id.eq_any(learner_ids))
        .select(StoredState::as_select())
        .load(conn)
}

/// The payloads of the stored milestones named (learner, key).
pub fn payloads(
    conn: &mut DbConnection,
    keys: &[(LearnerId, String)],
) -> QueryResult<Vec<(LearnerId, String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let learners: Vec<LearnerId> = keys.iter().map(|(l, _)| *l).collect();
    let names: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    let wanted: std::collections::HashSet<(LearnerId, &str)> =
        keys.iter().map(|(l, k)| (*l, k.as_str())).collect();
    let rows: Vec<(LearnerId, String, String)> = learner_milestones::table
        .filter(learner_milestones::learner_id.eq_any(&learners))
        .filter(learner_milestones::milestone_key.eq_any(&names))
        .select((
            learner_milestones::learner_id,
            learner_milestones::milestone_key,
            learner_milestones::payload,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(l, k, _)| wanted.contains(&(*l, k.as_str())))
        .collect())
}

/// The payloads of one learner's stored milestones with one of `statuses`, by key.
pub fn payloads_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    statuses: &[Status],
) -> QueryResult<Vec<String>> {
    learner_milestones::table
        .filter(learner_milestones::learner_id.eq(learner_id))
        .filter(learner_milestones::status.eq_any(statuses))
        .order(learner_milestones::milestone_key)
        .select(learner_milestones::payload)
        .load(conn)
}

/// Rows per multi-row insert: within both backends' limits on bound parameters.
const INSERT_CHUNK: usize = 1000;

/// Removes the stored milestones named in `stale` (learner, key) and stores `rows`.
pub fn replace_some(
    conn: &mut DbConnection,
    stale: &[(LearnerId, String)],
    rows: &[StoredMilestone],
) -> QueryResult<()> {
    let mut by_learner: std::collections::BTreeMap<LearnerId, Vec<&str>> = Default::default();
    for (learner, key) in stale {
        by_learner.entry(*learner).or_default().push(key);
    }
    for (learner, keys) in by_learner {
        diesel::delete(
            learner_milestones::table
                .filter(learner_milestones::learner_id.eq(learner))
                .filter(learner_milestones::milestone_key.eq_any(keys)),
        )
        .execute(conn)?;
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        crate::each_backend!(conn, c => diesel::insert_into(learner_milestones::table).values(chunk).execute(c))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = milestone_events)]
pub struct EventRow {
    pub id: i64,
    pub learner_id: LearnerId,
    pub milestone_key: String,
    pub rule_id: String,
    pub event: MilestoneChange,
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = milestone_events, treat_none_as_default_value = false)]
pub struct NewEvent {
    pub learner_id: LearnerId,
    pub milestone_key: String,
    pub rule_id: String,
    pub event: MilestoneChange,
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_events(conn: &mut DbConnection, events: &[NewEvent]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in events.chunks(INSERT_CHUNK) {
        inserted += crate::each_backend!(conn, c => diesel::insert_into(milestone_events::table).values(chunk).execute(c))?;
    }
    Ok(inserted)
}

pub fn events_for(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut query = milestone_events::table
        .filter(milestone_events::learner_id.eq(learner_id))
        .order(milestone_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(milestone_events::id.gt(after));
    }
    query.load(conn)
}

/// Ids of every learner, in pages (for the nightly recomputation).
pub fn learner_ids_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<LearnerId>> {
    use super::schema::learners;
    learners::table
        .filter(learners::id.gt(after))
        .filter(learners::erased_at.is_null())
        .order(learners::id.asc())
        .limit(limit)
        .select(learners::id)
        .load(conn)
}

/// Ids of the learners enrolled in a cohort.
pub fn learner_ids_of_cohort(
    conn: &mut DbConnection,
    cohort_id: CohortId,
) -> QueryResult<Vec<LearnerId>> {
    use super::schema::enrollments;
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .select(enrollments::learner_id)
        .distinct()
        .load(conn)
}
