//! The emails of one-time account links. The link's token is sealed under the data key (a key
//! of this purpose only) in the outbox row and opened when the email is written, so the
//! database never holds a usable link in the clear; it is cleared once the email is sent.

use crate::crypto::KeyVault;
use crate::domain::NoticeKind;

/// The page a link opens, with its token: `None` for notices that are not account links.
pub fn path(kind: NoticeKind, token: &str) -> Option<String> {
    match kind {
        NoticeKind::Invitation => Some(format!("/welcome/{token}")),
        NoticeKind::PasswordReset => Some(format!("/reset/{token}")),
        _ => None,
    }
}

/// The link an account-link email carries, under `public_url`.
pub fn url(
    vault: &KeyVault,
    public_url: &str,
    kind: NoticeKind,
    sealed: &str,
) -> Result<String, String> {
    let token = vault
        .open(sealed)
        .map_err(|e| format!("the link's token: {e}"))?;
    let token = String::from_utf8(token).map_err(|_| "the link's token is not text".to_owned())?;
    let path = path(kind, &token).ok_or_else(|| format!("{kind} carries no account link"))?;
    Ok(format!("{public_url}{path}"))
}
