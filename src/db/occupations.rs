//! The occupation catalog, keyed by code.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::occupations;
use super::DbConnection;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = occupations)]
pub struct OccupationRow {
    pub code: String,
    pub name: String,
    pub high_skill_catalog: bool,
    pub technician_catalog: bool,
    pub priority_industry: bool,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OccupationRow {
    /// True when the catalog facts (not the timestamps) are the same.
    pub fn same_facts(&self, other: &OccupationRow) -> bool {
        self.name == other.name
            && self.high_skill_catalog == other.high_skill_catalog
            && self.technician_catalog == other.technician_catalog
            && self.priority_industry == other.priority_industry
            && self.source == other.source
    }
}

pub fn find(conn: &mut DbConnection, code: &str) -> QueryResult<Option<OccupationRow>> {
    occupations::table
        .find(code)
        .select(OccupationRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, row: &OccupationRow) -> QueryResult<usize> {
    diesel::insert_into(occupations::table)
        .values(row)
        .execute(conn)
}

/// Updates the catalog facts, keeping `created_at`.
pub fn update_facts(conn: &mut DbConnection, row: &OccupationRow) -> QueryResult<usize> {
    diesel::update(occupations::table.find(&row.code))
        .set((
            occupations::name.eq(&row.name),
            occupations::high_skill_catalog.eq(row.high_skill_catalog),
            occupations::technician_catalog.eq(row.technician_catalog),
            occupations::priority_industry.eq(row.priority_industry),
            occupations::source.eq(&row.source),
            occupations::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
}

/// Which of `codes` exist.
pub fn existing(conn: &mut DbConnection, codes: &[String]) -> QueryResult<Vec<String>> {
    occupations::table
        .filter(occupations::code.eq_any(codes))
        .select(occupations::code)
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct OccupationFilter {
    pub code_prefix: Option<String>,
    pub name_contains: Option<String>,
    pub technician_catalog: Option<bool>,
    pub high_skill_catalog: Option<bool>,
    pub priority_industry: Option<bool>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &OccupationFilter,
    after_code: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OccupationRow>> {
    let mut query = occupations::table
        .select(OccupationRow::as_select())
        .order(occupations::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_code {
        query = query.filter(occupations::code.gt(after.to_owned()));
    }
    if let Some(prefix) = &filter.code_prefix {
        query = query.filter(
            occupations::code
                .like(format!("{}%", super::escape_like(prefix)))
                .escape('\\'),
        );
    }
    if let Some(text) = &filter.name_contains {
        query = query.filter(
            occupations::name
                .like(format!("%{}%", super::escape_like(text)))
                .escape('\\'),
        );
    }
    if let Some(flag) = filter.technician_catalog {
        query = query.filter(occupations::technician_catalog.eq(flag));
    }
    if let Some(flag) = filter.high_skill_catalog {
        query = query.filter(occupations::high_skill_catalog.eq(flag));
    }
    if let Some(flag) = filter.priority_industry {
        query = query.filter(occupations::priority_industry.eq(flag));
    }
    query.load(conn)
}

/// The catalog rows of `codes` (those that exist).
pub fn find_many(conn: &mut DbConnection, codes: &[String]) -> QueryResult<Vec<OccupationRow>> {
    crate::load_by_keys!(
        conn,
        occupations::table.select(OccupationRow::as_select()),
        occupations::code,
        codes
    )
}
