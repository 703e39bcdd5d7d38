//! Argon2id password hashes (PHC strings). Hashing costs tens of milliseconds by design, so
//! callers run these functions on the blocking pool, never on an HTTP worker.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// Argon2id, version 0x13, m = 19 MiB, t = 2, p = 1 (the crate's defaults, OWASP's minimum).
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Hashes a new password on the blocking pool (the API's and the pages' one way to do it).
pub async fn hash_new(
    password: crate::domain::NewPassword,
) -> Result<String, crate::error::AppError> {
    use crate::error::AppError;
    tokio::task::spawn_blocking(move || hash(password.expose()))
        .await
        .map_err(|e| AppError::internal("password hashing task", e))?
        .map_err(AppError::Internal)
}

/// True when `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifies against the account's hash, or against a fixed dummy hash when there is no
/// account, so that an unknown email takes as long to refuse as a wrong password.
pub fn verify_or_waste_time(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    match stored {
        Some(stored) => verify(password, stored),
        None => {
            if let Some(dummy) = DUMMY.get_or_init(|| hash("dummy password for timing").ok()) {
                let _ = verify(password, dummy);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"));
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("anything", "not a phc string"));
        assert!(!verify_or_waste_time("anything", None));
    }
}
