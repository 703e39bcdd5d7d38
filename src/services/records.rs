//! A learner's records: enrollments, employment spells and awards, each written with the
//! recomputation of the learner's milestones and its audit entry, in one transaction.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::scope::{managed_program, may_change_employment, require_learner};
use crate::auth::AuthUser;
use crate::db::records::{
    self, AwardRow, EmploymentFix, EmploymentRow, EnrollmentFix, EnrollmentRow, NewAward,
    NewEmployment, NewEnrollment,
};
use crate::db::{audit, institutions, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    AuditAction, AuditEntity, CorrectionRequestId, EmploymentId, EnrollmentId, EnrollmentStatus,
    LearnerId, OccupationCode,
};
use crate::error::AppError;

/// An end before its start, refused under `field`.
fn not_before_start(field: &str, start: NaiveDate, end: Option<NaiveDate>) -> Result<(), AppError> {
    match end {
        Some(end) if end < start => Err(AppError::invalid(field, "must not be before start_date")),
        _ => Ok(()),
    }
}

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
    not_before_start("end_date", current.start_date, Some(end))?;
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
    super::occupation_catalog::require_occupation(conn, "occupation_code", &new.occupation_code)?;
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
    if !may_change_employment(caller, current.employer_institution_id) {
        return Err(AppError::NotFound { what: "employment" });
    }
    not_before_start("end_date", current.start_date, Some(end))?;
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

/// The fields of an enrollment a learner's correction may change (`None`: unchanged).
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentChanges {
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub full_time: Option<bool>,
}

/// The fields of an employment spell a learner's correction may change (`None`: unchanged).
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmploymentChanges {
    pub occupation_code: Option<String>,
    pub post_title: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub in_shanghai: Option<bool>,
    pub frontline: Option<bool>,
}

/// What `changes` makes of `current`, checked as the enrollment it would leave (fields named
/// `changes.*`): a correction is refused when the learner asks, not only when staff accept.
pub fn enrollment_fix(
    changes: &EnrollmentChanges,
    current: &EnrollmentRow,
    now: NaiveDateTime,
) -> Result<EnrollmentFix, AppError> {
    not_before_start(
        "changes.end_date",
        changes.start_date.unwrap_or(current.start_date),
        Some(changes.end_date.unwrap_or(current.end_date)),
    )?;
    Ok(EnrollmentFix {
        start_date: changes.start_date,
        end_date: changes.end_date,
        full_time: changes.full_time,
        updated_at: Some(now),
    })
}

/// What `changes` makes of `current`, checked as the spell it would leave (fields named
/// `changes.*`), with the checks a spell is recorded with.
pub fn employment_fix(
    conn: &mut DbConnection,
    changes: &EmploymentChanges,
    current: &EmploymentRow,
    now: NaiveDateTime,
) -> Result<EmploymentFix, AppError> {
    let mut checks = Checks::new();
    let occupation = changes.occupation_code.as_deref().and_then(|code| {
        checks
            .with("changes.occupation_code", OccupationCode::parse(code))
            .map(OccupationCode::into_inner)
    });
    let post = changes
        .post_title
        .as_deref()
        .and_then(|p| checks.text("changes.post_title", p, 100));
    if let Some(start) = changes.start_date {
        checks.ensure(
            start <= crate::domain::today_in_shanghai(),
            "changes.start_date",
            "must not be in the future",
        );
    }
    checks.done(|| Some(()))?;
    if let Some(code) = &occupation {
        super::occupation_catalog::require_occupation(conn, "changes.occupation_code", code)?;
    }
    not_before_start(
        "changes.end_date",
        changes.start_date.unwrap_or(current.start_date),
        changes.end_date.or(current.end_date),
    )?;
    Ok(EmploymentFix {
        occupation_code: occupation,
        post_title: post,
        start_date: changes.start_date,
        end_date: changes.end_date.map(Some),
        in_shanghai: changes.in_shanghai,
        frontline: changes.frontline,
        updated_at: Some(now),
    })
}

/// Corrects an enrollment as an accepted correction `request` asks, in the caller's name: checked,
/// written, the learner's milestones recomputed, audited (by the fields it names, naming it).
/// Run inside a write transaction.
pub fn correct_enrollment(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
    id: EnrollmentId,
    changes: &EnrollmentChanges,
    request: (CorrectionRequestId, &[String]),
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let not_found = || AppError::NotFound { what: "enrollment" };
    require_learner(conn, caller, learner_id)?;
    let current = records::find_enrollment(conn, learner_id, id)?.ok_or_else(not_found)?;
    let fix = enrollment_fix(changes, &current, now)?;
    records::fix_enrollment(conn, id, &fix)?;
    corrected(
        conn,
        caller,
        learner_id,
        (AuditEntity::Enrollment, id.0),
        request,
    )
}

/// Corrects an employment spell as an accepted correction `request` asks (HR staff reach only
/// spells at their own enterprise), as [`correct_enrollment`] does an enrollment.
pub fn correct_employment(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
    id: EmploymentId,
    changes: &EmploymentChanges,
    request: (CorrectionRequestId, &[String]),
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let not_found = || AppError::NotFound { what: "employment" };
    require_learner(conn, caller, learner_id)?;
    let current = records::find_employment(conn, learner_id, id)?
        .filter(|c| may_change_employment(caller, c.employer_institution_id))
        .ok_or_else(not_found)?;
    let fix = employment_fix(conn, changes, &current, now)?;
    records::fix_employment(conn, id, &fix)?;
    corrected(
        conn,
        caller,
        learner_id,
        (AuditEntity::Employment, id.0),
        request,
    )
}

/// After a record's correction: the learner's milestones recomputed, the change audited.
fn corrected(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: LearnerId,
    (entity, record_id): (AuditEntity, i64),
    (request, fields): (CorrectionRequestId, &[String]),
) -> Result<(), AppError> {
    super::eligibility::refresh_now(conn, learner_id)?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Update,
        entity,
        record_id,
        &json!({"correction_request": request, "fields": fields}),
    )?;
    Ok(())
}
