//! The records an institution's yearly targets are counted from (policy 四): training and
//! assessment delivered, each year's teachers with their qualifications, teacher development.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{teacher_development, teacher_years, training_deliveries};
use super::DbConnection;
use crate::domain::{
    DeliveryKind, DevelopmentKind, InstitutionId, SkillLevel, TeacherDevelopmentId, TeacherYearId,
    TrainingDeliveryId, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = training_deliveries)]
pub struct DeliveryRow {
    pub id: TrainingDeliveryId,
    pub institution_id: InstitutionId,
    pub delivered_on: NaiveDate,
    pub kind: DeliveryKind,
    pub occupation_code: String,
    pub level: SkillLevel,
    pub person_times: i32,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = training_deliveries, treat_none_as_default_value = false)]
pub struct NewDelivery<'a> {
    pub institution_id: InstitutionId,
    pub delivered_on: NaiveDate,
    pub kind: DeliveryKind,
    pub occupation_code: &'a str,
    pub level: SkillLevel,
    pub person_times: i32,
    pub note: Option<&'a str>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = teacher_years)]
pub struct TeacherYearRow {
    pub id: TeacherYearId,
    pub institution_id: InstitutionId,
    pub year: i32,
    pub staff_number: String,
    pub name: String,
    pub dual_qualified: bool,
    pub integrated: bool,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = teacher_years, treat_none_as_default_value = false)]
pub struct NewTeacherYear<'a> {
    pub institution_id: InstitutionId,
    pub year: i32,
    pub staff_number: &'a str,
    pub name: &'a str,
    pub dual_qualified: bool,
    pub integrated: bool,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = teacher_development)]
pub struct DevelopmentRow {
    pub id: TeacherDevelopmentId,
    pub institution_id: InstitutionId,
    pub held_on: NaiveDate,
    pub kind: DevelopmentKind,
    pub person_times: i32,
    pub description: String,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = teacher_development, treat_none_as_default_value = false)]
pub struct NewDevelopment<'a> {
    pub institution_id: InstitutionId,
    pub held_on: NaiveDate,
    pub kind: DevelopmentKind,
    pub person_times: i32,
    pub description: &'a str,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn insert_delivery(conn: &mut DbConnection, new: &NewDelivery<'_>) -> QueryResult<DeliveryRow> {
    crate::each_backend!(conn, c => diesel::insert_into(training_deliveries::table)
        .values(new)
        .returning(DeliveryRow::as_returning())
        .get_result(c))
}

pub fn insert_teacher_year(
    conn: &mut DbConnection,
    new: &NewTeacherYear<'_>,
) -> QueryResult<TeacherYearRow> {
    crate::each_backend!(conn, c => diesel::insert_into(teacher_years::table)
        .values(new)
        .returning(TeacherYearRow::as_returning())
        .get_result(c))
}

pub fn insert_development(
    conn: &mut DbConnection,
    new: &NewDevelopment<'_>,
) -> QueryResult<DevelopmentRow> {
    crate::each_backend!(conn, c => diesel::insert_into(teacher_development::table)
        .values(new)
        .returning(DevelopmentRow::as_returning())
        .get_result(c))
}

/// Deliveries dated within `from..=until`, in date order.
pub fn deliveries(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<DeliveryRow>> {
    training_deliveries::table
        .filter(training_deliveries::institution_id.eq(institution_id))
        .filter(training_deliveries::delivered_on.between(from, until))
        .order((
            training_deliveries::delivered_on.asc(),
            training_deliveries::id.asc(),
        ))
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// The teachers recorded for the years `from..=until`.
pub fn teachers(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    from: i32,
    until: i32,
) -> QueryResult<Vec<TeacherYearRow>> {
    teacher_years::table
        .filter(teacher_years::institution_id.eq(institution_id))
        .filter(teacher_years::year.between(from, until))
        .order((teacher_years::year.asc(), teacher_years::staff_number.asc()))
        .select(TeacherYearRow::as_select())
        .load(conn)
}

/// Development activities held within `from..=until`, in date order.
pub fn development(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<DevelopmentRow>> {
    teacher_development::table
        .filter(teacher_development::institution_id.eq(institution_id))
        .filter(teacher_development::held_on.between(from, until))
        .order((
            teacher_development::held_on.asc(),
            teacher_development::id.asc(),
        ))
        .select(DevelopmentRow::as_select())
        .load(conn)
}
