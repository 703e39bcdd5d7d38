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

impl AuthUser {
    /// The account as a caller, as its row says (the checks of a session or token are the
    /// caller's to make).
    pub fn of_row(user: &crate::db::users::UserRow) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            role: user.role,
            institution_id: user.institution_id,
            learner_id: user.learner_id,
        }
    }

    /// The caller behind a verified access token, once their account is read: refused when the
    /// account is gone or disabled, or has changed password or role since the token was issued.
    pub fn of_account(
        claims: &super::jwt::AccessClaims,
        account: Option<crate::db::users::UserRow>,
    ) -> Result<Self, AppError> {
        let revoked = || {
            AppError::unauthenticated(
                "token_revoked",
                "This access token is no longer valid; log in again.",
            )
        };
        let user = account.ok_or_else(revoked)?;
        if user.disabled || user.token_version != claims.ver || user.role != claims.role {
            return Err(revoked());
        }
        Ok(Self {
            id: user.id,
            email: user.email,
            role: claims.role,
            institution_id: user.institution_id,
            learner_id: user.learner_id,
        })
    }
}
