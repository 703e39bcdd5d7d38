//! The rule parameters as stored, and the cache that reads them again only when they change.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;

use crate::db::milestones::{self};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::rules::params::{next_change_after, ParameterValue};
use crate::rules::Parameters;

/// Every stored parameter value.
pub fn parameter_values(conn: &mut DbConnection) -> Result<Vec<ParameterValue>, AppError> {
    Ok(milestones::all_parameters(conn)?
        .iter()
        .map(|r| r.to_value())
        .collect())
}

/// The stored parameter values, read again only when `rule_parameters` has changed.
///
/// The table is append-only (a new value supersedes an old one by its effective dates; the API
/// never updates or deletes a row, and an edit by hand needs a restart), so its row count,
/// highest id and latest creation time tell whether anything was added since the last read: one small
/// query per request instead of loading and parsing every value. The parameters in force on the
/// last date asked for are kept too (nearly every request asks for today). One cache per database.
#[derive(Default)]
pub struct ParameterCache(Mutex<Option<CachedParameters>>);

struct CachedParameters {
    marker: milestones::ParametersMarker,
    values: Arc<Vec<ParameterValue>>,
    in_force: Option<InForce>,
}

/// The parameters in force on a day, and the first later day on which they change.
#[derive(Clone)]
pub struct InForce {
    pub day: NaiveDate,
    pub parameters: Arc<Parameters>,
    pub next_change: Option<NaiveDate>,
}

impl InForce {
    pub fn from_values(values: &[ParameterValue], day: NaiveDate) -> Self {
        Self {
            day,
            parameters: Arc::new(Parameters::in_force(values, day)),
            next_change: next_change_after(values, day),
        }
    }

    /// The parameters stored now, in force on `day`.
    pub fn read(conn: &mut DbConnection, day: NaiveDate) -> Result<Self, AppError> {
        Ok(Self::from_values(&parameter_values(conn)?, day))
    }
}

impl ParameterCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedParameters>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The parameters in force on `as_of`.
    pub fn in_force(
        &self,
        conn: &mut DbConnection,
        as_of: NaiveDate,
    ) -> Result<Arc<Parameters>, AppError> {
        Ok(self.in_force_on(conn, as_of)?.parameters)
    }

    /// The parameters in force on `as_of`, with the day they next change.
    pub fn in_force_on(
        &self,
        conn: &mut DbConnection,
        as_of: NaiveDate,
    ) -> Result<InForce, AppError> {
        // The marker is read before the values: values newer than their marker only cause one
        // more read later, never a stale answer.
        let marker = milestones::parameters_marker(conn)?;
        let cached_values = match self.lock().as_ref().filter(|c| c.marker == marker) {
            Some(cached) => match &cached.in_force {
                Some(in_force) if in_force.day == as_of => return Ok(in_force.clone()),
                _ => Some(Arc::clone(&cached.values)),
            },
            None => None,
        };
        let values = match cached_values {
            Some(values) => values,
            None => Arc::new(parameter_values(conn)?),
        };
        let in_force = InForce::from_values(&values, as_of);
        *self.lock() = Some(CachedParameters {
            marker,
            values,
            in_force: Some(in_force.clone()),
        });
        Ok(in_force)
    }
}
