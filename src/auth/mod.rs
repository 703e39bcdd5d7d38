//! Authentication and authorisation: password hashing, access tokens, refresh-token sessions,
//! who is calling (`AuthUser`) with its role guards, every visibility rule (`scope`), and the failed-login limiter.

pub mod caller;
pub mod jwt;
pub mod login;
pub mod password;
pub mod rate_limit;
pub mod scope;
pub mod sessions;
pub mod web_session;

pub use caller::AuthUser;
