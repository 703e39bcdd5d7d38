//! Checking a login's credentials, for the API and the pages alike: the same answer and about
//! the same time whether the address is unknown, the password wrong or the account disabled.

use crate::db::users::{self, UserRow};
use crate::db::Database;
use crate::error::AppError;

/// The account these credentials open, if any. The caller counts the attempt (the limiter) and
/// starts the session.
pub async fn authenticate(
    db: &Database,
    email: &str,
    password: String,
) -> Result<Option<UserRow>, AppError> {
    let lookup = email.trim().to_lowercase();
    let user = db
        .read(move |conn| Ok(users::find_by_email(conn, &lookup)?))
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || {
        super::password::verify_or_waste_time(&password, stored.as_deref())
    })
    .await
    .map_err(|e| AppError::internal("password check", e))?;
    Ok(user.filter(|u| matches && !u.disabled))
}
