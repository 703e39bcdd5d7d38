//! Each learner's stored progress and the days over which it is true (the migration says how it
//! is kept from going stale).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{progress_snapshots, users};
use super::users::UserRow;
use super::DbConnection;
use crate::domain::{LearnerId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = progress_snapshots, treat_none_as_default_value = false)]
pub struct SnapshotRow {
    pub learner_id: LearnerId,
    pub valid_from: NaiveDate,
    /// The first day it is no longer true; `None`: none known.
    pub valid_until: Option<NaiveDate>,
    pub parameters_version: String,
    pub computed_at: NaiveDateTime,
    /// The progress as JSON, without its date, packed (`services::eligibility::packed_body`).
    pub packed_body: Vec<u8>,
}

impl SnapshotRow {
    /// Whether it is the answer for `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|until| day < until)
    }
}

/// An account and the snapshot of its learner, in one statement: what `GET /me/progress` reads.
pub fn for_account(
    conn: &mut DbConnection,
    user_id: UserId,
) -> QueryResult<Option<(UserRow, Option<SnapshotRow>)>> {
    users::table
        .left_join(
            progress_snapshots::table
                .on(users::learner_id.eq(progress_snapshots::learner_id.nullable())),
        )
        .filter(users::id.eq(user_id))
        .select((UserRow::as_select(), Option::<SnapshotRow>::as_select()))
        .get_result(conn)
        .optional()
}

/// Rows per multi-row insert: within both backends' limits on bound parameters.
const INSERT_CHUNK: usize = 1000;

pub fn find(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<Option<SnapshotRow>> {
    progress_snapshots::table
        .find(learner_id)
        .select(SnapshotRow::as_select())
        .get_result(conn)
        .optional()
}

/// Replaces the snapshots of the learners of `rows`.
pub fn store(conn: &mut DbConnection, rows: &[SnapshotRow]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let ids: Vec<LearnerId> = chunk.iter().map(|r| r.learner_id).collect();
        diesel::delete(
            progress_snapshots::table.filter(progress_snapshots::learner_id.eq_any(&ids)),
        )
        .execute(conn)?;
        crate::each_backend!(conn, c => diesel::insert_into(progress_snapshots::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Before reading what a snapshot is computed from: on PostgreSQL, a catalog change (whose
/// trigger takes this table in EXCLUSIVE mode) then waits for this transaction, and removes what
/// it stores; SQLite's write transaction already excludes every other writer.
pub fn lock_for_storing(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("LOCK TABLE progress_snapshots IN ROW EXCLUSIVE MODE").execute(pg)?;
    }
    Ok(())
}

/// Forgets the snapshots of these learners (their answer will be computed when next asked).
pub fn forget(conn: &mut DbConnection, learner_ids: &[LearnerId]) -> QueryResult<usize> {
    diesel::delete(
        progress_snapshots::table.filter(progress_snapshots::learner_id.eq_any(learner_ids)),
    )
    .execute(conn)
}

/// Of `learner_ids`, those whose snapshot holds on `day` (the nightly pass leaves them be).
pub fn holding_on(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
    day: NaiveDate,
) -> QueryResult<Vec<LearnerId>> {
    progress_snapshots::table
        .filter(progress_snapshots::learner_id.eq_any(learner_ids))
        .filter(progress_snapshots::valid_from.le(day))
        .filter(
            progress_snapshots::valid_until
                .is_null()
                .or(progress_snapshots::valid_until.gt(day)),
        )
        .select(progress_snapshots::learner_id)
        .load(conn)
}
