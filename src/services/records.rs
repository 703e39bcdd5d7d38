//! A learner's records: enrollments, employment spells and awards, each written with the
//! recomputation of the learner's milestones and its audit entry, in one transaction.

use serde_json::json;

use crate::auth::scope::{managed_program, require_learner};
use crate::auth::AuthUser;
use crate::db::records::{
    self, AwardRow, EmploymentRow, EnrollmentRow, NewAward, NewEmployment, NewEnrollment,
};
use crate::db::{audit, institutions, occupations, DbConnection};
use crate::domain::{AuditAction, AuditEntity};
use crate::error::AppError;

/// Enrolls the learner in a program of the caller's institution. Run inside a write transaction.
pub fn enroll(
    conn: &mut DbConnection,
    caller: &AuthUser,
    new: NewEnrollment,
) -> Result<EnrollmentRow, AppError> {
    require_learner(conn, caller, new.learner_id)?;
    managed_program(conn, caller, new.program_id)?;
    let row = records::insert_enrollment(conn, &new).map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::conflict(
            "enrollment_exists",
            "The learner is already enrolled in this program from this date.",
        ),
        other => other,
    })?;
    super::eligibility::refresh_now(conn, row.learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::Enrollment,
        row.id,
        &json!({"learner_id": row.learner_id, "program_id": row.program_id, "status": row.status, "start": row.start_date, "end": row.end_date}),
    )?;
    Ok(row)
}

/// Records an employment spell; its employer institution (if any) was allowed by the scope
/// module. Run inside a write transaction.
pub fn record_employment(
    conn: &mut DbConnection,
    caller: &AuthUser,
    new: NewEmployment,
) -> Result<EmploymentRow, AppError> {
    require_learner(conn, caller, new.learner_id)?;
    if occupations::find(conn, &new.occupation_code)?.is_none() {
        return Err(AppError::invalid(
            "occupation_code",
            format!("{} is not in the occupation catalog", new.occupation_code),
        ));
    }
    if let Some(inst) = new.employer_institution_id {
        if institutions::find(conn, inst)?.is_none() {
            return Err(AppError::invalid(
                "employer_institution_id",
                "no such institution",
            ));
        }
    }
    let row = records::insert_employment(conn, &new)?;
    super::eligibility::refresh_now(conn, row.learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::Employment,
        row.id,
        &json!({"learner_id": row.learner_id, "employer": row.employer_name, "occupation_code": row.occupation_code, "start": row.start_date, "end": row.end_date}),
    )?;
    Ok(row)
}

/// Records an award. Run inside a write transaction.
pub fn record_award(
    conn: &mut DbConnection,
    caller: &AuthUser,
    new: NewAward,
) -> Result<AwardRow, AppError> {
    require_learner(conn, caller, new.learner_id)?;
    let row = records::insert_award(conn, &new)?;
    super::eligibility::refresh_now(conn, row.learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::Award,
        row.id,
        &json!({"learner_id": row.learner_id, "kind": row.kind, "title": row.title}),
    )?;
    Ok(row)
}
