//! The one error type of the application: what a use case, a query or a check can fail with.
//!
//! It speaks of the application, not of a protocol: the HTTP layer (`api::problem`) is the one
//! place that maps it to a status and an RFC 9457 problem document. Every variant has a stable
//! snake_case `code` that clients may match on. Client errors explain themselves in their
//! detail (and the fields for validation); server errors keep their cause in the error's `Debug`
//! form, which the request logger records, and which never reaches a response body.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field's name as sent (`email`, `institution_id`, …).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    BadInput { code: &'static str, detail: String },
    #[error("unauthorized ({code}): {detail}")]
    Unauthenticated { code: &'static str, detail: String },
    #[error("forbidden")]
    Forbidden,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// Existed, but is no more (an expired or revoked share).
    #[error("gone ({code}): {detail}")]
    Gone { code: &'static str, detail: String },
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The client did not send its body in time.
    #[error("request body timed out")]
    InputTimedOut,
    #[error("unsupported media type: {detail}")]
    UnsupportedFormat { detail: String },
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// A CSV file whose header lacks required columns (each named in `errors`).
    #[error("invalid CSV: {0:?}")]
    InvalidCsv(Vec<FieldError>),
    /// An all-or-nothing import with rejected rows: nothing was stored.
    #[error("import rejected: {detail}")]
    ImportRejected {
        detail: String,
        report: serde_json::Value,
    },
    #[error("too many requests; retry after {retry_after:?}")]
    TooManyRequests { retry_after: Duration },
    /// The service has no room for this request now (e.g. the memory set aside for uploads).
    #[error("busy: {detail}")]
    Busy { detail: &'static str },
    /// The database could not be reached in time; the cause is for the log only.
    #[error("service unavailable: {cause}")]
    Unavailable {
        cause: String,
        /// The connection was found closed (the server restarted, the network dropped it): the
        /// same statement may succeed at once on another connection.
        connection_lost: bool,
    },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_input(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadInput {
            code,
            detail: detail.into(),
        }
    }

    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthenticated {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// Maps a database error, naming a clash on a unique value `code` with `detail`.
    pub fn unique_clash(
        code: &'static str,
        detail: &'static str,
    ) -> impl FnOnce(diesel::result::Error) -> Self {
        move |err| match Self::from(err) {
            Self::Conflict { .. } => Self::conflict(code, detail),
            other => other,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// See [`is_connection_lost`].
    pub fn is_closed_connection(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                connection_lost: true,
                ..
            }
        )
    }

    pub fn internal(context: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{context}: {cause}"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput { code, .. }
            | Self::Unauthenticated { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. } => code,
            Self::Forbidden => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::TooLarge { .. } => "payload_too_large",
            Self::InputTimedOut => "request_timeout",
            Self::UnsupportedFormat { .. } => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::InvalidCsv(_) => "invalid_csv",
            Self::ImportRejected { .. } => "import_rejected",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable { .. } => "service_unavailable",
            Self::Busy { .. } => "service_busy",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The text a client sees. Server errors give no detail of their cause.
    pub fn public_detail(&self) -> String {
        match self {
            Self::BadInput { detail, .. }
            | Self::Unauthenticated { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::Gone { detail, .. }
            | Self::UnsupportedFormat { detail }
            | Self::ImportRejected { detail, .. } => detail.clone(),
            Self::Forbidden => "Your role does not allow this action.".into(),
            Self::NotFound { what } => format!("No such {what}."),
            Self::InputTimedOut => "The request body did not arrive in time; send it again.".into(),
            Self::TooLarge { limit } => {
                format!("The request body is larger than the limit of {limit} bytes.")
            }
            Self::Validation(_) => "The request has invalid fields.".into(),
            Self::InvalidCsv(_) => "The file lacks required columns (named in `errors`).".into(),
            Self::TooManyRequests { retry_after } => format!(
                "Too many attempts; try again in {} seconds.",
                retry_after_secs(*retry_after)
            ),
            Self::Unavailable { .. } => {
                "The service cannot reach its database right now; try again shortly.".into()
            }
            Self::Busy { detail } => (*detail).into(),
            Self::Internal(_) => {
                "Something went wrong on our side. Quote the x-request-id header when reporting it."
                    .into()
            }
        }
    }
}

/// Whether a database error means "not now" rather than "never": the SQLite file is locked or
/// busy past the timeout, the disk or file is full or unreadable, or the PostgreSQL connection
/// was lost or the server is shutting down or refusing connections. Such a request may succeed
/// when retried, and answers 503 with `Retry-After`.
pub fn is_transient(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    is_connection_lost(err)
        || matches!(
            err,
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)
                | Error::BrokenTransactionManager
        )
        || says_any(
            err,
            &[
                "database is locked",
                "database table is locked",
                "database is busy",
                "database or disk is full",
                "disk i/o error",
                "unable to open database file",
                "attempt to write a readonly database",
                "no space left on device",
                "could not extend file",
                "connection to server",
                "the database system is",
                "is not currently accepting connections",
            ],
        )
}

/// Whether a database error says the connection itself is gone (rather than the database being
/// busy, full or shutting down): a fresh connection may succeed at once.
pub fn is_connection_lost(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        err,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
    ) || says_any(
        err,
        &[
            "terminating connection",
            "server closed the connection",
            "no connection to the server",
            "could not receive data",
            "could not send data",
        ],
    )
}

/// Whether the driver's message of a database error holds any of `needles` (lower case).
fn says_any(err: &diesel::result::Error, needles: &[&str]) -> bool {
    let diesel::result::Error::DatabaseError(_, info) = err else {
        return false;
    };
    let message = info.message().to_ascii_lowercase();
    needles.iter().any(|needle| message.contains(needle))
}

pub fn retry_after_secs(d: Duration) -> u64 {
    // Round up: a client that waits the advertised time must not be refused again.
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound { what: "record" },
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::conflict(
                "already_exists",
                "A record with the same unique value already exists.",
            ),
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::conflict(
                "reference_conflict",
                "The record refers to, or is referred to by, another record.",
            ),
            // PostgreSQL refuses a date or number beyond what it stores (SQLSTATE 22008, 22003):
            // the value came from the request, so the request is at fault, not the service.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("out of range") =>
            {
                Self::bad_input(
                    "out_of_range",
                    "A date or number in the request is beyond what can be stored.",
                )
            }
            other if is_transient(&other) => Self::Unavailable {
                connection_lost: is_connection_lost(&other),
                cause: format!("database: {other}"),
            },
            other => Self::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable {
            cause: format!("connection pool: {err}"),
            connection_lost: false,
        }
    }
}
