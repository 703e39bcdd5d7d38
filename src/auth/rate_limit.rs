//! Limits on what a client may try: failed logins, unknown share codes, password-reset requests
//! ([`FailureLimiter`], counted in the database, so that every replica counts against the same
//! allowance) and the refused matches of registrations and imports ([`RefusalAllowance`],
//! counted in each process's memory; see there why).
//!
//! Each limit is a fixed window that starts at the first counted attempt. Once a key reaches its
//! limit, further attempts get 429 until the window ends, before any password is checked (so a
//! locked account costs no hashing).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{LoginLimits, Secret};
use crate::db::allowances::{self, Counted};
use crate::db::{self, Database};
use crate::error::AppError;

/// A limit on failures per account and per client address, shared by every process on the
/// database. The rows hold a keyed hash of the account and the address, never the values: what
/// a limit counts is nobody's business once its window has ended (the daily purge deletes it).
pub struct FailureLimiter {
    /// Which limit ("login", "share-code", "reset"): the same account counts apart in each.
    name: &'static str,
    limits: LoginLimits,
    db: Database,
    key: [u8; 32],
}

impl FailureLimiter {
    pub fn new(
        name: &'static str,
        limits: LoginLimits,
        db: Database,
        data_key: &Secret,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            name,
            limits,
            db,
            key: crate::crypto::hmac(data_key.expose(), b"skillpath/allowance-windows/v1")?,
        })
    }

    fn key_of(&self, kind: &str, value: &str) -> Result<String, AppError> {
        let text = format!("{}\u{0}{kind}\u{0}{value}", self.name);
        crate::crypto::hmac(&self.key, text.as_bytes())
            .map(hex::encode)
            .map_err(|e| AppError::internal("allowance key", e))
    }

    /// Begins an attempt: refuses with 429 while either the account or the address is at its
    /// limit, and otherwise counts the attempt as a failure at once, in the same transaction. A
    /// check and a later count would let concurrent attempts all pass the check before any of
    /// them is counted; counting first means at most `limit` attempts are ever tried, however
    /// many replicas receive them. The attempt stays counted unless [`Attempt::succeeded`] or
    /// [`Attempt::not_a_failure`] says otherwise.
    pub async fn attempt(&self, account: &str, address: &str) -> Result<Attempt, AppError> {
        let account_key = self.key_of("account", account)?;
        let address_key = self.key_of("address", address)?;
        let limits = self.limits;
        let keys = [
            (account_key.clone(), limits.max_failures_per_account),
            (address_key.clone(), limits.max_failures_per_address),
        ];
        let again = keys.clone();
        // A key at its limit is refused by a read, without the write lock (on SQLite the one
        // writer of the whole database): a client hammering a locked account costs no write.
        let locked = self
            .db
            .read(move |conn| {
                let now = db::now();
                Ok((
                    allowances::refused_until(conn, &as_counted(&keys), now)?,
                    now,
                ))
            })
            .await?;
        if let (Some(ends_at), now) = locked {
            return Err(too_many(ends_at, now));
        }
        self.db
            .write(move |conn| {
                let now = db::now();
                let window = chrono::Duration::from_std(limits.window)
                    .map_err(|e| AppError::internal("allowance window", e))?;
                match allowances::take(conn, &as_counted(&again), 1, now, now + window)? {
                    None => {
                        allowances::sweep(conn, now)?;
                        Ok(())
                    }
                    // The error rolls the count back.
                    Some(ends_at) => Err(too_many(ends_at, now)),
                }
            })
            .await?;
        Ok(Attempt {
            db: self.db.clone(),
            account_key,
            address_key,
        })
    }
}

fn as_counted(keys: &[(String, u32); 2]) -> [Counted<'_>; 2] {
    [
        Counted {
            key: &keys[0].0,
            limit: keys[0].1,
        },
        Counted {
            key: &keys[1].0,
            limit: keys[1].1,
        },
    ]
}

/// The refusal while a window that ends at `ends_at` is full.
fn too_many(ends_at: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> AppError {
    AppError::TooManyRequests {
        retry_after: (ends_at - now).to_std().unwrap_or(Duration::from_secs(1)),
    }
}

/// One counted attempt. Dropping it leaves it counted as a failure (whatever ended the request:
/// a wrong password, an unknown code, an error on the way).
#[must_use = "an attempt is a failure unless `succeeded` or `not_a_failure` is called"]
pub struct Attempt {
    db: Database,
    account_key: String,
    address_key: String,
}

impl Attempt {
    /// The attempt succeeded (a login): the account's failures are cleared and the address's
    /// attempt given back. A failure to write it is logged: the login stands.
    pub async fn succeeded(self) {
        self.settle(true).await;
    }

    /// The attempt was not a failure, but clears nothing else (a share code that exists: earlier
    /// guesses stay counted).
    pub async fn not_a_failure(self) {
        self.settle(false).await;
    }

    async fn settle(self, clear_account: bool) {
        let Attempt {
            db,
            account_key,
            address_key,
        } = self;
        let outcome = db
            .write(move |conn| {
                if clear_account {
                    allowances::clear(conn, &account_key)?;
                    allowances::give_back(conn, &[&address_key])?;
                } else {
                    allowances::give_back(conn, &[&account_key, &address_key])?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = outcome {
            tracing::warn!(%error, "could not settle a counted attempt");
        }
    }
}

/// Refusals one account may collect in a window, counted in memory. They are taken while the
/// request's write transaction is open: counted in that transaction, a refusal would be rolled
/// back with the request it refuses, and counted in another one, it would wait on SQLite for
/// the write lock the request holds. With N replicas an account may collect up to N times the
/// limit (see docs/operations.md, "Replicas").
pub struct RefusalAllowance {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug)]
struct Window {
    used: u32,
    started: Instant,
}

/// Past this many tracked accounts, ended windows are swept on the next take.
const SWEEP_THRESHOLD: usize = 10_000;

impl RefusalAllowance {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `n` at once if the account has that many left; otherwise takes none and refuses
    /// with 429 (a batch that would exceed the allowance tells nothing). Concurrent takers
    /// cannot together exceed the limit.
    pub fn take(&self, account: &str, n: u32) -> Result<(), AppError> {
        if n == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_THRESHOLD {
            let window = self.window;
            windows.retain(|_, w| now.duration_since(w.started) < window);
        }
        let w = windows.entry(account.to_owned()).or_insert(Window {
            used: 0,
            started: now,
        });
        let elapsed = now.duration_since(w.started);
        if elapsed >= self.window {
            *w = Window {
                used: 0,
                started: now,
            };
        }
        if w.used.saturating_add(n) > self.limit {
            let wait = if w.used == 0 {
                self.window
            } else {
                self.window.saturating_sub(now.duration_since(w.started))
            };
            return Err(AppError::TooManyRequests { retry_after: wait });
        }
        w.used = w.used.saturating_add(n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taking_many_at_once_is_all_or_nothing() {
        let l = RefusalAllowance::new(3, Duration::from_secs(60));
        l.take("staff", 2).unwrap();
        assert!(l.take("staff", 2).is_err(), "only one is left");
        l.take("staff", 1).unwrap();
        assert!(l.take("staff", 1).is_err());
        assert!(l.take("fresh", 4).is_err(), "more than the limit at once");
        l.take("fresh", 0).unwrap();
        l.take("fresh", 3).unwrap();
    }

    #[test]
    fn a_window_ends() {
        let l = RefusalAllowance::new(1, Duration::from_millis(30));
        l.take("staff", 1).unwrap();
        assert!(l.take("staff", 1).is_err());
        std::thread::sleep(Duration::from_millis(40));
        l.take("staff", 1).unwrap();
    }
}
