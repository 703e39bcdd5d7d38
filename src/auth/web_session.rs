//! Sessions of the web pages. The browser holds a random token in an HttpOnly cookie; the
//! database holds only its SHA-256, the account's token version when the session began, and the
//! session's CSRF token. A session ends at its expiry, on logout, and as soon as the account's
//! token version moves (a new password, a disabled account) or the account is disabled.

use chrono::NaiveDateTime;

use super::sessions::{hash_token, random_token};
use super::AuthUser;
use crate::db::users::UserRow;
use crate::db::web_sessions::{self, NewWebSession};
use crate::db::DbConnection;
use crate::error::AppError;

/// Live page sessions one account keeps at most (phones, a computer, a tablet); a new login
/// beyond them ends the oldest.
pub const SESSIONS_PER_ACCOUNT: i64 = 10;

/// Who a live session belongs to, and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub user: AuthUser,
    pub csrf_token: String,
}

impl WebSession {
    /// `Forbidden` unless a form carries this session's CSRF token.
    pub fn check_csrf(&self, given: &str) -> Result<(), AppError> {
        if csrf_matches(&self.csrf_token, given) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// A new session: the cookie token (given to the browser once, never stored) and the session.
pub fn start(
    conn: &mut DbConnection,
    user: &UserRow,
    now: NaiveDateTime,
    lifetime: chrono::Duration,
) -> Result<(String, WebSession), AppError> {
    web_sessions::delete_expired(conn, now)?;
    let token = random_token();
    let csrf_token = random_token();
    web_sessions::insert(
        conn,
        &NewWebSession {
            token_hash: &hash_token(&token),
            user_id: user.id,
            token_version: user.token_version,
            csrf_token: &csrf_token,
            created_at: now,
            expires_at: now + lifetime,
        },
    )?;
    web_sessions::keep_newest(conn, user.id, SESSIONS_PER_ACCOUNT)?;
    Ok((
        token,
        WebSession {
            user: AuthUser::of_row(user),
            csrf_token,
        },
    ))
}

/// The session a cookie token names, if it is still live.
pub fn find(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<WebSession>, AppError> {
    let Some((session, user)) = web_sessions::find_live(conn, &hash_token(token), now)? else {
        return Ok(None);
    };
    if user.disabled || user.token_version != session.token_version {
        return Ok(None);
    }
    Ok(Some(WebSession {
        user: AuthUser::of_row(&user),
        csrf_token: session.csrf_token,
    }))
}

/// Ends the session a cookie token names (nothing when there is none).
pub fn end(conn: &mut DbConnection, token: &str) -> Result<(), AppError> {
    web_sessions::delete(conn, &hash_token(token))?;
    Ok(())
}

/// Whether a form's CSRF token is the expected one: same length and bytes, compared without
/// stopping at the first difference.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
