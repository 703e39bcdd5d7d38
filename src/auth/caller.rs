//! `AuthUser`: who is calling, with the role guards every use case asks.

use crate::domain::{InstitutionId, LearnerId, Role, UserId};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub institution_id: Option<InstitutionId>,
    pub learner_id: Option<LearnerId>,
}

impl AuthUser {
    /// Role guard: `Forbidden` unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        self.require(&[Role::Admin])
    }
}
