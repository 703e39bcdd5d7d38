//! Learners' calendar feeds and the events each feed has shown.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{calendar_entries, calendar_feeds};
use super::DbConnection;
use crate::domain::{CalendarMoment, LearnerId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = calendar_feeds, treat_none_as_default_value = false)]
pub struct FeedRow {
    pub learner_id: LearnerId,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_fetched_at: Option<NaiveDateTime>,
}

pub fn feed_of(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<Option<FeedRow>> {
    calendar_feeds::table
        .find(learner_id)
        .select(FeedRow::as_select())
        .get_result(conn)
        .optional()
}

/// The learner whose feed has this token hash.
pub fn learner_of_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<LearnerId>> {
    calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select(calendar_feeds::learner_id)
        .get_result(conn)
        .optional()
}

/// Stores the learner's feed with a new token, replacing any earlier one (in one statement: two
/// at once leave one of them).
pub fn replace_feed(conn: &mut DbConnection, row: &FeedRow) -> QueryResult<()> {
    crate::each_backend!(conn, c => diesel::insert_into(calendar_feeds::table)
        .values(row)
        .on_conflict(calendar_feeds::learner_id)
        .do_update()
        .set((
            calendar_feeds::token_hash.eq(&row.token_hash),
            calendar_feeds::created_at.eq(row.created_at),
            calendar_feeds::last_fetched_at.eq(row.last_fetched_at),
        ))
        .execute(c))?;
    Ok(())
}

pub fn delete_feed(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<usize> {
    diesel::delete(calendar_feeds::table.find(learner_id)).execute(conn)
}

/// Records a fetch; on PostgreSQL also locks the feed's row, so that two fetches at once bring
/// the entries up to date one after the other.
pub fn fetched(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(calendar_feeds::table.find(learner_id))
        .set(calendar_feeds::last_fetched_at.eq(Some(at)))
        .execute(conn)
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = calendar_entries, treat_none_as_default_value = false)]
pub struct EntryRow {
    pub learner_id: LearnerId,
    pub milestone_key: String,
    pub moment: CalendarMoment,
    pub on_date: NaiveDate,
    pub summary: String,
    pub description: String,
    /// The alarms' days before the date, as a JSON list.
    pub alarm_days: String,
    pub sequence: i32,
    pub cancelled: bool,
    pub updated_at: NaiveDateTime,
}

pub fn entries_of(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<Vec<EntryRow>> {
    calendar_entries::table
        .filter(calendar_entries::learner_id.eq(learner_id))
        .order((
            calendar_entries::on_date,
            calendar_entries::milestone_key,
            calendar_entries::moment,
        ))
        .select(EntryRow::as_select())
        .load(conn)
}

/// Stores each row in place of the learner's entry with its key and moment.
pub fn replace_entries(conn: &mut DbConnection, rows: &[EntryRow]) -> QueryResult<()> {
    for row in rows {
        diesel::delete(calendar_entries::table.find((
            row.learner_id,
            &row.milestone_key,
            row.moment,
        )))
        .execute(conn)?;
    }
    for chunk in rows.chunks(500) {
        crate::each_backend!(conn, c => diesel::insert_into(calendar_entries::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Forgets every event the learner's feed showed.
pub fn delete_entries(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<usize> {
    diesel::delete(calendar_entries::table.filter(calendar_entries::learner_id.eq(learner_id)))
        .execute(conn)
}

/// Removes the learner's entries dated before `before` (long past: no client needs them).
pub fn delete_entries_before(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    before: NaiveDate,
) -> QueryResult<usize> {
    diesel::delete(
        calendar_entries::table
            .filter(calendar_entries::learner_id.eq(learner_id))
            .filter(calendar_entries::on_date.lt(before)),
    )
    .execute(conn)
}
