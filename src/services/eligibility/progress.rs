//! A learner's progress as of a day: their certificates and every milestone computed from
//! their records and the parameters in force. What "my progress" shows, in JSON or as a page.

use chrono::NaiveDate;

use super::{evaluate, facts_of, ParameterCache};
use crate::db::certificates::{self, CertificateRow};
use crate::db::learners::{self, LearnerRow};
use crate::db::DbConnection;
use crate::domain::LearnerId;
use crate::error::AppError;
use crate::rules::Milestone;

pub struct Progress {
    pub learner: LearnerRow,
    pub certificates: Vec<CertificateRow>,
    pub milestones: Vec<Milestone>,
    /// The version of the parameters the milestones were computed with.
    pub parameters_version: String,
}

pub fn progress(
    conn: &mut DbConnection,
    parameters: &ParameterCache,
    learner_id: LearnerId,
    as_of: NaiveDate,
) -> Result<Progress, AppError> {
    let not_found = || AppError::NotFound { what: "learner" };
    // The learner's row and certificates serve both the answer and the rules.
    let learner = learners::find(conn, learner_id)?.ok_or_else(not_found)?;
    let certificates = certificates::of_learner(conn, learner_id)?;
    let facts = facts_of(conn, std::slice::from_ref(&learner), &certificates)?
        .remove(&learner_id)
        .ok_or_else(not_found)?;
    let (milestones, parameters_version) = evaluate(conn, parameters, &facts, as_of)?;
    Ok(Progress {
        learner,
        certificates,
        milestones,
        parameters_version,
    })
}
