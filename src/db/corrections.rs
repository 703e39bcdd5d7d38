//! Learners' correction requests and the decisions on them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::correction_requests;
use super::DbConnection;
use crate::domain::{
    CorrectionRecord, CorrectionRequestId, CorrectionStatus, InstitutionId, LearnerId, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = correction_requests)]
pub struct CorrectionRow {
    pub id: CorrectionRequestId,
    pub learner_id: LearnerId,
    pub record: CorrectionRecord,
    pub record_id: Option<i64>,
    /// The fields asked for and their values (JSON).
    pub changes: String,
    /// What those fields held when asked (JSON).
    pub current_values: String,
    pub reason: String,
    pub institution_id: Option<InstitutionId>,
    pub status: CorrectionStatus,
    pub requested_by: Option<UserId>,
    pub decided_by: Option<UserId>,
    pub decision_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = correction_requests, treat_none_as_default_value = false)]
pub struct NewCorrection {
    pub learner_id: LearnerId,
    pub record: CorrectionRecord,
    pub record_id: Option<i64>,
    pub changes: String,
    pub current_values: String,
    pub reason: String,
    pub institution_id: Option<InstitutionId>,
    pub status: CorrectionStatus,
    pub requested_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewCorrection) -> QueryResult<CorrectionRow> {
    crate::each_backend!(conn, c => diesel::insert_into(correction_requests::table)
        .values(new)
        .returning(CorrectionRow::as_returning())
        .get_result(c))
}

pub fn find(
    conn: &mut DbConnection,
    id: CorrectionRequestId,
) -> QueryResult<Option<CorrectionRow>> {
    correction_requests::table
        .find(id)
        .select(CorrectionRow::as_select())
        .get_result(conn)
        .optional()
}

/// Locks the request's row until the transaction ends (PostgreSQL; SQLite's write
/// transaction already holds the database).
pub fn lock(conn: &mut DbConnection, id: CorrectionRequestId) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        correction_requests::table
            .find(id)
            .select(correction_requests::id)
            .for_update()
            .load::<CorrectionRequestId>(pg)?;
    }
    Ok(())
}

/// Whose requests a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    Learner(LearnerId),
    Institution(InstitutionId),
    All,
}

/// A page of requests, newest first (before the cursor).
pub fn list(
    conn: &mut DbConnection,
    listing: Listing,
    status: Option<CorrectionStatus>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CorrectionRow>> {
    let mut query = correction_requests::table
        .order(correction_requests::id.desc())
        .limit(limit)
        .select(CorrectionRow::as_select())
        .into_boxed();
    query = match listing {
        Listing::Learner(id) => query.filter(correction_requests::learner_id.eq(id)),
        Listing::Institution(id) => query.filter(correction_requests::institution_id.eq(id)),
        Listing::All => query,
    };
    if let Some(status) = status {
        query = query.filter(correction_requests::status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(correction_requests::id.lt(before));
    }
    query.load(conn)
}

pub fn decide(
    conn: &mut DbConnection,
    id: CorrectionRequestId,
    status: CorrectionStatus,
    by: UserId,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(correction_requests::table.find(id))
        .set((
            correction_requests::status.eq(status),
            correction_requests::decided_by.eq(Some(by)),
            correction_requests::decision_reason.eq(Some(reason)),
            correction_requests::decided_at.eq(Some(at)),
        ))
        .execute(conn)
}
