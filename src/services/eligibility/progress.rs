//! A learner's progress as of a day: their certificates, every milestone computed from their
//! records and the parameters in force, and the next steps. What "my progress" shows, in JSON or
//! as a page.
//!
//! The answer is stored per learner with the days over which it stays true (its snapshot): from
//! the day it was computed until the first day on which any comparison the rules made with the
//! date, or the parameters in force, would come out otherwise. A day inside that range is
//! answered from the snapshot; any other day is computed (and stored when it is today). Every
//! write to a learner's records removes their snapshot in its own transaction (triggers, see the
//! migration) and the refresh of that transaction writes it again; a catalog change removes
//! them all and its recomputation job writes them again.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::facts_of;
use super::packed_body;
use super::parameters::{InForce, ParameterCache};
use crate::db::certificates::{self, CertificateRow};
use crate::db::learners::{self, LearnerRow};
use crate::db::progress_snapshots::{self as snapshots, SnapshotRow};
use crate::db::{self, DbConnection};
use crate::domain::LearnerId;
use crate::error::AppError;
use crate::rules::next_steps::{next_steps, NextStep};
use crate::rules::{self, AsOf, Facts, Milestone};
use crate::services::certificate_view::{with_decisions, CertificateResponse};

/// A learner's progress without its date: what a snapshot holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressBody {
    #[schema(value_type = i64)]
    pub learner_id: LearnerId,
    pub learner_name: String,
    pub parameters_version: String,
    pub certificates: Vec<CertificateResponse>,
    pub milestones: Vec<Milestone>,
    /// Ordered: the single most useful action first.
    pub next_steps: Vec<NextStep>,
}

/// A learner's progress on a day, as it is sent: the day, then the fields of a [`ProgressBody`].
#[derive(Debug)]
pub struct ProgressAnswer {
    pub as_of: NaiveDate,
    /// The JSON of the [`ProgressBody`], packed as it is stored.
    packed_body: Vec<u8>,
    /// Whether it came from the stored snapshot (for metrics and tests; never sent).
    pub from_snapshot: bool,
}

impl ProgressAnswer {
    /// What the JSON sent begins with: the object's opening and its date (written as serde
    /// writes a date, `compose!`'s form of it).
    fn prefix(&self) -> String {
        crate::compose!("{\"as_of\":\"", self.as_of, "\",")
    }

    /// The JSON sent: `{"as_of":"…",` followed by the body's fields, the same bytes whether the
    /// body was stored or computed just now.
    pub fn to_json(&self) -> Result<String, AppError> {
        packed_body::unpack_with(&self.prefix(), &self.packed_body)
            .map_err(|e| AppError::internal("stored progress", e))
    }

    /// The same JSON as one gzip member, built around the stored bytes (nothing is compressed).
    pub fn to_gzip(&self) -> Result<Vec<u8>, AppError> {
        packed_body::gzip_with(&self.prefix(), &self.packed_body)
            .map_err(|e| AppError::internal("stored progress", e))
    }

    /// The body, parsed (for the page).
    pub fn body(&self) -> Result<ProgressBody, AppError> {
        let json = packed_body::unpack(&self.packed_body)
            .map_err(|e| AppError::internal("stored progress", e))?;
        serde_json::from_str(&json).map_err(|e| AppError::internal("stored progress", e))
    }
}

/// The answer for `learner_id` on `as_of`, from an already read snapshot when it holds that day.
pub fn answer_with(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    stored: Option<SnapshotRow>,
    as_of: NaiveDate,
    today: NaiveDate,
) -> Result<ProgressAnswer, AppError> {
    match stored.filter(|s| s.learner_id == learner_id && s.holds_on(as_of)) {
        Some(snapshot) => Ok(ProgressAnswer {
            as_of,
            packed_body: snapshot.packed_body,
            from_snapshot: true,
        }),
        None => compute_answer(conn, parameters, learner_id, as_of, today),
    }
}

/// The answer for `learner_id` on `as_of`: the snapshot when it holds that day, else computed.
pub fn answer(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    as_of: NaiveDate,
    today: NaiveDate,
) -> Result<ProgressAnswer, AppError> {
    let stored = snapshots::find(conn, learner_id)?;
    answer_with(conn, parameters, learner_id, stored, as_of, today)
}

/// Computes the answer; stores it when `as_of` is today.
pub fn compute_answer(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    as_of: NaiveDate,
    today: NaiveDate,
) -> Result<ProgressAnswer, AppError> {
    let compute = |conn: &mut DbConnection| -> Result<SnapshotRow, AppError> {
        let in_force = parameters.in_force_on(conn, as_of)?;
        compute_snapshots(conn, &[learner_id], &in_force)?
            .pop()
            .ok_or(AppError::NotFound { what: "learner" })
    };
    let row = if as_of == today {
        db::write_transaction(conn, |conn| {
            // A write that changes what is read below either commits before these locks are
            // granted (and is read) or removes what is stored here once they are released.
            snapshots::lock_for_storing(conn)?;
            learners::lock(conn, &[learner_id])?;
            let row = compute(conn)?;
            snapshots::store(conn, std::slice::from_ref(&row))?;
            Ok::<_, AppError>(row)
        })?
    } else {
        compute(conn)?
    };
    Ok(ProgressAnswer {
        as_of,
        packed_body: row.packed_body,
        from_snapshot: false,
    })
}

/// The milestones of `facts` on the day of `in_force`, and the first later day on which they,
/// or the parameters they were computed under, may differ.
pub fn evaluate_until(facts: &Facts, in_force: &InForce) -> (Vec<Milestone>, Option<NaiveDate>) {
    let as_of = AsOf::new(in_force.day);
    let milestones = rules::evaluate_at(facts, &in_force.parameters, &as_of);
    let until = match (as_of.horizon(), in_force.next_change) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    (milestones, until)
}

/// The snapshots of `learner_ids` on the day of `in_force`, computed from their records.
pub fn compute_snapshots(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
    in_force: &InForce,
) -> Result<Vec<SnapshotRow>, AppError> {
    let learners = learners::find_many(conn, learner_ids)?;
    let certificates = certificates::of_learners(conn, learner_ids)?;
    let facts = facts_of(conn, &learners, &certificates)?;
    let evaluated = facts
        .iter()
        .map(|(&id, facts)| {
            let (milestones, until) = evaluate_until(facts, in_force);
            (id, milestones, until)
        })
        .collect();
    snapshot_rows(conn, &learners, certificates, evaluated, in_force)
}

/// Snapshots from milestones already evaluated (with their end), the learners' rows and their
/// certificates: one more query, for the certificates' decisions.
pub fn snapshot_rows(
    conn: &mut DbConnection,
    learners: &[LearnerRow],
    certificates: Vec<CertificateRow>,
    evaluated: Vec<(LearnerId, Vec<Milestone>, Option<NaiveDate>)>,
    in_force: &InForce,
) -> Result<Vec<SnapshotRow>, AppError> {
    let wanted: std::collections::HashSet<LearnerId> =
        evaluated.iter().map(|(id, _, _)| *id).collect();
    let names: HashMap<LearnerId, &str> =
        learners.iter().map(|l| (l.id, l.name.as_str())).collect();
    let rows: Vec<CertificateRow> = certificates
        .into_iter()
        .filter(|c| wanted.contains(&c.learner_id))
        .collect();
    let mut views: HashMap<LearnerId, Vec<CertificateResponse>> = HashMap::new();
    for view in with_decisions(conn, rows, |id| {
        names.get(&id).map(|n| (*n).to_owned()).unwrap_or_default()
    })? {
        views.entry(view.learner_id).or_default().push(view);
    }
    let computed_at = db::now();
    evaluated
        .into_iter()
        .map(|(learner_id, milestones, valid_until)| {
            let body = ProgressBody {
                learner_id,
                learner_name: names
                    .get(&learner_id)
                    .map(|n| (*n).to_owned())
                    .unwrap_or_default(),
                parameters_version: in_force.parameters.version.clone(),
                certificates: views.remove(&learner_id).unwrap_or_default(),
                next_steps: next_steps(&milestones),
                milestones,
            };
            Ok(SnapshotRow {
                learner_id,
                valid_from: in_force.day,
                valid_until,
                parameters_version: in_force.parameters.version.clone(),
                computed_at,
                packed_body: serde_json::to_string(&body)
                    .map_err(|e| AppError::internal("progress", e))
                    .and_then(|json| {
                        packed_body::pack(&json).map_err(|e| AppError::internal("progress", e))
                    })?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The date opening an answer is written as serde writes the date of [`ProgressResponse`]
    /// (the document's schema), years beyond four digits included.
    #[test]
    fn the_answers_date_is_written_as_serde_writes_it() {
        for (y, m, d) in [(2026, 12, 4), (999, 1, 31), (12345, 6, 7), (-44, 3, 15)] {
            let as_of = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let answer = ProgressAnswer {
                as_of,
                packed_body: Vec::new(),
                from_snapshot: false,
            };
            let date = serde_json::to_string(&as_of).unwrap();
            assert_eq!(answer.prefix(), format!("{{\"as_of\":{date},"));
        }
    }
}
