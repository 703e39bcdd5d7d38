//! Certificates and the decisions taken on them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{certificate_decisions, certificates};
use super::DbConnection;
use crate::domain::{
    CertificateId, CertificateKind, CertificateStatus, Decision, LearnerId, NumberFormat,
    SkillLevel, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = certificates)]
pub struct CertificateRow {
    pub id: CertificateId,
    pub learner_id: LearnerId,
    pub number: String,
    pub number_format: NumberFormat,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub occupation_code: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub status: CertificateStatus,
    pub warnings: String,
    pub submitted_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = certificates, treat_none_as_default_value = false)]
pub struct NewCertificate {
    pub learner_id: LearnerId,
    pub number: String,
    pub number_format: NumberFormat,
    pub kind: CertificateKind,
    pub level: SkillLevel,
    pub occupation_code: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub status: CertificateStatus,
    pub warnings: String,
    pub submitted_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = certificate_decisions)]
pub struct DecisionRow {
    pub id: i64,
    pub certificate_id: CertificateId,
    pub decision: Decision,
    pub from_status: CertificateStatus,
    pub to_status: CertificateStatus,
    pub reason: String,
    pub decided_by: UserId,
    pub decided_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewCertificate) -> QueryResult<CertificateRow> {
    crate::each_backend!(conn, c => diesel::insert_into(certificates::table)
        .values(new)
        .returning(CertificateRow::as_returning())
        .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: CertificateId) -> QueryResult<Option<CertificateRow>> {
    certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_number(
    conn: &mut DbConnection,
    number: &str,
) -> QueryResult<Option<CertificateRow>> {
    certificates::table
        .filter(certificates::number.eq(number))
        .select(CertificateRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn of_learner(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Vec<CertificateRow>> {
    certificates::table
        .filter(certificates::learner_id.eq(learner_id))
        .order((certificates::issued_on.asc(), certificates::id.asc()))
        .select(CertificateRow::as_select())
        .load(conn)
}

pub fn list(
    conn: &mut DbConnection,
    status: Option<CertificateStatus>,
    learner_id: Option<LearnerId>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CertificateRow>> {
    let mut query = certificates::table
        .select(CertificateRow::as_select())
        .order(certificates::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(certificates::status.eq(status));
    }
    if let Some(learner_id) = learner_id {
        query = query.filter(certificates::learner_id.eq(learner_id));
    }
    if let Some(after) = after_id {
        query = query.filter(certificates::id.gt(after));
    }
    query.load(conn)
}

/// Moves a certificate from `from` to `to` if it is still in `from`; false when it was not
/// (another evaluator decided first).
pub fn transition(
    conn: &mut DbConnection,
    id: CertificateId,
    from: &str,
    to: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        certificates::table
            .find(id)
            .filter(certificates::status.eq(from)),
    )
    .set((certificates::status.eq(to), certificates::updated_at.eq(at)))
    .execute(conn)?;
    Ok(updated == 1)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = certificate_decisions)]
pub struct NewDecision<'a> {
    pub certificate_id: CertificateId,
    pub decision: Decision,
    pub from_status: CertificateStatus,
    pub to_status: CertificateStatus,
    pub reason: &'a str,
    pub decided_by: UserId,
    pub decided_at: NaiveDateTime,
}

pub fn record_decision(conn: &mut DbConnection, decision: &NewDecision<'_>) -> QueryResult<usize> {
    diesel::insert_into(certificate_decisions::table)
        .values(decision)
        .execute(conn)
}

/// The certificates of many learners (for batch recomputation).
pub fn of_learners(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<CertificateRow>> {
    crate::load_by_keys!(
        conn,
        certificates::table
            .order((
                certificates::learner_id,
                certificates::issued_on,
                certificates::id,
            ))
            .select(CertificateRow::as_select()),
        certificates::learner_id,
        learner_ids
    )
}

/// The decisions on many certificates, oldest first.
pub fn decisions_of_many(
    conn: &mut DbConnection,
    certificate_ids: &[CertificateId],
) -> QueryResult<Vec<DecisionRow>> {
    crate::load_by_keys!(
        conn,
        certificate_decisions::table
            .order(certificate_decisions::id.asc())
            .select(DecisionRow::as_select()),
        certificate_decisions::certificate_id,
        certificate_ids
    )
}
