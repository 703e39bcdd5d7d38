//! An institution's partnerships (annex 一.2 / 二.2): recorded by its staff or an administrator,
//! ended when they end, never deleted (the conditions of past years are counted from them).

use chrono::NaiveDate;
use serde_json::json;

use crate::auth::{scope, AuthUser};
use crate::db::institutions;
use crate::db::partnerships::{self, NewPartnership, PartnershipRow};
use crate::db::{self, audit, DbConnection};
use crate::domain::{AuditAction, AuditEntity, InstitutionId, PartnerKind, PartnershipId};
use crate::error::AppError;

/// A partnership as recorded.
#[derive(Debug, Clone)]
pub struct PartnershipForm {
    pub partner_name: String,
    pub partner_kind: PartnerKind,
    /// The partner, when it is an institution Skillpath knows.
    pub partner_institution_id: Option<InstitutionId>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub agreement_ref: Option<String>,
}

pub fn record(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    form: &PartnershipForm,
) -> Result<PartnershipRow, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institutions::find(conn, institution_id)?.ok_or(AppError::NotFound {
        what: "institution",
    })?;
    let mut checks = crate::domain::checks::Checks::new();
    crate::domain::checks::plausible_date(&mut checks, "started_on", form.started_on);
    if let Some(ended) = form.ended_on {
        crate::domain::checks::plausible_date(&mut checks, "ended_on", ended);
    }
    checks.done(|| Some(()))?;
    if let Some(partner) = form.partner_institution_id {
        // Linking to a known institution is an administrator's: staff, who see only their own
        // institution, would otherwise learn which ids exist.
        caller.require_admin()?;
        let kind = institutions::find(conn, partner)?
            .filter(|_| partner != institution_id)
            .map(|p| p.kind);
        let fits = match (kind, form.partner_kind) {
            (None, _) => false,
            (Some(k), PartnerKind::Enterprise) => k == crate::domain::InstitutionKind::Enterprise,
            (Some(k), PartnerKind::College) => k != crate::domain::InstitutionKind::Enterprise,
        };
        if !fits {
            return Err(AppError::invalid(
                "partner_institution_id",
                "must name another institution known to Skillpath, of the partner_kind given",
            ));
        }
    }
    let now = db::now();
    let row = partnerships::insert(
        conn,
        &NewPartnership {
            institution_id,
            partner_name: &form.partner_name,
            partner_kind: form.partner_kind,
            partner_institution_id: form.partner_institution_id,
            started_on: form.started_on,
            ended_on: form.ended_on,
            agreement_ref: form.agreement_ref.as_deref(),
            created_at: now,
            updated_at: now,
        },
    )?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::Create,
        AuditEntity::Partnership,
        row.id,
        &json!({"institution_id": institution_id, "partner": form.partner_name, "kind": form.partner_kind, "started_on": form.started_on}),
    )?;
    Ok(row)
}

pub fn list(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
) -> Result<Vec<PartnershipRow>, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    institutions::find(conn, institution_id)?.ok_or(AppError::NotFound {
        what: "institution",
    })?;
    Ok(partnerships::of_institution(conn, institution_id)?)
}

/// Records the last day of a partnership.
pub fn end(
    conn: &mut DbConnection,
    caller: &AuthUser,
    institution_id: InstitutionId,
    id: PartnershipId,
    ended_on: NaiveDate,
) -> Result<PartnershipRow, AppError> {
    scope::require_acting_for(caller, institution_id)?;
    let row = partnerships::find(conn, id)?
        .filter(|p| p.institution_id == institution_id)
        .ok_or(AppError::NotFound {
            what: "partnership",
        })?;
    if row.ended_on.is_some() {
        return Err(AppError::conflict(
            "partnership_ended",
            "This partnership has already ended.",
        ));
    }
    if ended_on < row.started_on {
        return Err(AppError::invalid(
            "ended_on",
            "must not be before started_on",
        ));
    }
    partnerships::end(conn, id, ended_on, db::now())?;
    audit::record(
        conn,
        Some(caller.id),
        AuditAction::EndPartnership,
        AuditEntity::Partnership,
        id,
        &json!({"ended_on": ended_on}),
    )?;
    partnerships::find(conn, id)?.ok_or(AppError::NotFound {
        what: "partnership",
    })
}
