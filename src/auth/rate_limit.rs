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
use crate::error::AppError;

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

    /// The key of an account: its name, or for a name longer than any real one (a login may send
    /// anything) its SHA-256, so that a client cannot make the limiter hold megabytes.
    fn account_key(account: &str) -> String {
        if account.len() <= 254 {
            format!("account:{account}")
        } else {
            use sha2::Digest;
            format!(
                "account#{}",
                hex::encode(sha2::Sha256::digest(account.as_bytes()))
            )
        }
    }

    fn address_key(address: &str) -> String {
        format!("address:{address}")
    }

    fn keys(account: &str, address: &str) -> [(String, u32); 2] {
        [
            (Self::account_key(account), 0),
            (Self::address_key(address), 1),
        ]
    }

    /// Takes `n` failures at once, under the lock, if both keys have that many left; otherwise
    /// takes none and refuses with 429 (e.g. the refused matches of one import batch: a batch
    /// that would exceed the allowance tells nothing). Concurrent takers cannot together exceed
    /// the limit.
    pub fn take(&self, account: &str, address: &str, n: u32) -> Result<(), AppError> {
        if n == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        for (key, which) in Self::keys(account, address) {
            if let Some(w) = windows.get(&key) {
                let elapsed = now.duration_since(w.started);
                if elapsed < self.limits.window && w.failures.saturating_add(n) > self.limit(which)
                {
                    wait = wait.max(self.limits.window - elapsed);
                }
            } else if n > self.limit(which) {
                wait = self.limits.window;
            }
        }
        if wait > Duration::ZERO {
            return Err(AppError::TooManyRequests { retry_after: wait });
        }
        self.count(&mut windows, account, address, n, now);
        Ok(())
    }

    /// How long until neither key is at its limit.
    fn wait(
        &self,
        windows: &HashMap<String, Window>,
        account: &str,
        address: &str,
        now: Instant,
    ) -> Duration {
        let mut wait = Duration::ZERO;
        for (key, which) in Self::keys(account, address) {
            if let Some(w) = windows.get(&key) {
                let elapsed = now.duration_since(w.started);
                if elapsed < self.limits.window && w.failures >= self.limit(which) {
                    wait = wait.max(self.limits.window - elapsed);
                }
            }
        }
        wait
    }

    fn count(
        &self,
        windows: &mut HashMap<String, Window>,
        account: &str,
        address: &str,
        n: u32,
        now: Instant,
    ) {
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
            w.failures = w.failures.saturating_add(n);
        }
    }

    fn limit(&self, which: u32) -> u32 {
        if which == 0 {
            self.limits.max_failures_per_account
        } else {
            self.limits.max_failures_per_address
        }
    }

    /// Begins an attempt: refuses with 429 while either the account or the address is at its
    /// limit, and otherwise counts the attempt as a failure at once, under the same lock. A
    /// check and a later count would let concurrent attempts all pass the check before any of
    /// them is counted; counting first means at most `limit` attempts are ever tried.
    /// The attempt stays counted unless [`Attempt::succeeded`] is called.
    pub fn attempt<'a>(&'a self, account: &str, address: &str) -> Result<Attempt<'a>, AppError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let wait = self.wait(&windows, account, address, now);
        if wait > Duration::ZERO {
            return Err(AppError::TooManyRequests { retry_after: wait });
        }
        self.count(&mut windows, account, address, 1, now);
        Ok(Attempt {
            limiter: self,
            account: account.to_owned(),
            address: address.to_owned(),
        })
    }
}

/// One counted attempt. Dropping it leaves it counted as a failure (whatever ended the request:
/// a wrong password, an unknown code, an error on the way).
#[must_use = "an attempt is a failure unless `succeeded` is called"]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    account: String,
    address: String,
}

impl Attempt<'_> {
    /// The attempt succeeded (a login): the account's count is cleared and the address's attempt
    /// uncounted.
    pub fn succeeded(self) {
        let mut windows = self
            .limiter
            .windows
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        windows.remove(&LoginLimiter::account_key(&self.account));
        if let Some(w) = windows.get_mut(&LoginLimiter::address_key(&self.address)) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    /// The attempt was not a failure, but clears nothing else (a share code that exists: earlier
    /// guesses stay counted).
    pub fn not_a_failure(self) {
        let mut windows = self
            .limiter
            .windows
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for key in [
            LoginLimiter::account_key(&self.account),
            LoginLimiter::address_key(&self.address),
        ] {
            if let Some(w) = windows.get_mut(&key) {
                w.failures = w.failures.saturating_sub(1);
            }
        }
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

    fn fail(l: &LoginLimiter, account: &str, address: &str) {
        drop(l.attempt(account, address).unwrap());
    }

    #[test]
    fn account_locks_after_its_limit() {
        let l = limiter(60_000);
        for _ in 0..3 {
            fail(&l, "a@x.cn", "1.2.3.4");
        }
        let err = l.attempt("a@x.cn", "5.6.7.8").err().unwrap();
        assert!(matches!(err, AppError::TooManyRequests { .. }));
        // Another account from another address is unaffected.
        l.attempt("b@x.cn", "5.6.7.8").unwrap().succeeded();
    }

    #[test]
    fn address_locks_across_accounts() {
        let l = limiter(60_000);
        for i in 0..5 {
            fail(&l, &format!("u{i}@x.cn"), "9.9.9.9");
        }
        assert!(l.attempt("fresh@x.cn", "9.9.9.9").is_err());
    }

    #[test]
    fn window_expires_and_success_clears() {
        let l = limiter(30);
        for _ in 0..3 {
            fail(&l, "a@x.cn", "1.1.1.1");
        }
        assert!(l.attempt("a@x.cn", "1.1.1.1").is_err());
        std::thread::sleep(Duration::from_millis(40));
        l.attempt("a@x.cn", "1.1.1.1").unwrap().succeeded();

        let l = limiter(60_000);
        fail(&l, "a@x.cn", "1.1.1.1");
        fail(&l, "a@x.cn", "1.1.1.1");
        l.attempt("a@x.cn", "1.1.1.1").unwrap().succeeded();
        fail(&l, "a@x.cn", "1.1.1.1");
        l.attempt("a@x.cn", "1.1.1.1").unwrap().succeeded();
    }

    #[test]
    fn concurrent_attempts_never_exceed_the_limit() {
        // Attempts held open at once (as concurrent requests are) are each counted on entry.
        let l = limiter(60_000);
        let held: Vec<_> = (0..60)
            .filter_map(|_| l.attempt("a@x.cn", "2.2.2.2").ok())
            .collect();
        assert_eq!(
            held.len(),
            3,
            "only the account's limit of attempts may proceed"
        );
    }

    #[test]
    fn successes_do_not_use_up_the_address() {
        let l = limiter(60_000);
        for i in 0..20 {
            l.attempt(&format!("u{i}@x.cn"), "3.3.3.3")
                .unwrap()
                .succeeded();
        }
        l.attempt("another@x.cn", "3.3.3.3").unwrap().succeeded();
    }

    #[test]
    fn a_known_code_does_not_clear_earlier_guesses() {
        let l = limiter(60_000);
        fail(&l, "hr", "1.1.1.1");
        fail(&l, "hr", "1.1.1.1");
        l.attempt("hr", "1.1.1.1").unwrap().not_a_failure();
        fail(&l, "hr", "1.1.1.1");
        assert!(
            l.attempt("hr", "1.1.1.1").is_err(),
            "three guesses, whatever came between"
        );
    }

    #[test]
    fn taking_many_at_once_is_all_or_nothing() {
        let l = limiter(60_000);
        l.take("staff", "6.6.6.6", 2).unwrap();
        assert!(l.take("staff", "6.6.6.6", 2).is_err(), "only one is left");
        l.take("staff", "6.6.6.6", 1).unwrap();
        assert!(l.take("staff", "6.6.6.6", 1).is_err());
        assert!(
            l.take("fresh", "7.7.7.7", 4).is_err(),
            "more than the limit at once"
        );
        l.take("fresh", "7.7.7.7", 0).unwrap();
        // Once taken, failures lock like single ones.
        assert!(l.attempt("staff", "8.8.8.8").is_err());
    }

    #[test]
    fn long_account_names_are_kept_short() {
        let long = "x".repeat(1_000_000);
        assert!(LoginLimiter::account_key(&long).len() < 100);
        assert_ne!(
            LoginLimiter::account_key(&long),
            LoginLimiter::account_key(&"y".repeat(1_000_000))
        );
    }
}
