//! Authentication and authorisation: password hashing, access tokens, refresh-token sessions,
//! the `AuthUser` extractor with its role guards, and the failed-login limiter.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod scope;
pub mod sessions;

pub use extractor::AuthUser;
