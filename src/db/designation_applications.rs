//! Applications to become a 新型技师学院, their projects and the steps taken on them (policy 六).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    designation_application_projects, designation_applications, designation_steps,
};
use super::DbConnection;
use crate::domain::{
    ApplicationState, ApplicationStep, DesignationApplicationId, DesignationId, DesignationStepId,
    InstitutionId, ReviewBody, StepDecision, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = designation_applications)]
pub struct ApplicationRow {
    pub id: DesignationApplicationId,
    pub institution_id: InstitutionId,
    pub state: ApplicationState,
    #[diesel(embed)]
    pub contents: ApplicationContents,
    pub submitted_on: Option<NaiveDate>,
    pub notice_from: Option<NaiveDate>,
    pub notice_until: Option<NaiveDate>,
    pub rectification_due: Option<NaiveDate>,
    pub designation_id: Option<DesignationId>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What the institution states in its application: written when it is created, replaced while
/// it is a draft.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = designation_applications)]
pub struct ApplicationContents {
    pub run_by_industry: bool,
    pub goals: String,
    pub industry_need: String,
    pub partnership_evidence: String,
    pub separate_departments: bool,
    pub organisation_evidence: String,
    pub facilities_evidence: String,
    pub yearly_training_volume: i32,
    pub volume_evidence: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = designation_applications, treat_none_as_default_value = false)]
pub struct NewApplication {
    pub institution_id: InstitutionId,
    pub state: ApplicationState,
    #[diesel(embed)]
    pub contents: ApplicationContents,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a step changes on the application (`None`: unchanged).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = designation_applications)]
pub struct Progress {
    pub state: Option<ApplicationState>,
    pub submitted_on: Option<NaiveDate>,
    pub notice_from: Option<NaiveDate>,
    pub notice_until: Option<NaiveDate>,
    /// `Some(None)` clears the deadline.
    pub rectification_due: Option<Option<NaiveDate>>,
    pub designation_id: Option<DesignationId>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = designation_application_projects, treat_none_as_default_value = false)]
pub struct ProjectRow {
    pub application_id: DesignationApplicationId,
    pub occupation_code: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = designation_steps)]
pub struct StepRow {
    pub id: DesignationStepId,
    pub application_id: DesignationApplicationId,
    pub step: ApplicationStep,
    pub from_state: ApplicationState,
    pub to_state: ApplicationState,
    pub body: Option<ReviewBody>,
    pub body_name: Option<String>,
    pub decision: Option<StepDecision>,
    pub reason: Option<String>,
    pub document_ref: Option<String>,
    pub decided_on: NaiveDate,
    pub details: String,
    pub actor: Option<UserId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = designation_steps, treat_none_as_default_value = false)]
pub struct NewStep<'a> {
    pub application_id: DesignationApplicationId,
    pub step: ApplicationStep,
    pub from_state: ApplicationState,
    pub to_state: ApplicationState,
    pub body: Option<ReviewBody>,
    pub body_name: Option<&'a str>,
    pub decision: Option<StepDecision>,
    pub reason: Option<&'a str>,
    pub document_ref: Option<&'a str>,
    pub decided_on: NaiveDate,
    pub details: &'a str,
    pub actor: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewApplication) -> QueryResult<ApplicationRow> {
    crate::each_backend!(conn, c => diesel::insert_into(designation_applications::table)
        .values(new)
        .returning(ApplicationRow::as_returning())
        .get_result(c))
}

pub fn find(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
) -> QueryResult<Option<ApplicationRow>> {
    designation_applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .get_result(conn)
        .optional()
}

/// The application managing a designation period, if one does.
pub fn managing(
    conn: &mut DbConnection,
    designation_id: DesignationId,
) -> QueryResult<Option<DesignationApplicationId>> {
    designation_applications::table
        .filter(designation_applications::designation_id.eq(designation_id))
        .select(designation_applications::id)
        .get_result(conn)
        .optional()
}

/// An institution's applications, newest first.
pub fn of_institution(
    conn: &mut DbConnection,
    institution_id: InstitutionId,
) -> QueryResult<Vec<ApplicationRow>> {
    designation_applications::table
        .filter(designation_applications::institution_id.eq(institution_id))
        .order(designation_applications::id.desc())
        .select(ApplicationRow::as_select())
        .load(conn)
}

pub fn replace_contents(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
    contents: &ApplicationContents,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(designation_applications::table.find(id))
        .set((contents, designation_applications::updated_at.eq(at)))
        .execute(conn)
}

pub fn record_progress(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
    progress: &Progress,
) -> QueryResult<usize> {
    diesel::update(designation_applications::table.find(id))
        .set(progress)
        .execute(conn)
}

pub fn replace_projects(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
    projects: &[ProjectRow],
) -> QueryResult<()> {
    diesel::delete(
        designation_application_projects::table
            .filter(designation_application_projects::application_id.eq(id)),
    )
    .execute(conn)?;
    crate::each_backend!(conn, c => diesel::insert_into(designation_application_projects::table)
        .values(projects)
        .execute(c))?;
    Ok(())
}

pub fn projects_of(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
) -> QueryResult<Vec<ProjectRow>> {
    designation_application_projects::table
        .filter(designation_application_projects::application_id.eq(id))
        .order(designation_application_projects::occupation_code.asc())
        .select(ProjectRow::as_select())
        .load(conn)
}

pub fn insert_step(conn: &mut DbConnection, new: &NewStep<'_>) -> QueryResult<StepRow> {
    crate::each_backend!(conn, c => diesel::insert_into(designation_steps::table)
        .values(new)
        .returning(StepRow::as_returning())
        .get_result(c))
}

/// The steps taken on an application, in order.
pub fn steps_of(
    conn: &mut DbConnection,
    id: DesignationApplicationId,
) -> QueryResult<Vec<StepRow>> {
    designation_steps::table
        .filter(designation_steps::application_id.eq(id))
        .order(designation_steps::id.asc())
        .select(StepRow::as_select())
        .load(conn)
}

/// Takes the application's row for this transaction on PostgreSQL (SQLite's write transaction
/// already excludes every other writer): two steps at once are taken one after the other, each
/// seeing the other's result.
pub fn lock(conn: &mut DbConnection, id: DesignationApplicationId) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        designation_applications::table
            .find(id)
            .select(designation_applications::id)
            .for_update()
            .load::<DesignationApplicationId>(pg)?;
    }
    Ok(())
}
