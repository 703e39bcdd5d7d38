//! A learner's enrollments, employment spells and awards.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{awards, employments, enrollments};
use super::DbConnection;
use crate::domain::{
    AwardId, AwardKind, ClassType, CohortId, EmploymentId, EnrollmentId, EnrollmentStatus,
    InstitutionId, LearnerId, ProgramId,
};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = enrollments)]
pub struct EnrollmentRow {
    pub id: EnrollmentId,
    pub learner_id: LearnerId,
    pub program_id: ProgramId,
    pub cohort_id: Option<CohortId>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub full_time: bool,
    pub status: EnrollmentStatus,
    pub class_type: ClassType,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollments, treat_none_as_default_value = false)]
pub struct NewEnrollment {
    pub learner_id: LearnerId,
    pub program_id: ProgramId,
    pub cohort_id: Option<CohortId>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub full_time: bool,
    pub status: EnrollmentStatus,
    pub class_type: ClassType,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = employments)]
pub struct EmploymentRow {
    pub id: EmploymentId,
    pub learner_id: LearnerId,
    pub employer_name: String,
    pub employer_institution_id: Option<InstitutionId>,
    pub occupation_code: String,
    pub post_title: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub in_shanghai: bool,
    pub frontline: bool,
    pub dedicated_trainer: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = employments, treat_none_as_default_value = false)]
pub struct NewEmployment {
    pub learner_id: LearnerId,
    pub employer_name: String,
    pub employer_institution_id: Option<InstitutionId>,
    pub occupation_code: String,
    pub post_title: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub in_shanghai: bool,
    pub frontline: bool,
    pub dedicated_trainer: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = awards)]
pub struct AwardRow {
    pub id: AwardId,
    pub learner_id: LearnerId,
    pub kind: AwardKind,
    pub title: String,
    pub awarded_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = awards)]
pub struct NewAward {
    pub learner_id: LearnerId,
    pub kind: AwardKind,
    pub title: String,
    pub awarded_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

pub fn insert_enrollment(
    conn: &mut DbConnection,
    new: &NewEnrollment,
) -> QueryResult<EnrollmentRow> {
    crate::each_backend!(conn, c => diesel::insert_into(enrollments::table)
        .values(new)
        .returning(EnrollmentRow::as_returning())
        .get_result(c))
}

pub fn find_enrollment(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    id: EnrollmentId,
) -> QueryResult<Option<EnrollmentRow>> {
    enrollments::table
        .find(id)
        .filter(enrollments::learner_id.eq(learner_id))
        .select(EnrollmentRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn enrollments_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .filter(enrollments::learner_id.eq(learner_id))
        .order((enrollments::start_date.asc(), enrollments::id.asc()))
        .select(EnrollmentRow::as_select())
        .load(conn)
}

pub fn set_enrollment_status(
    conn: &mut DbConnection,
    id: EnrollmentId,
    status: EnrollmentStatus,
    end_date: NaiveDate,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::status.eq(status),
            enrollments::end_date.eq(end_date),
            enrollments::updated_at.eq(at),
        ))
        .execute(conn)
}

pub fn insert_employment(
    conn: &mut DbConnection,
    new: &NewEmployment,
) -> QueryResult<EmploymentRow> {
    crate::each_backend!(conn, c => diesel::insert_into(employments::table)
        .values(new)
        .returning(EmploymentRow::as_returning())
        .get_result(c))
}

pub fn find_employment(
    conn: &mut DbConnection,
    learner_id: LearnerId,
    id: EmploymentId,
) -> QueryResult<Option<EmploymentRow>> {
    employments::table
        .find(id)
        .filter(employments::learner_id.eq(learner_id))
        .select(EmploymentRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn employments_of(
    conn: &mut DbConnection,
    learner_id: LearnerId,
) -> QueryResult<Vec<EmploymentRow>> {
    employments::table
        .filter(employments::learner_id.eq(learner_id))
        .order((employments::start_date.asc(), employments::id.asc()))
        .select(EmploymentRow::as_select())
        .load(conn)
}

pub fn end_employment(
    conn: &mut DbConnection,
    id: EmploymentId,
    end_date: NaiveDate,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(employments::table.find(id))
        .set((
            employments::end_date.eq(Some(end_date)),
            employments::updated_at.eq(at),
        ))
        .execute(conn)
}

pub fn insert_award(conn: &mut DbConnection, new: &NewAward) -> QueryResult<AwardRow> {
    crate::each_backend!(conn, c => diesel::insert_into(awards::table)
        .values(new)
        .returning(AwardRow::as_returning())
        .get_result(c))
}

pub fn awards_of(conn: &mut DbConnection, learner_id: LearnerId) -> QueryResult<Vec<AwardRow>> {
    awards::table
        .filter(awards::learner_id.eq(learner_id))
        .order((awards::awarded_on.asc(), awards::id.asc()))
        .select(AwardRow::as_select())
        .load(conn)
}

/// The learners with an enrollment in `cohort_id` created at `at` (an import stamps all it
/// creates with one time), once each.
pub fn learners_enrolled_at(
    conn: &mut DbConnection,
    cohort_id: CohortId,
    at: NaiveDateTime,
) -> QueryResult<Vec<LearnerId>> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::created_at.eq(at))
        .select(enrollments::learner_id)
        .distinct()
        .order(enrollments::learner_id)
        .load(conn)
}

/// (learner_id, start_date) of the enrollments in `program_id` of any of `learner_ids`.
pub fn existing_enrollments(
    conn: &mut DbConnection,
    program_id: ProgramId,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<(LearnerId, NaiveDate)>> {
    if learner_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Filter by learner only in SQL so the (learner, program, start) index serves the lookup;
    // within one import the planner's statistics do not yet know the program's rows are many.
    let rows: Vec<(LearnerId, ProgramId, NaiveDate)> = enrollments::table
        .filter(enrollments::learner_id.eq_any(learner_ids))
        .select((
            enrollments::learner_id,
            enrollments::program_id,
            enrollments::start_date,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, program, _)| *program == program_id)
        .map(|(learner, _, start)| (learner, start))
        .collect())
}

/// Inserts many enrollments (`COPY` on PostgreSQL).
pub fn insert_enrollments(conn: &mut DbConnection, rows: &[NewEnrollment]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    crate::copy_or_insert!(conn, enrollments::table, rows)
}

pub fn enrollments_of_learners(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<EnrollmentRow>> {
    crate::load_by_keys!(
        conn,
        enrollments::table
            .order((
                enrollments::learner_id,
                enrollments::start_date,
                enrollments::id,
            ))
            .select(EnrollmentRow::as_select()),
        enrollments::learner_id,
        learner_ids
    )
}

pub fn employments_of_learners(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<EmploymentRow>> {
    crate::load_by_keys!(
        conn,
        employments::table
            .order((
                employments::learner_id,
                employments::start_date,
                employments::id,
            ))
            .select(EmploymentRow::as_select()),
        employments::learner_id,
        learner_ids
    )
}

pub fn awards_of_learners(
    conn: &mut DbConnection,
    learner_ids: &[LearnerId],
) -> QueryResult<Vec<AwardRow>> {
    crate::load_by_keys!(
        conn,
        awards::table
            .order((awards::learner_id, awards::awarded_on, awards::id))
            .select(AwardRow::as_select()),
        awards::learner_id,
        learner_ids
    )
}

/// Corrected fields of an enrollment (`None`: unchanged).
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = enrollments)]
pub struct EnrollmentFix {
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub full_time: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn fix_enrollment(
    conn: &mut DbConnection,
    id: EnrollmentId,
    fix: &EnrollmentFix,
) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(id))
        .set(fix)
        .execute(conn)
}

/// Corrected fields of an employment spell (`None`: unchanged).
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = employments)]
pub struct EmploymentFix {
    pub occupation_code: Option<String>,
    pub post_title: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<Option<NaiveDate>>,
    pub in_shanghai: Option<bool>,
    pub frontline: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn fix_employment(
    conn: &mut DbConnection,
    id: EmploymentId,
    fix: &EmploymentFix,
) -> QueryResult<usize> {
    diesel::update(employments::table.find(id))
        .set(fix)
        .execute(conn)
}
