//! Login sessions: an access token plus an opaque refresh token. Each login starts a family;
//! each refresh consumes the presented token and issues the next one in the same family.
//! Presenting a token that was already consumed means it leaked: the whole family is revoked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::jwt::AccessTokens;
use crate::db::refresh_tokens::{self, NewRefreshToken};
use crate::db::users::{self, UserRow};
use crate::db::{self, DbConnection};
use crate::error::AppError;

/// Tokens returned by login and refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "refresh_token": "q0Jq3S1Qm8wO7mK6d2z5u9bX4yP1rT0sV8eN3aL6cH2",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_expires_in": 2592000
}))]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque; good for one refresh.
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

/// What a refresh attempt came to. A refused refresh may still have changed state (a
/// revoked family), which must be committed, so refusal is a value, not an error.
pub enum Refresh {
    Issued(TokenResponse),
    Refused(AppError),
}

/// 32 random bytes, URL-safe base64; the database keeps only the SHA-256.
/// What issuing a session needs: the keys of access tokens and how long a refresh token lives.
#[derive(Clone, Copy)]
pub struct Issuer<'a> {
    pub tokens: &'a AccessTokens,
    pub refresh_ttl: std::time::Duration,
}

/// 32 random bytes, URL-safe: a refresh token or a web session's cookie.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_family_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn issue(
    conn: &mut DbConnection,
    issuer: Issuer<'_>,
    user: &UserRow,
    family_id: &str,
    now: NaiveDateTime,
) -> Result<TokenResponse, AppError> {
    let role = user.role;
    let access_token = issuer.tokens.issue(user.id, role, user.token_version)?;
    let refresh_token = random_token();
    let refresh_ttl = issuer.refresh_ttl;
    let ttl = chrono::Duration::from_std(refresh_ttl)
        .map_err(|e| AppError::internal("refresh token lifetime", e))?;
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &hash_token(&refresh_token),
            issued_at: now,
            expires_at: now + ttl,
        },
    )?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: issuer.tokens.ttl().as_secs(),
        refresh_expires_in: refresh_ttl.as_secs(),
    })
}

/// Starts a new family for a user who just proved who they are.
pub fn start(
    conn: &mut DbConnection,
    issuer: Issuer<'_>,
    user: &UserRow,
) -> Result<TokenResponse, AppError> {
    issue(conn, issuer, user, &new_family_id(), db::now())
}

fn refused(code: &'static str, detail: &str) -> Refresh {
    Refresh::Refused(AppError::unauthenticated(code, detail))
}

/// Consumes `presented` and issues its successor. Run inside a write transaction.
pub fn refresh(
    conn: &mut DbConnection,
    issuer: Issuer<'_>,
    presented: &str,
) -> Result<Refresh, AppError> {
    let now = db::now();
    let Some(row) = refresh_tokens::find_by_hash(conn, &hash_token(presented))? else {
        return Ok(refused(
            "invalid_refresh_token",
            "The refresh token is not valid.",
        ));
    };
    if row.revoked_at.is_some() {
        return Ok(refused(
            "refresh_token_revoked",
            "This session has ended; log in again.",
        ));
    }
    if row.used_at.is_some() || !refresh_tokens::claim(conn, row.id, now)? {
        refresh_tokens::revoke_family(conn, &row.family_id, now)?;
        tracing::warn!(
            user_id = %row.user_id,
            "refresh token reused; session family revoked"
        );
        return Ok(refused(
            "refresh_token_reused",
            "This refresh token was already used; the session has been ended. Log in again.",
        ));
    }
    if row.expires_at <= now {
        return Ok(refused(
            "refresh_token_expired",
            "The session has expired; log in again.",
        ));
    }
    let user = match users::find(conn, row.user_id)? {
        Some(user) if !user.disabled => user,
        _ => {
            refresh_tokens::revoke_family(conn, &row.family_id, now)?;
            return Ok(refused(
                "invalid_refresh_token",
                "The refresh token is not valid.",
            ));
        }
    };
    Ok(Refresh::Issued(issue(
        conn,
        issuer,
        &user,
        &row.family_id,
        now,
    )?))
}

/// Ends the session the token belongs to. Unknown tokens end nothing and are not an error.
pub fn end(conn: &mut DbConnection, presented: &str) -> Result<(), AppError> {
    if let Some(row) = refresh_tokens::find_by_hash(conn, &hash_token(presented))? {
        refresh_tokens::revoke_family(conn, &row.family_id, db::now())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
