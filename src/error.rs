//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every variant has a stable snake_case `code` that clients may match on. Client errors explain
//! themselves in `detail` (and `errors` for validation); server errors say only that something
//! went wrong: the cause is kept in the error's `Debug` form, which the request logger records
//! together with the request id, and never reaches the response body.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

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

/// The problem document (RFC 9457) every error response carries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:skillpath:problem:validation_failed",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "The request has invalid fields.",
    "code": "validation_failed",
    "errors": [{"field": "email", "message": "must contain '@'"}]
}))]
pub struct Problem {
    /// `urn:skillpath:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a rejected import: the full report (rows read, rows rejected with line numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::import::ImportReport>)]
    pub report: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unauthorized ({code}): {detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("forbidden")]
    Forbidden,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Existed, but is no more (an expired or revoked share).
    #[error("gone ({code}): {detail}")]
    Gone { code: &'static str, detail: String },
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client did not send its body in time.
    #[error("request body timed out")]
    RequestTimeout,
    #[error("unsupported media type: {detail}")]
    UnsupportedMediaType { detail: String },
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
    Unavailable { cause: String },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized {
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

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(context: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{context}: {cause}"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. } => code,
            Self::Forbidden => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
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
    fn public_detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. }
            | Self::Unauthorized { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::Gone { detail, .. }
            | Self::UnsupportedMediaType { detail }
            | Self::ImportRejected { detail, .. } => detail.clone(),
            Self::Forbidden => "Your role does not allow this action.".into(),
            Self::NotFound { what } => format!("No such {what}."),
            Self::MethodNotAllowed => "This method is not allowed on this resource.".into(),
            Self::RequestTimeout => {
                "The request body did not arrive in time; send it again.".into()
            }
            Self::PayloadTooLarge { limit } => {
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

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("urn:skillpath:problem:{}", self.code()),
            title: title(status).to_owned(),
            status: status.as_u16(),
            detail: self.public_detail(),
            code: self.code().to_owned(),
            errors: match self {
                Self::Validation(errors) | Self::InvalidCsv(errors) => errors.clone(),
                _ => Vec::new(),
            },
            report: match self {
                Self::ImportRejected { report, .. } => Some(report.clone()),
                _ => None,
            },
        }
    }
}

/// The reason phrase of RFC 9110, which renamed two that older tables still carry.
fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// Whether a database error means "not now" rather than "never": the SQLite file is locked or
/// busy past the timeout, the disk or file is full or unreadable, or the PostgreSQL connection
/// was lost or the server is shutting down or refusing connections. Such a request may succeed
/// when retried, and answers 503 with `Retry-After`.
pub fn is_transient(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            [
                "database is locked",
                "database table is locked",
                "database is busy",
                "database or disk is full",
                "disk i/o error",
                "unable to open database file",
                "attempt to write a readonly database",
                "no space left on device",
                "could not extend file",
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "connection to server",
                "the database system is",
                "is not currently accepting connections",
                "could not receive data",
                "could not send data",
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// A value read back from the database that must parse (a stored vocabulary name): failing is a
/// server error, never the client's.
pub fn parse_stored<T: std::str::FromStr<Err = String>>(value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|e| ApiError::internal("stored value", e))
}

fn retry_after_secs(d: Duration) -> u64 {
    // Round up: a client that waits the advertised time must not be refused again.
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::InvalidCsv(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::ImportRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            Self::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs(*retry_after)));
            }
            Self::Unavailable { .. } => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            Self::Busy { .. } => {
                response.insert_header((header::RETRY_AFTER, 5));
            }
            _ => {}
        }
        let body = serde_json::to_string(&self.problem()).unwrap_or_else(|_| {
            r#"{"type":"urn:skillpath:problem:internal_error","title":"Internal Server Error","status":500,"detail":"","code":"internal_error"}"#.into()
        });
        response.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
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
            other if is_transient(&other) => Self::Unavailable {
                cause: format!("database: {other}"),
            },
            other => Self::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable {
            cause: format!("connection pool: {err}"),
        }
    }
}

/// Maps actix's JSON body errors to problems: 413 over the limit, 415 for a wrong content
/// type, 400 for malformed JSON, unknown fields, missing fields or wrong types.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::{JsonPayloadError, PayloadError};
    let api = match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::PayloadTooLarge {
            limit: crate::startup::JSON_BODY_LIMIT,
        },
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType {
            detail: "The body must be JSON with Content-Type: application/json.".into(),
        },
        JsonPayloadError::Deserialize(e) if e.is_syntax() || e.is_eof() => {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))
        }
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(
            "invalid_body",
            format!("The body does not match the expected shape: {e}"),
        ),
        other => ApiError::bad_request("invalid_body", other.to_string()),
    };
    api.into()
}

/// Query-string errors (`?limit=abc`) → 400 naming the problem.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request("invalid_query", format!("Invalid query string: {err}")).into()
}

/// Path parameters that do not parse (`/users/abc`) name nothing that exists.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound { what: "resource" }.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = err.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = ApiError::internal(
            "loading user",
            "relation \"users\" does not exist at 10.0.0.5",
        );
        let body = body_of(&err);
        assert_eq!(body["status"], 500);
        assert_eq!(body["code"], "internal_error");
        let text = body.to_string();
        assert!(!text.contains("relation"));
        assert!(!text.contains("10.0.0.5"));
        // The cause stays available to the logger.
        assert!(format!("{err:?}").contains("relation"));
    }

    #[test]
    fn validation_lists_fields() {
        let body = body_of(&ApiError::invalid("email", "must contain '@'"));
        assert_eq!(body["status"], 422);
        assert_eq!(body["type"], "urn:skillpath:problem:validation_failed");
        assert_eq!(body["errors"][0]["field"], "email");
    }

    /// A database error as a driver reports it.
    #[derive(Debug)]
    struct Reported(&'static str);

    impl diesel::result::DatabaseErrorInformation for Reported {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn reported(message: &'static str) -> ApiError {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(Reported(message)),
        )
        .into()
    }

    #[test]
    fn busy_locked_full_or_gone_databases_are_503_with_retry_after() {
        for message in [
            "database is locked",
            "database or disk is full",
            "terminating connection due to administrator command",
            "server closed the connection unexpectedly",
        ] {
            let err = reported(message);
            assert_eq!(
                err.status_code(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{message}"
            );
            let resp = err.error_response();
            assert!(resp.headers().contains_key(header::RETRY_AFTER));
            assert!(
                !body_of(&err).to_string().contains(message),
                "no detail leaks"
            );
        }
        // Anything else stays a server error.
        assert_eq!(
            reported("syntax error at or near").status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        let resp = ApiError::TooManyRequests {
            retry_after: Duration::from_millis(1500),
        }
        .error_response();
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
    }
}
