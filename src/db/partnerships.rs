//! An institution's partnerships with enterprises (for a college) or colleges (for an
//! enterprise): the 稳定合作关系 of the annex's conditions 一.2 / 二.2.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::partnerships;
use super::DbConnection;
use crate::domain::{InstitutionId, PartnerKind, PartnershipId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partnerships)]
pub struct PartnershipRow {
    pub id: PartnershipId,
    pub institution_id: InstitutionId,
    pub partner_name: String,
    pub partner_kind: PartnerKind,
    pub partner_institution_id: Option<InstitutionId>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub agreement_ref: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PartnershipRow {
    /// Who the partner is: the institution when known, else its name as written (spaces and
    /// case aside).
    pub fn partner_key(&self) -> String {
        match self.partner_institution_id {
            Some(id) => format!("#{id}"),
            None => self
                .partner_name
                .split_whitespace()
                .collect::<String>()
                .to_lowercase(),
        }
    }

    /// Whether it was in force on `day` and had lasted `months` by then: a stable partnership.
    pub fn stable_on(&self, day: NaiveDate, months: u32) -> bool {
        self.ended_on.is_none_or(|end| end >= day)
            && crate::rules::dates::add_months(self.started_on, months) <= day
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = partnerships, treat_none_as_default_value = false)]
pub struct NewPartnership<'a> {
    pub institution_id: InstitutionId,
    pub partner_name: &'a str,
    pub partner_kind: PartnerKind,
    pub partner_institution_id: Option<InstitutionId>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub agreement_ref: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewPartnership<'_>) -> QueryResult<PartnershipRow> {
    crate::each_backend!(conn, c => diesel::insert_into(partnerships::table)
        .values(new)
        .returning(PartnershipRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: PartnershipId) -> QueryResult<Option<PartnershipRow>> {
    partnerships::table
        .find(id)
        .select(PartnershipRow::as_select())
        .get_result(conn)
        .optional()
}

/// An institution's partnerships, earliest first.
pub fn of_institution(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
) -> QueryResult<Vec<PartnershipRow>> {
    partnerships::table
        .filter(partnerships::institution_id.eq(institution_id))
        .order((partnerships::started_on.asc(), partnerships::id.asc()))
        .select(PartnershipRow::as_select())
        .load(conn)
}

pub fn end(
    conn: &mut DbConnection,
    id: PartnershipId,
    ended_on: NaiveDate,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(partnerships::table.find(id))
        .set((
            partnerships::ended_on.eq(Some(ended_on)),
            partnerships::updated_at.eq(at),
        ))
        .execute(conn)
}
