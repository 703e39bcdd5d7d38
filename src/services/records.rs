//! A learner's records: enrollments, employment spells and awards, each written with the
//! recomputation of the learner's milestones and its audit entry, in one transaction.

use serde_json::json;

use crate::auth::scope::{managed_program, require_learner};
use crate::auth::AuthUser;
use crate::db::records::{
    self, AwardRow, EmploymentRow, EnrollmentRow, NewAward, NewEmployment, NewEnrollment,
};
use crate::db::{audit, institutions, occupations, DbConnection};
use chrono::NaiveDate;

use crate::domain::{
    AuditAction, AuditEntity, EmploymentId, EnrollmentId, EnrollmentStatus, LearnerId,
};
use crate::error::AppError;

/// Enrolls the learner in a program of the caller's institution. Run inside a write transaction.
/// Enrolls a learner in a program; a learner with an address and no account is invited to
/// activate one (once). Run inside a write transaction.
pub fn enroll(
    conn: &mut DbConnection,
    caller: &AuthUser,
    links: super::account_links::LinkContext<'_>,
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
    super::account_links::invite_new(
        conn,
        links,
        Some(caller.id),
        &[row.learner_id],
        crate::db::now(),
    )?;
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

/// Closes an enrollment (`enrolled` → `graduated` or `withdrawn`), ending it on `end` or else on
/// its recorded end date. Run inside a write transaction.
pub fn close_enrollment(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
    enrollment_id: EnrollmentId,
    status: EnrollmentStatus,
    end: Option<NaiveDate>,
) -> Result<EnrollmentRow, AppError> {
    require_learner(conn, caller, learner_id)?;
    let current = records::find_enrollment(conn, learner_id, enrollment_id)?
        .ok_or(AppError::NotFound { what: "enrollment" })?;
    managed_program(conn, caller, current.program_id)?;
    let from = current.status;
    if !from.may_become(status) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("An enrollment that is {from} cannot become {status}."),
        ));
    }
    let end = end.unwrap_or(current.end_date);
    if end < current.start_date {
        return Err(AppError::invalid(
            "end_date",
            "must not be before start_date",
        ));
    }
    records::set_enrollment_status(conn, enrollment_id, status, end, crate::db::now())?;
    super::eligibility::refresh_now(conn, learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Update,
        AuditEntity::Enrollment,
        enrollment_id,
        &json!({"from": from, "to": status, "end": end}),
    )?;
    records::find_enrollment(conn, learner_id, enrollment_id)?
        .ok_or(AppError::NotFound { what: "enrollment" })
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

/// Ends an employment spell on `end`. HR staff reach only spells at their own enterprise.
/// Run inside a write transaction.
pub fn end_employment(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
    employment_id: EmploymentId,
    end: NaiveDate,
) -> Result<EmploymentRow, AppError> {
    require_learner(conn, caller, learner_id)?;
    let current = records::find_employment(conn, learner_id, employment_id)?
        .ok_or(AppError::NotFound { what: "employment" })?;
    if !crate::auth::scope::may_change_employment(caller, current.employer_institution_id) {
        return Err(AppError::NotFound { what: "employment" });
    }
    if end < current.start_date {
        return Err(AppError::invalid(
            "end_date",
            "must not be before start_date",
        ));
    }
    records::end_employment(conn, employment_id, end, crate::db::now())?;
    super::eligibility::refresh_now(conn, learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Update,
        AuditEntity::Employment,
        employment_id,
        &json!({"end": end}),
    )?;
    records::find_employment(conn, learner_id, employment_id)?
        .ok_or(AppError::NotFound { what: "employment" })
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
