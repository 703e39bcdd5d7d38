//! Institutions, their designations as 新型技师学院, their programs and the programs' cohorts:
//! each change written with its audit entry, and (for designations) the recomputation it calls
//! for queued as a durable job. Run inside a write transaction; the caller's role was checked.

use chrono::NaiveDate;
use serde_json::json;

use crate::auth::{scope, AuthUser};
use crate::db::cohorts::{self, CohortRow, NewCohort};
use crate::db::institutions::{
    self, DesignationRow, InstitutionChanges, InstitutionRow, NewDesignation, NewInstitution,
    NewProgram, ProgramRow,
};
use crate::db::{self, audit, DbConnection};
use crate::domain::checks::Checks;
use crate::domain::{
    AuditAction, AuditEntity, DesignationId, InstitutionId, InstitutionKind, ProgramId, UserId,
};
use crate::error::AppError;
use crate::services::jobs::{self, Job};

pub fn create_institution(
    conn: &mut DbConnection,
    actor: UserId,
    name: &str,
    kind: InstitutionKind,
    assessed: bool,
) -> Result<InstitutionRow, AppError> {
    let now = db::now();
    let row = institutions::insert(
        conn,
        &NewInstitution {
            name,
            kind,
            assessed,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(AppError::unique_clash(
        "institution_exists",
        "An institution with this name exists.",
    ))?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Create,
        AuditEntity::Institution,
        row.id,
        &json!({"name": row.name, "kind": row.kind}),
    )?;
    Ok(row)
}

/// Renames an institution or sets its `assessed` flag (`None` leaves a field).
pub fn update_institution(
    conn: &mut DbConnection,
    actor: UserId,
    id: InstitutionId,
    name: Option<&str>,
    assessed: Option<bool>,
) -> Result<(), AppError> {
    find(conn, id)?;
    let changes = InstitutionChanges {
        name,
        assessed,
        updated_at: db::now(),
    };
    institutions::update(conn, id, &changes)?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Update,
        AuditEntity::Institution,
        id,
        &json!({"name": name, "assessed": assessed}),
    )?;
    Ok(())
}

/// Records a designation period; periods of one institution may not overlap.
pub fn add_designation(
    conn: &mut DbConnection,
    actor: UserId,
    id: InstitutionId,
    batch: &str,
    from: NaiveDate,
    until: Option<NaiveDate>,
) -> Result<DesignationRow, AppError> {
    find(conn, id)?;
    let new_end = until.unwrap_or(NaiveDate::MAX);
    for existing in institutions::designations_of(conn, id)? {
        let end = existing.designated_until.unwrap_or(NaiveDate::MAX);
        if existing.designated_from <= new_end && from <= end {
            return Err(AppError::conflict(
                "designation_overlap",
                format!(
                    "This period overlaps designation {} ({} from {}).",
                    existing.id, existing.batch, existing.designated_from
                ),
            ));
        }
    }
    let now = db::now();
    let row = institutions::insert_designation(
        conn,
        &NewDesignation {
            institution_id: id,
            batch,
            designated_from: from,
            designated_until: until,
            end_reason: None,
            created_at: now,
            updated_at: now,
        },
    )?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Designate,
        AuditEntity::Institution,
        id,
        &json!({"designation_id": row.id, "batch": batch, "from": from, "until": until}),
    )?;
    jobs::enqueue(
        conn,
        &Job::RecomputeAll {
            reason: "designation added".into(),
        },
    )?;
    Ok(row)
}

/// Ends a designation period (摘牌) on `until`, for `reason`: one recorded directly (the batches
/// designated before applications were kept here). A period an application's workflow opened
/// ends through that workflow's re-evaluation.
pub fn end_designation(
    conn: &mut DbConnection,
    actor: UserId,
    id: InstitutionId,
    designation_id: DesignationId,
    until: NaiveDate,
    reason: &str,
) -> Result<(), AppError> {
    if let Some(application) = crate::db::designation_applications::managing(conn, designation_id)?
    {
        return Err(AppError::conflict(
            "designation_managed",
            format!(
                "Designation {designation_id} belongs to application {application}; it ends through \
                 that application's re-evaluation after rectification (policy 六(三))."
            ),
        ));
    }
    close_designation(conn, actor, id, designation_id, until, reason)
}

/// Ends a designation period on `until`, for `reason`, and queues the recomputation of the
/// learners it touches.
pub fn close_designation(
    conn: &mut DbConnection,
    actor: UserId,
    id: InstitutionId,
    designation_id: DesignationId,
    until: NaiveDate,
    reason: &str,
) -> Result<(), AppError> {
    let designation = institutions::designations_of(conn, id)?
        .into_iter()
        .find(|d| d.id == designation_id)
        .ok_or(AppError::NotFound {
            what: "designation",
        })?;
    if designation.end_reason.is_some() {
        return Err(AppError::conflict(
            "designation_ended",
            "This designation has already been ended.",
        ));
    }
    if until < designation.designated_from {
        return Err(AppError::invalid(
            "designated_until",
            "must not be before designated_from",
        ));
    }
    institutions::end_designation(conn, designation_id, until, reason, db::now())?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::EndDesignation,
        AuditEntity::Institution,
        id,
        &json!({"designation_id": designation_id, "until": until, "reason": reason}),
    )?;
    jobs::enqueue(
        conn,
        &Job::RecomputeAll {
            reason: "designation ended".into(),
        },
    )?;
    Ok(())
}

/// Creates a program of an institution; its primary and related occupations must be in the
/// catalog (`related` holds no repeats and not the primary).
pub fn create_program(
    conn: &mut DbConnection,
    actor: UserId,
    institution_id: InstitutionId,
    name: &str,
    primary: &str,
    related: &[String],
) -> Result<ProgramRow, AppError> {
    find(conn, institution_id)?;
    let mut checks = Checks::new();
    super::occupation_catalog::check_occupations(
        conn,
        &mut checks,
        std::iter::once(("occupation_code".to_owned(), primary)).chain(
            related
                .iter()
                .enumerate()
                .map(|(i, code)| (format!("related_occupation_codes[{i}]"), code.as_str())),
        ),
    )?;
    checks.done(|| Some(()))?;
    let now = db::now();
    let row = institutions::insert_program(
        conn,
        &NewProgram {
            institution_id,
            name,
            occupation_code: primary,
            created_at: now,
            updated_at: now,
        },
        related,
    )
    .map_err(AppError::unique_clash(
        "program_exists",
        "This institution has a program of this name.",
    ))?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Create,
        AuditEntity::Program,
        row.id,
        &json!({"institution_id": institution_id, "name": name, "occupation_code": primary, "related": related}),
    )?;
    Ok(row)
}

/// Creates a cohort of a program the caller manages; the cohort with its program's institution.
pub fn create_cohort(
    conn: &mut DbConnection,
    caller: &AuthUser,
    program_id: ProgramId,
    name: &str,
    intake_year: i32,
) -> Result<(CohortRow, InstitutionId), AppError> {
    let program = scope::visible_program(conn, caller, program_id)?;
    if !caller.manages_institution(program.institution_id) {
        return Err(AppError::Forbidden);
    }
    let now = db::now();
    let row = cohorts::insert(
        conn,
        &NewCohort {
            program_id: program.id,
            name,
            intake_year,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(AppError::unique_clash(
        "cohort_exists",
        "This program has a cohort of this name.",
    ))?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::Cohort,
        row.id,
        &json!({"program_id": program.id, "name": name, "intake_year": intake_year}),
    )?;
    Ok((row, program.institution_id))
}

/// Institutions the caller may see (administrators and evaluators all, staff their own), after
/// the cursor, each with its designation history.
pub fn list(
    conn: &mut DbConnection,
    caller: &AuthUser,
    kind: Option<InstitutionKind>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<(InstitutionRow, Vec<DesignationRow>)>, AppError> {
    let rows = institutions::list(conn, caller.listing_institution(), kind, after, limit)?;
    let ids: Vec<InstitutionId> = rows.iter().map(|r| r.id).collect();
    let designations = institutions::designations_of_many(conn, &ids)?;
    Ok(super::with_children(
        rows,
        designations,
        |r| r.id,
        |d| d.institution_id,
    ))
}

/// Cohorts the caller may see, after the cursor, each with its program's institution.
pub fn list_cohorts(
    conn: &mut DbConnection,
    caller: &AuthUser,
    program_id: Option<ProgramId>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<(CohortRow, InstitutionId)>, AppError> {
    let rows = cohorts::list(conn, caller.listing_institution(), program_id, after, limit)?;
    let program_ids: Vec<ProgramId> = rows.iter().map(|r| r.program_id).collect();
    let institution_of: std::collections::HashMap<ProgramId, InstitutionId> =
        institutions::find_programs(conn, &program_ids)?
            .into_iter()
            .map(|p| (p.id, p.institution_id))
            .collect();
    rows.into_iter()
        .map(|row| {
            let institution = institution_of
                .get(&row.program_id)
                .copied()
                .ok_or_else(|| AppError::internal("cohort", "its program is gone"))?;
            Ok((row, institution))
        })
        .collect()
}

/// The enterprises a learner may name in a share, by name (at most `limit`).
pub fn enterprises(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<(InstitutionId, String)>, AppError> {
    Ok(institutions::names_of_kind(
        conn,
        InstitutionKind::Enterprise,
        limit,
    )?)
}

fn find(conn: &mut DbConnection, id: InstitutionId) -> Result<InstitutionRow, AppError> {
    institutions::find(conn, id)?.ok_or(AppError::NotFound {
        what: "institution",
    })
}
