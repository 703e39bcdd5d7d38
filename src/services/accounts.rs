//! Accounts: created and updated by administrators, a password changed by its owner. Passwords
//! arrive hashed (hashing is slow; it happens before the write transaction, not inside it).
//! Every change that touches sign-in ends the account's sessions.

use serde_json::json;

use crate::auth::sessions::{self, Issuer, TokenResponse};
use crate::db::users::{self, NewUser, UserRow};
use crate::db::{self, audit, institutions, learners, refresh_tokens, DbConnection};
use crate::domain::{
    AuditAction, AuditEntity, EmailAddress, InstitutionId, InstitutionKind, LearnerId, Role, UserId,
};
use crate::error::AppError;

/// An account to create, its fields checked (the binding matches the role).
pub struct NewAccount {
    pub email: EmailAddress,
    pub password_hash: String,
    pub role: Role,
    pub institution_id: Option<InstitutionId>,
    pub learner_id: Option<LearnerId>,
}

/// Creates an account. Run inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    actor: UserId,
    new: &NewAccount,
) -> Result<UserRow, AppError> {
    check_binding_targets(conn, new)?;
    if users::find_by_email(conn, new.email.as_str())?.is_some() {
        return Err(AppError::conflict(
            "email_taken",
            "An account with this email already exists.",
        ));
    }
    let now = db::now();
    let row = users::insert(
        conn,
        &NewUser {
            email: new.email.as_str(),
            password_hash: &new.password_hash,
            role: new.role,
            institution_id: new.institution_id,
            learner_id: new.learner_id,
            disabled: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        },
    )?;
    audit::record(
        conn,
        Some(actor),
        AuditAction::Create,
        AuditEntity::User,
        row.id,
        &json!({
            "email": row.email, "role": row.role,
            "institution_id": row.institution_id, "learner_id": row.learner_id,
        }),
    )?;
    Ok(row)
}

/// HR staff belong to an enterprise, college staff to a school or college; the learner exists.
fn check_binding_targets(conn: &mut DbConnection, new: &NewAccount) -> Result<(), AppError> {
    if let Some(id) = new.institution_id {
        let institution = institutions::find(conn, id)?
            .ok_or_else(|| AppError::invalid("institution_id", "no such institution"))?;
        let enterprise = institution.kind == InstitutionKind::Enterprise;
        match new.role {
            Role::EmployerHr if !enterprise => {
                return Err(AppError::invalid(
                    "institution_id",
                    "HR staff must be bound to an institution of kind enterprise",
                ))
            }
            Role::CollegeStaff if enterprise => {
                return Err(AppError::invalid(
                    "institution_id",
                    "college staff must be bound to a school or college, not an enterprise",
                ))
            }
            _ => {}
        }
    }
    if let Some(id) = new.learner_id {
        if learners::find(conn, id)?.is_none() {
            return Err(AppError::invalid("learner_id", "no such learner"));
        }
    }
    Ok(())
}

/// Disables or enables an account, or sets its password (`None` leaves either). Run inside a
/// write transaction; the caller checked that an administrator does not disable themself.
pub fn update(
    conn: &mut DbConnection,
    actor: UserId,
    id: UserId,
    disabled: Option<bool>,
    password_hash: Option<&str>,
) -> Result<UserRow, AppError> {
    let current = users::find(conn, id)?.ok_or(AppError::NotFound { what: "user" })?;
    let now = db::now();
    if let Some(disabled) = disabled.filter(|d| *d != current.disabled) {
        users::set_disabled(conn, id, disabled, now)?;
        refresh_tokens::revoke_all_for_user(conn, id, now)?;
    }
    if let Some(hash) = password_hash {
        users::set_password_hash(conn, id, hash, now)?;
        refresh_tokens::revoke_all_for_user(conn, id, now)?;
    }
    audit::record(
        conn,
        Some(actor),
        AuditAction::Update,
        AuditEntity::User,
        id,
        &json!({
            "disabled": disabled, "password_reset": password_hash.is_some(),
        }),
    )?;
    users::find(conn, id)?.ok_or(AppError::NotFound { what: "user" })
}

/// Sets the owner's new password (the current one was checked), ends every session and starts
/// a new one. Run inside a write transaction.
pub fn change_password(
    conn: &mut DbConnection,
    issuer: Issuer<'_>,
    id: UserId,
    password_hash: &str,
) -> Result<TokenResponse, AppError> {
    let now = db::now();
    users::set_password_hash(conn, id, password_hash, now)?;
    refresh_tokens::revoke_all_for_user(conn, id, now)?;
    let user = users::find(conn, id)?.ok_or(AppError::NotFound { what: "user" })?;
    audit::record(
        conn,
        Some(id),
        AuditAction::ChangePassword,
        AuditEntity::User,
        id,
        &json!({}),
    )?;
    sessions::start(conn, issuer, &user)
}
