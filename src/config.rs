//! Typed settings read once from the environment.
//!
//! Every variable is listed in the README's configuration table. Parsing is pure: nothing is
//! created or read from disk here (the generated JWT secret is materialised in `startup`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::{EmailAddress, NewPassword};

/// A configuration problem: the variable it concerns and what is wrong, printed as one line.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Which database the service talks to, decided by the scheme of `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`./skillpath.db`, `sqlite://data/app.db`, `sqlite:///var/lib/app.db`).
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL, passed to libpq as given.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError::new("DATABASE_URL", "must not be empty"));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "sqlite:// needs a file path",
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                format!("unsupported scheme '{scheme}' (use postgres://, postgresql://, sqlite:// or a file path)"),
            ));
        }
        if raw == ":memory:" {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "an in-memory SQLite database is not supported (each pooled connection would see its own); use a file path",
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(raw)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

// Never print a PostgreSQL URL whole: it may carry a password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(_) => write!(f, "postgres:[redacted]"),
        }
    }
}

/// Secret bytes that never appear in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// The first administrator, created at start when no admin exists.
#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub email: EmailAddress,
    pub password: NewPassword,
}

/// The notification worker and its SMTP transport.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// `smtp://`, `smtp://…?tls=required` (STARTTLS), `smtps://`; email is off when unset.
    pub smtp_url: Option<String>,
    /// The From address of every email.
    pub mail_from: String,
    pub smtp_timeout: Duration,
    /// SMTP connections kept open and reused.
    pub smtp_pool_size: u32,
    /// The address learners' links (unsubscribe) point to.
    pub public_url: String,
    /// Whether `serve` delivers notifications too (`skillpath worker` does it alone).
    pub worker_in_serve: bool,
    /// Whether `serve` runs queued jobs too (`skillpath worker` always does).
    pub jobs_in_serve: bool,
    /// How often an idle worker looks for due rows.
    pub poll_interval: Duration,
    /// Rows claimed at once.
    pub batch_size: u32,
    /// Emails in flight at once per worker.
    pub concurrency: u32,
    /// How long a claimed row stays invisible to other workers.
    pub lease: Duration,
    /// Attempts before a row is dead.
    pub max_attempts: u32,
    /// First retry delay; it doubles per attempt up to `retry_cap`, with jitter.
    pub retry_base: Duration,
    pub retry_cap: Duration,
}

/// Limits on failed logins before answering 429.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    /// `None`: read or generate the secret file beside the database (see `jwt_secret_file`).
    pub jwt_secret: Option<Secret>,
    /// `None`: read or generate the key file beside the database (see `secret_file`).
    /// Encrypts identity numbers and keys their duplicate-detection hash.
    pub data_key: Option<Secret>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub admin: Option<AdminBootstrap>,
    /// How notifications are delivered: SMTP, the worker's pace, retries.
    pub notify: NotifySettings,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub login_limits: LoginLimits,
    /// Unknown share codes an HR account (or a client address) may try before 429.
    pub share_code_limits: LoginLimits,
    pub trust_proxy_headers: bool,
    /// How many proxies of ours stand in front: the client address is the entry this many places
    /// from the right of `X-Forwarded-For` (each proxy appends the address it saw; anything further
    /// left was written by the client).
    pub trusted_proxy_hops: usize,
    pub log_format: LogFormat,
    /// How long one-time account links stay usable.
    pub account_links: AccountLinkSettings,
}

/// Lifetimes of one-time account links.
#[derive(Debug, Clone, Copy)]
pub struct AccountLinkSettings {
    /// An invitation to activate a learner's account (`SKILLPATH_INVITATION_HOURS`, 72).
    pub invitation_ttl: Duration,
    /// A password reset (`SKILLPATH_PASSWORD_RESET_MINUTES`, 30).
    pub reset_ttl: Duration,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database =
            DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "./skillpath.db".into()))?;

        let bind_raw = get("SKILLPATH_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_raw.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "SKILLPATH_BIND",
                format!("'{bind_raw}' is not an address:port such as 127.0.0.1:8080"),
            )
        })?;

        let jwt_secret = secret(&get, "SKILLPATH_JWT_SECRET")?;
        let data_key = secret(&get, "SKILLPATH_DATA_KEY")?;

        let admin = match (
            get("SKILLPATH_ADMIN_EMAIL"),
            lookup("SKILLPATH_ADMIN_PASSWORD").filter(|v| !v.is_empty()),
        ) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "SKILLPATH_ADMIN_PASSWORD",
                    "must be set together with SKILLPATH_ADMIN_EMAIL",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "SKILLPATH_ADMIN_EMAIL",
                    "must be set together with SKILLPATH_ADMIN_PASSWORD",
                ))
            }
            (Some(email), Some(password)) => Some(AdminBootstrap {
                email: EmailAddress::parse(&email)
                    .map_err(|m| ConfigError::new("SKILLPATH_ADMIN_EMAIL", m))?,
                password: NewPassword::parse(&password)
                    .map_err(|m| ConfigError::new("SKILLPATH_ADMIN_PASSWORD", m))?,
            }),
        };

        let smtp_url = match get("SMTP_URL") {
            None => None,
            Some(url) => {
                let url = url.trim().to_owned();
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(ConfigError::new(
                        "SMTP_URL",
                        "must start with smtp:// or smtps://",
                    ));
                }
                // The transport's own parser decides (host, port, tls=required|opportunistic);
                // its message never holds the password.
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url)
                    .map_err(|e| ConfigError::new("SMTP_URL", e.to_string()))?;
                Some(url)
            }
        };

        let notify = NotifySettings {
            smtp_url,
            mail_from: match get("SMTP_FROM") {
                None => "Skillpath <no-reply@skillpath.invalid>".into(),
                Some(from) => {
                    let from = from.trim().to_owned();
                    from.parse::<lettre::message::Mailbox>().map_err(|_| {
                        ConfigError::new(
                            "SMTP_FROM",
                            format!("'{from}' is not an address such as Skillpath <no-reply@example.cn>"),
                        )
                    })?;
                    from
                }
            },
            smtp_timeout: Duration::from_secs(number(&get, "SMTP_TIMEOUT_SECS", 10, 1..=300)?),
            smtp_pool_size: number(&get, "SMTP_POOL_SIZE", 16, 1..=64)? as u32,
            public_url: match get("SKILLPATH_PUBLIC_URL") {
                None => format!("http://{bind}"),
                Some(url) => {
                    let url = url.trim().trim_end_matches('/').to_owned();
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(ConfigError::new(
                            "SKILLPATH_PUBLIC_URL",
                            "must start with http:// or https://",
                        ));
                    }
                    url
                }
            },
            worker_in_serve: boolean(&get, "SKILLPATH_WORKER_IN_SERVE", true)?,
            jobs_in_serve: boolean(&get, "SKILLPATH_JOBS_IN_SERVE", true)?,
            poll_interval: Duration::from_millis(number(
                &get,
                "SKILLPATH_WORKER_POLL_MS",
                1_000,
                10..=60_000,
            )?),
            batch_size: number(&get, "SKILLPATH_WORKER_BATCH", 100, 1..=1_000)? as u32,
            concurrency: number(&get, "SKILLPATH_WORKER_CONCURRENCY", 16, 1..=64)? as u32,
            lease: Duration::from_secs(number(
                &get,
                "SKILLPATH_NOTIFY_LEASE_SECS",
                120,
                1..=3_600,
            )?),
            max_attempts: number(&get, "SKILLPATH_NOTIFY_MAX_ATTEMPTS", 8, 1..=50)? as u32,
            retry_base: Duration::from_millis(number(
                &get,
                "SKILLPATH_NOTIFY_RETRY_BASE_MS",
                30_000,
                10..=3_600_000,
            )?),
            retry_cap: Duration::from_secs(number(
                &get,
                "SKILLPATH_NOTIFY_RETRY_CAP_SECS",
                6 * 3_600,
                1..=7 * 86_400,
            )?),
        };

        let default_pool = match database {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 16,
        };

        Ok(Self {
            database,
            bind,
            jwt_secret,
            data_key,
            jwt_issuer: get("SKILLPATH_JWT_ISSUER").unwrap_or_else(|| "skillpath".into()),
            jwt_audience: get("SKILLPATH_JWT_AUDIENCE").unwrap_or_else(|| "skillpath-api".into()),
            access_token_ttl: Duration::from_secs(number(
                &get,
                "SKILLPATH_ACCESS_TOKEN_TTL_SECS",
                900,
                60..=86_400,
            )?),
            refresh_token_ttl: Duration::from_secs(number(
                &get,
                "SKILLPATH_REFRESH_TOKEN_TTL_SECS",
                30 * 86_400,
                300..=365 * 86_400,
            )?),
            admin,
            notify,
            account_links: AccountLinkSettings {
                invitation_ttl: Duration::from_secs(
                    3_600 * number(&get, "SKILLPATH_INVITATION_HOURS", 72, 1..=30 * 24)?,
                ),
                reset_ttl: Duration::from_secs(
                    60 * number(&get, "SKILLPATH_PASSWORD_RESET_MINUTES", 30, 5..=24 * 60)?,
                ),
            },
            pool_size: number(&get, "SKILLPATH_DB_POOL_SIZE", default_pool, 1..=256)? as u32,
            pool_timeout: Duration::from_millis(number(
                &get,
                "SKILLPATH_DB_POOL_TIMEOUT_MS",
                2_000,
                100..=30_000,
            )?),
            login_limits: LoginLimits {
                max_failures_per_account: number(
                    &get,
                    "SKILLPATH_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                    5,
                    1..=1_000,
                )? as u32,
                max_failures_per_address: number(
                    &get,
                    "SKILLPATH_LOGIN_MAX_FAILURES_PER_ADDRESS",
                    20,
                    1..=100_000,
                )? as u32,
                window: Duration::from_secs(number(
                    &get,
                    "SKILLPATH_LOGIN_WINDOW_SECS",
                    900,
                    1..=86_400,
                )?),
            },
            share_code_limits: LoginLimits {
                max_failures_per_account: number(
                    &get,
                    "SKILLPATH_SHARE_CODE_MAX_FAILURES_PER_ACCOUNT",
                    10,
                    1..=1_000,
                )? as u32,
                max_failures_per_address: number(
                    &get,
                    "SKILLPATH_SHARE_CODE_MAX_FAILURES_PER_ADDRESS",
                    30,
                    1..=100_000,
                )? as u32,
                window: Duration::from_secs(number(
                    &get,
                    "SKILLPATH_SHARE_CODE_WINDOW_SECS",
                    900,
                    1..=86_400,
                )?),
            },
            trust_proxy_headers: boolean(&get, "SKILLPATH_TRUST_PROXY_HEADERS", false)?,
            trusted_proxy_hops: number(&get, "SKILLPATH_TRUSTED_PROXY_HOPS", 1, 1..=10)? as usize,
            log_format: match get("SKILLPATH_LOG_FORMAT").as_deref().map(str::trim) {
                None | Some("json") => LogFormat::Json,
                Some("text") => LogFormat::Text,
                Some(other) => {
                    return Err(ConfigError::new(
                        "SKILLPATH_LOG_FORMAT",
                        format!("'{other}' is neither 'json' nor 'text'"),
                    ))
                }
            },
        })
    }

    /// Where a generated secret named `name` lives when its variable is unset: beside the
    /// SQLite file, or in the working directory for PostgreSQL.
    pub fn secret_file(&self, name: &str) -> PathBuf {
        let dir = match &self.database {
            DatabaseUrl::Sqlite(path) => path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| Path::new(".")),
            DatabaseUrl::Postgres(_) => Path::new("."),
        };
        dir.join(format!("skillpath.{name}"))
    }
}

/// Minimum length of a configured secret (the HMAC and AEAD keys derived from it are 32 bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// A secret's value: its bytes as written, or after `base64:` the bytes it encodes (how
/// `skillpath export-secrets` writes a secret the service generated into a file, whose bytes
/// are random).
fn secret(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    use base64::Engine;
    let Some(value) = get(variable) else {
        return Ok(None);
    };
    let bytes = match value.strip_prefix(BASE64_SECRET_PREFIX) {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ConfigError::new(variable, "is not valid base64 after 'base64:'"))?,
        None => value.into_bytes(),
    };
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::new(
            variable,
            format!("must be at least {MIN_SECRET_BYTES} bytes long"),
        ));
    }
    Ok(Some(Secret::new(bytes)))
}

/// Marks a secret's value as base64 (see [`secret`]).
pub const BASE64_SECRET_PREFIX: &str = "base64:";

fn number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    let value = raw
        .trim()
        .parse::<u64>()
        .map_err(|_| ConfigError::new(variable, format!("'{raw}' is not a whole number")))?;
    if !range.contains(&value) {
        return Err(ConfigError::new(
            variable,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(variable).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ConfigError::new(
            variable,
            format!("'{other}' is not true or false"),
        )),
    }
}

/// Memory, in KiB, that the uploads of one process may hold at once (256 MiB); past it, an
/// upload answers 503 with `Retry-After`.
pub const UPLOAD_MEMORY_KIB: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database, DatabaseUrl::Sqlite("./skillpath.db".into()));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert!(s.jwt_secret.is_none());
        assert!(s.admin.is_none());
        assert_eq!(s.pool_timeout, Duration::from_secs(2));
        assert_eq!(
            s.secret_file("jwt-secret"),
            PathBuf::from("./skillpath.jwt-secret")
        );
        let s = settings(&[("DATABASE_URL", "/var/lib/sp/app.db")]).unwrap();
        assert_eq!(
            s.secret_file("data-key"),
            PathBuf::from("/var/lib/sp/skillpath.data-key")
        );
    }

    #[test]
    fn database_url_schemes() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        let err = DatabaseUrl::parse("mysql://h/db").unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
        assert!(DatabaseUrl::parse(":memory:").is_err());
    }

    #[test]
    fn errors_name_the_variable() {
        let err = settings(&[("SKILLPATH_BIND", "nowhere")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_BIND");
        assert!(err
            .to_string()
            .starts_with("configuration error: SKILLPATH_BIND:"));

        let err = settings(&[("SKILLPATH_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_JWT_SECRET");
        let err = settings(&[("SKILLPATH_DATA_KEY", "short")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_DATA_KEY");
        // A generated secret moves into the environment as base64 of its bytes.
        let bytes: Vec<u8> = (0..64).map(|i| (i * 37 % 256) as u8).collect();
        use base64::Engine;
        let encoded = format!(
            "base64:{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        let s = settings(&[("SKILLPATH_DATA_KEY", &encoded)]).unwrap();
        assert_eq!(s.data_key.unwrap().expose(), &bytes[..]);
        let err = settings(&[("SKILLPATH_DATA_KEY", "base64:not base64 at all!")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_DATA_KEY");
        let err = settings(&[("SKILLPATH_DATA_KEY", "base64:c2hvcnQ=")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_DATA_KEY");

        let err = settings(&[("SKILLPATH_ADMIN_EMAIL", "a@b.cn")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_ADMIN_PASSWORD");

        let err = settings(&[
            ("SKILLPATH_ADMIN_EMAIL", "not-an-email"),
            ("SKILLPATH_ADMIN_PASSWORD", "long enough password"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_ADMIN_EMAIL");

        let err = settings(&[("SMTP_URL", "http://mail")]).unwrap_err();
        assert_eq!(err.variable, "SMTP_URL");

        let err = settings(&[("SKILLPATH_DB_POOL_SIZE", "0")]).unwrap_err();
        assert_eq!(err.variable, "SKILLPATH_DB_POOL_SIZE");
    }

    #[test]
    fn secrets_and_urls_are_redacted_in_debug() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            (
                "SKILLPATH_JWT_SECRET",
                "0123456789abcdef0123456789abcdef-secret",
            ),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("0123456789abcdef"));
    }
}
