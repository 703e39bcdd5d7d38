//! Failed-login limiter: per account and per client address, a fixed window that starts at the
//! first failure. Once a key reaches its limit, further attempts get 429 until the window ends,
//! before any password is checked (so a locked account costs no hashing).
//!
//! State is in memory, per process: with several replicas behind a balancer each counts its
//! own failures, which loosens the limit by the number of replicas.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::LoginLimits;
use crate::error::ApiError;

/// Past this many tracked keys, expired windows are swept on the next failure.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Debug)]
struct Window {
    failures: u32,
    started: Instant,
}

pub struct LoginLimiter {
    limits: LoginLimits,
    windows: Mutex<HashMap<String, Window>>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: &str) -> [(String, u32); 2] {
        [
            (format!("account:{account}"), 0),
            (format!("address:{address}"), 1),
        ]
    }

    fn limit(&self, which: u32) -> u32 {
        if which == 0 {
            self.limits.max_failures_per_account
        } else {
            self.limits.max_failures_per_address
        }
    }

    /// Refuses with 429 while either the account or the address is over its limit.
    pub fn check(&self, account: &str, address: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        for (key, which) in Self::keys(account, address) {
            if let Some(w) = windows.get(&key) {
                let elapsed = now.duration_since(w.started);
                if elapsed < self.limits.window && w.failures >= self.limit(which) {
                    wait = wait.max(self.limits.window - elapsed);
                }
            }
        }
        if wait > Duration::ZERO {
            return Err(ApiError::TooManyRequests { retry_after: wait });
        }
        Ok(())
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_THRESHOLD {
            let window = self.limits.window;
            windows.retain(|_, w| now.duration_since(w.started) < window);
        }
        for (key, _) in Self::keys(account, address) {
            let w = windows.entry(key).or_insert(Window {
                failures: 0,
                started: now,
            });
            if now.duration_since(w.started) >= self.limits.window {
                *w = Window {
                    failures: 0,
                    started: now,
                };
            }
            w.failures += 1;
        }
    }

    /// A successful login clears the account's count (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(window_ms: u64) -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            max_failures_per_account: 3,
            max_failures_per_address: 5,
            window: Duration::from_millis(window_ms),
        })
    }

    #[test]
    fn account_locks_after_its_limit() {
        let l = limiter(60_000);
        for _ in 0..3 {
            l.check("a@x.cn", "1.2.3.4").unwrap();
            l.record_failure("a@x.cn", "1.2.3.4");
        }
        let err = l.check("a@x.cn", "5.6.7.8").unwrap_err();
        assert!(matches!(err, ApiError::TooManyRequests { .. }));
        // Another account from another address is unaffected.
        l.check("b@x.cn", "5.6.7.8").unwrap();
    }

    #[test]
    fn address_locks_across_accounts() {
        let l = limiter(60_000);
        for i in 0..5 {
            l.record_failure(&format!("u{i}@x.cn"), "9.9.9.9");
        }
        assert!(l.check("fresh@x.cn", "9.9.9.9").is_err());
    }

    #[test]
    fn window_expires_and_success_clears() {
        let l = limiter(30);
        for _ in 0..3 {
            l.record_failure("a@x.cn", "1.1.1.1");
        }
        assert!(l.check("a@x.cn", "1.1.1.1").is_err());
        std::thread::sleep(Duration::from_millis(40));
        l.check("a@x.cn", "1.1.1.1").unwrap();

        let l = limiter(60_000);
        l.record_failure("a@x.cn", "1.1.1.1");
        l.record_failure("a@x.cn", "1.1.1.1");
        l.record_success("a@x.cn");
        l.record_failure("a@x.cn", "1.1.1.1");
        l.check("a@x.cn", "1.1.1.1").unwrap();
    }
}
