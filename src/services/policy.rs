//! Policy parameters set by administrators: a new value (history is never edited, values are
//! added with the dates they hold) and the recomputation of every learner it queues.

use chrono::NaiveDate;
use serde_json::json;

use crate::db::milestones::{self, NewParameter};
use crate::db::{self, audit, DbConnection};
use crate::domain::{AuditAction, AuditEntity, OccupationCode, UserId};
use crate::error::AppError;
use crate::services::jobs::{self, Job};

/// A new value of a rule parameter, its fields checked against the parameter's definition.
pub struct NewValue {
    pub name: String,
    pub occupation_code: Option<OccupationCode>,
    pub value: serde_json::Value,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub source: String,
    pub clause: String,
    pub note: String,
}

/// Stores a parameter value (history is never edited: values are added) and queues the
/// recomputation of every learner. Run inside a write transaction.
pub fn add_value(conn: &mut DbConnection, actor: UserId, new: &NewValue) -> Result<(), AppError> {
    if let Some(code) = &new.occupation_code {
        super::occupation_catalog::require_occupation(conn, "occupation_code", code.as_str())?;
    }
    milestones::insert_parameter(
        conn,
        &NewParameter {
            name: &new.name,
            occupation_code: new.occupation_code.as_ref().map(OccupationCode::as_str),
            value: new.value.to_string(),
            effective_from: new.effective_from,
            effective_until: new.effective_until,
            source: &new.source,
            clause: &new.clause,
            note: new.note.trim(),
            created_by: Some(actor),
            created_at: db::now(),
        },
    )?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::AddValue,
        AuditEntity::RuleParameter,
        &new.name,
        &json!({"value": new.value, "occupation_code": new.occupation_code.as_ref().map(OccupationCode::as_str), "from": new.effective_from, "until": new.effective_until}),
    )?;
    if crate::rules::params::concerns_learners(&new.name) {
        jobs::enqueue(
            conn,
            &Job::RecomputeAll {
                reason: "parameter value added".into(),
            },
        )?;
    }
    Ok(())
}
