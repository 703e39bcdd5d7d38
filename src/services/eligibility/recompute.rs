//! Recomputing every learner's milestones: in batches, daily, and after a change that may affect
//! them all.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parameters::InForce;
use super::store::refresh;
use crate::db::{self, milestones};
use crate::domain::CohortId;
use crate::error::AppError;

/// What a recomputation of every learner did.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecomputeSummary {
    pub learners: u64,
    pub events: u64,
    pub seconds: f64,
}

/// Stored milestones, their events and their notices are statements about today: a learner reads
/// them as such. A recomputation for another date would store (and announce) what is not true
/// today, so it is refused; milestones on another date are answered, never stored, by
/// `GET /learners/{id}/milestones?as_of=`.
pub fn check_recompute_date(as_of: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if as_of == today {
        Ok(())
    } else {
        Err(format!(
            "--as-of {as_of}: stored milestones and their notices are today's ({today}); \
milestones on another date are answered without being stored by \
GET /api/v1/learners/{{id}}/milestones?as_of={as_of}"
        ))
    }
}

/// Learners recomputed per transaction: a fixed number of queries each.
const BATCH: usize = 200;

/// Recomputes every learner's milestones as of `today`, a batch per transaction.
pub fn recompute_all(
    database: &db::Database,
    today: NaiveDate,
) -> Result<RecomputeSummary, AppError> {
    check_recompute_date(today, crate::domain::today_in_shanghai())
        .map_err(|refusal| AppError::internal("recomputation", refusal))?;
    let started = std::time::Instant::now();
    let mut conn = database.get()?;
    // The batches look stored milestones up by learner: plans need current statistics.
    db::analyze(&mut conn, &["learner_milestones"])?;
    let in_force = InForce::read(&mut conn, today)?;
    let mut summary = RecomputeSummary::default();
    let mut after = 0;
    loop {
        let ids = milestones::learner_ids_after(&mut conn, after, BATCH as i64)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let events = db::write_transaction(&mut conn, |conn| refresh(conn, &ids, &in_force))?;
        summary.learners += ids.len() as u64;
        summary.events += events as u64;
        after = last.get();
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Recomputes the milestones of a cohort's learners as of today, a batch per transaction; how
/// many learners.
pub fn recompute_cohort(database: &db::Database, cohort_id: CohortId) -> Result<usize, AppError> {
    let today = crate::domain::today_in_shanghai();
    let mut conn = database.get()?;
    let ids = milestones::learner_ids_of_cohort(&mut conn, cohort_id)?;
    let in_force = InForce::read(&mut conn, today)?;
    for chunk in ids.chunks(BATCH) {
        db::write_transaction(&mut conn, |conn| refresh(conn, chunk, &in_force))?;
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[test]
    fn only_today_is_recomputed() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert!(super::check_recompute_date(today, today).is_ok());
        let later = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        let refusal = super::check_recompute_date(later, today).unwrap_err();
        assert!(refusal.contains("as_of=2027-06-30"), "{refusal}");
        assert!(super::check_recompute_date(today.pred_opt().unwrap(), today).is_err());
    }
}
