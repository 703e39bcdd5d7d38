//! Who sees what. The mistakes that hurt systems like this most are cross-tenant reads, so every
//! handler that touches a record asks here, and a record outside the caller's scope answers 404
//! exactly as a record that does not exist.
//!
//! - admin: everything;
//! - college_staff and employer_hr: their institution, its programs and cohorts, and the learners
//!   tied to it (enrolled in one of its programs, employed by it, or registered by it);
//! - evaluator: certificates (to decide them), not learner records;
//! - learner: their own record.

use crate::auth::AuthUser;
use crate::db::learners::{self, LearnerScope};
use crate::db::DbConnection;
use crate::domain::Role;
use crate::error::ApiError;

impl AuthUser {
    /// The institution a staff account is bound to.
    pub fn staff_institution(&self) -> Option<i64> {
        match self.role {
            Role::CollegeStaff | Role::EmployerHr => self.institution_id,
            _ => None,
        }
    }

    /// Which learner records this caller may see.
    pub fn learner_scope(&self) -> LearnerScope {
        match (self.role, self.institution_id, self.learner_id) {
            (Role::Admin, _, _) => LearnerScope::All,
            (Role::CollegeStaff | Role::EmployerHr, Some(inst), _) => {
                LearnerScope::Institution(inst)
            }
            (Role::Learner, _, Some(id)) => LearnerScope::Only(id),
            _ => LearnerScope::Nobody,
        }
    }

    /// Whether this caller may see the institution (and its programs and cohorts).
    pub fn sees_institution(&self, institution_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Evaluator => true,
            Role::CollegeStaff | Role::EmployerHr => self.institution_id == Some(institution_id),
            Role::Learner => false,
        }
    }

    /// Whether this caller may change the institution's programs and cohorts.
    pub fn manages_institution(&self, institution_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::CollegeStaff => self.institution_id == Some(institution_id),
            _ => false,
        }
    }

    /// The caller's own learner record: 403 for any other role (the `/me/…` endpoints).
    pub fn own_learner_id(&self) -> Result<i64, ApiError> {
        match (self.role, self.learner_id) {
            (Role::Learner, Some(id)) => Ok(id),
            _ => Err(ApiError::Forbidden),
        }
    }

    pub fn is_learner(&self, learner_id: i64) -> bool {
        self.role == Role::Learner && self.learner_id == Some(learner_id)
    }
}

/// 404 unless the caller may see the learner.
pub fn require_learner(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: i64,
) -> Result<(), ApiError> {
    if learners::visible(conn, caller.learner_scope(), learner_id)? {
        Ok(())
    } else {
        Err(ApiError::NotFound { what: "learner" })
    }
}

/// Of the existing learners `ids` that a caller's registration or bulk import matched (by
/// identity number or email), those the caller may reach. Matching runs over every learner,
/// since one person has one record; reaching a match is allowed only within the caller's scope.
/// A match outside it is refused with [`out_of_scope_match`], which does not say whether the
/// person exists or which of the identifiers matched, and is written to the audit log
/// ([`record_out_of_scope_match`]) so that an administrator sees repeated probing.
pub fn reachable_matches(
    conn: &mut DbConnection,
    caller: &AuthUser,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>, ApiError> {
    Ok(learners::visible_among(conn, caller.learner_scope(), ids)?
        .into_iter()
        .collect())
}

/// The words of a refusal to reach a learner outside the caller's scope, in a file's row report.
pub const OUT_OF_SCOPE_ROW: &str = "cannot be registered or enrolled by your institution: ask the learner to check their identity number and email, or the city administrator to link their record";

/// The refusal of a single registration that matched a learner outside the caller's scope.
pub fn out_of_scope_match() -> ApiError {
    ApiError::conflict(
        "not_registrable",
        "This person cannot be registered by your institution. Ask them to check their identity number and email, or ask the city administrator to link their record to your institution.",
    )
}

/// Audits a refused match: who tried to reach which learner, and how.
pub fn record_out_of_scope_match(
    conn: &mut DbConnection,
    caller: &AuthUser,
    learner_id: i64,
    via: &str,
) -> Result<(), ApiError> {
    crate::db::audit::record(
        conn,
        Some(caller.id),
        "scope_refused",
        "learner",
        learner_id,
        &serde_json::json!({"via": via, "institution_id": caller.institution_id}),
    )?;
    Ok(())
}

/// Whether the caller may tie a learner's employment to an institution, which opens the learner's
/// record to that institution's staff: administrators any, staff and HR their own institution
/// only, learners none (they name their employer; its HR ties it).
pub fn may_bind_employer(caller: &AuthUser, institution_id: i64) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::CollegeStaff | Role::EmployerHr => caller.institution_id == Some(institution_id),
        Role::Learner | Role::Evaluator => false,
    }
}

/// 404 unless the caller may see the institution; the guard for every institution read.
pub fn require_institution(caller: &AuthUser, institution_id: i64) -> Result<(), ApiError> {
    if caller.sees_institution(institution_id) {
        Ok(())
    } else {
        Err(ApiError::NotFound {
            what: "institution",
        })
    }
}
