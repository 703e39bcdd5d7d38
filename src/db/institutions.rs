//! Institutions, their 新型技师学院 designation periods, and their programs.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{designations, institutions, program_related_occupations, programs};
use super::DbConnection;
use crate::domain::{DesignationId, InstitutionId, InstitutionKind, ProgramId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = institutions)]
pub struct InstitutionRow {
    pub id: InstitutionId,
    pub name: String,
    pub kind: InstitutionKind,
    pub assessed: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = institutions)]
pub struct NewInstitution<'a> {
    pub name: &'a str,
    pub kind: InstitutionKind,
    pub assessed: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = designations)]
pub struct DesignationRow {
    pub id: DesignationId,
    pub institution_id: InstitutionId,
    pub batch: String,
    pub designated_from: NaiveDate,
    pub designated_until: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = designations, treat_none_as_default_value = false)]
pub struct NewDesignation<'a> {
    pub institution_id: InstitutionId,
    pub batch: &'a str,
    pub designated_from: NaiveDate,
    pub designated_until: Option<NaiveDate>,
    pub end_reason: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct ProgramRow {
    pub id: ProgramId,
    pub institution_id: InstitutionId,
    pub name: String,
    pub occupation_code: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = programs)]
pub struct NewProgram<'a> {
    pub institution_id: InstitutionId,
    pub name: &'a str,
    pub occupation_code: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewInstitution<'_>) -> QueryResult<InstitutionRow> {
    crate::each_backend!(conn, c => diesel::insert_into(institutions::table)
        .values(new)
        .returning(InstitutionRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: InstitutionId) -> QueryResult<Option<InstitutionRow>> {
    institutions::table
        .find(id)
        .select(InstitutionRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    only: Option<InstitutionId>,
    kind: Option<InstitutionKind>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<InstitutionRow>> {
    let mut query = institutions::table
        .select(InstitutionRow::as_select())
        .order(institutions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(institutions::id.eq(id));
    }
    if let Some(kind) = kind {
        query = query.filter(institutions::kind.eq(kind));
    }
    if let Some(after) = after_id {
        query = query.filter(institutions::id.gt(after));
    }
    query.load(conn)
}

/// Changes of an institution; `None` fields stay as they are.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = institutions)]
pub struct InstitutionChanges<'a> {
    pub name: Option<&'a str>,
    pub assessed: Option<bool>,
    pub updated_at: NaiveDateTime,
}

pub fn update(
    conn: &mut DbConnection,
    id: InstitutionId,
    changes: &InstitutionChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(institutions::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn designations_of(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
) -> QueryResult<Vec<DesignationRow>> {
    designations::table
        .filter(designations::institution_id.eq(institution_id))
        .order((designations::designated_from.asc(), designations::id.asc()))
        .select(DesignationRow::as_select())
        .load(conn)
}

pub fn insert_designation(
    conn: &mut DbConnection,
    new: &NewDesignation<'_>,
) -> QueryResult<DesignationRow> {
    crate::each_backend!(conn, c => diesel::insert_into(designations::table)
        .values(new)
        .returning(DesignationRow::as_returning())
        .get_result(c))
}

pub fn end_designation(
    conn: &mut DbConnection,
    id: DesignationId,
    until: NaiveDate,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(designations::table.find(id))
        .set((
            designations::designated_until.eq(Some(until)),
            designations::end_reason.eq(Some(reason)),
            designations::updated_at.eq(at),
        ))
        .execute(conn)
}

pub fn insert_program(
    conn: &mut DbConnection,
    new: &NewProgram<'_>,
    related: &[String],
) -> QueryResult<ProgramRow> {
    let row = crate::each_backend!(conn, c => diesel::insert_into(programs::table)
        .values(new)
        .returning(ProgramRow::as_returning())
        .get_result(c))?;
    let links: Vec<_> = related
        .iter()
        .map(|code| {
            (
                program_related_occupations::program_id.eq(row.id),
                program_related_occupations::occupation_code.eq(code),
            )
        })
        .collect();
    if !links.is_empty() {
        crate::each_backend!(conn, c => diesel::insert_into(program_related_occupations::table)
            .values(&links)
            .execute(c))?;
    }
    Ok(row)
}

pub fn find_program(conn: &mut DbConnection, id: ProgramId) -> QueryResult<Option<ProgramRow>> {
    programs::table
        .find(id)
        .select(ProgramRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn programs_of(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
) -> QueryResult<Vec<ProgramRow>> {
    programs::table
        .filter(programs::institution_id.eq(institution_id))
        .order(programs::id.asc())
        .select(ProgramRow::as_select())
        .load(conn)
}

/// Related occupation codes of each of `program_ids`, as (program_id, code) pairs.
pub fn related_occupations(
    conn: &mut DbConnection,
    program_ids: &[ProgramId],
) -> QueryResult<Vec<(ProgramId, String)>> {
    crate::load_by_keys!(
        conn,
        program_related_occupations::table
            .order((
                program_related_occupations::program_id,
                program_related_occupations::occupation_code,
            ))
            .select((
                program_related_occupations::program_id,
                program_related_occupations::occupation_code,
            )),
        program_related_occupations::program_id,
        program_ids
    )
}

/// (id, name) of the first `limit` institutions of a kind, by name.
pub fn names_of_kind(
    conn: &mut DbConnection,
    kind: InstitutionKind,
    limit: i64,
) -> QueryResult<Vec<(InstitutionId, String)>> {
    institutions::table
        .filter(institutions::kind.eq(kind))
        .order(institutions::name.asc())
        .limit(limit)
        .select((institutions::id, institutions::name))
        .load(conn)
}

pub fn find_many(
    conn: &mut DbConnection,
    ids: &[InstitutionId],
) -> QueryResult<Vec<InstitutionRow>> {
    crate::load_by_keys!(
        conn,
        institutions::table.select(InstitutionRow::as_select()),
        institutions::id,
        ids
    )
}

pub fn find_programs(conn: &mut DbConnection, ids: &[ProgramId]) -> QueryResult<Vec<ProgramRow>> {
    crate::load_by_keys!(
        conn,
        programs::table.select(ProgramRow::as_select()),
        programs::id,
        ids
    )
}

pub fn designations_of_many(
    conn: &mut DbConnection,
    institution_ids: &[InstitutionId],
) -> QueryResult<Vec<DesignationRow>> {
    crate::load_by_keys!(
        conn,
        designations::table
            .order((
                designations::institution_id,
                designations::designated_from,
                designations::id,
            ))
            .select(DesignationRow::as_select()),
        designations::institution_id,
        institution_ids
    )
}

/// Every institution, by id.
pub fn find_all(conn: &mut DbConnection) -> QueryResult<Vec<InstitutionRow>> {
    institutions::table
        .order(institutions::id.asc())
        .select(InstitutionRow::as_select())
        .load(conn)
}
