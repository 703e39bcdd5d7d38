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
