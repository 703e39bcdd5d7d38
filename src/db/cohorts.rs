//! Cohorts: one intake of a program, the unit a college imports its learners by.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{cohorts, programs};
use super::DbConnection;
use crate::domain::{CohortId, InstitutionId, ProgramId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cohorts)]
pub struct CohortRow {
    pub id: CohortId,
    pub program_id: ProgramId,
    pub name: String,
    pub intake_year: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cohorts)]
pub struct NewCohort<'a> {
    pub program_id: ProgramId,
    pub name: &'a str,
    pub intake_year: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewCohort<'_>) -> QueryResult<CohortRow> {
    crate::each_backend!(conn, c => diesel::insert_into(cohorts::table)
        .values(new)
        .returning(CohortRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: CohortId) -> QueryResult<Option<CohortRow>> {
    cohorts::table
        .find(id)
        .select(CohortRow::as_select())
        .get_result(conn)
        .optional()
}

/// Cohorts, optionally of one institution's programs or of one program.
pub fn list(
    conn: &mut DbConnection,
    institution_id: Option<InstitutionId>,
    program_id: Option<ProgramId>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CohortRow>> {
    let mut query = cohorts::table
        .select(CohortRow::as_select())
        .order(cohorts::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(institution_id) = institution_id {
        query = query.filter(
            cohorts::program_id.eq_any(
                programs::table
                    .filter(programs::institution_id.eq(institution_id))
                    .select(programs::id),
            ),
        );
    }
    if let Some(program_id) = program_id {
        query = query.filter(cohorts::program_id.eq(program_id));
    }
    if let Some(after) = after_id {
        query = query.filter(cohorts::id.gt(after));
    }
    query.load(conn)
}
