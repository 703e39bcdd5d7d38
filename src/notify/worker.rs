//! The notification worker: claims due outbox rows under a lease, delivers them (inbox rows that
//! were scheduled for later, and email), and records the outcome. Several workers — threads of
//! `serve` replicas or `skillpath worker` processes — share one queue: a claimed row is invisible
//! to the others until its lease ends, so a row is sent once, or, when a worker dies between
//! sending and recording, once more after the lease with the same Message-ID.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use futures_util::stream::{self, StreamExt};
use rand::Rng;

use super::email::{self, Addressee, Mailer, SendError};
use super::preferences::Preferences;
use crate::config::NotifySettings;
use crate::db::notifications::{self, NewInboxMessage, OutboxRow, Settlement};
use crate::db::Database;
use crate::db::{self, learners, users, DbConnection};
use crate::domain::{Category, Channel, Language, LearnerId, OutboxStatus, UserId};
use crate::error::AppError;
use crate::metrics::NotifyMetrics;
use crate::notify::unsubscribe::UnsubscribeKeys;

/// The delay before attempt `attempt + 1`: `base · 2^(attempt-1)` capped at `cap`, then a random
/// point in its upper half, so that rows failing together do not return together.
pub fn retry_delay(attempt: u32, base: Duration, cap: Duration, rng: &mut impl Rng) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exponent).min(cap);
    let half = full / 2;
    half + full.mul_f64(rng.gen_range(0.0..=0.5))
}

/// What became of one claimed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry,
    Dead,
    Withdrawn,
    /// Not attempted: the lease was about to run out; the row returns to the queue.
    Skipped,
}

/// Counts of one round's outcomes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub withdrawn: usize,
}

/// The email rows' recipients: where and how to write to them, and (learners) their preferences.
type Recipients = HashMap<notifications::Recipient, (Addressee, Option<Preferences>)>;

/// What a worker needs: the database, its settings, the keys of unsubscribe links and the
/// counters it keeps.
pub struct WorkerContext {
    pub db: Database,
    pub settings: NotifySettings,
    pub unsubscribe: UnsubscribeKeys,
    pub metrics: NotifyMetrics,
    /// Opens the sealed tokens of account links' emails.
    pub link_vault: crate::crypto::KeyVault,
}

pub struct Worker {
    state: WorkerContext,
    mailer: Option<Arc<Mailer>>,
}

impl Worker {
    /// A worker for this configuration; email is off when `SMTP_URL` is unset, and it says so.
    pub fn new(state: WorkerContext) -> anyhow::Result<Self> {
        let mailer = Mailer::from_settings(&state.settings)?.map(Arc::new);
        if mailer.is_none() {
            tracing::warn!(
                "email is off: SMTP_URL is not set; notifications reach the in-app inbox only and email rows wait in the outbox"
            );
        }
        Ok(Self { state, mailer })
    }

    fn channels(&self) -> &'static [Channel] {
        if self.mailer.is_some() {
            &[Channel::Inbox, Channel::Email]
        } else {
            &[Channel::Inbox]
        }
    }

    /// Runs rounds until `stop` completes; sleeps between rounds only when there was nothing to do.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let poll = self.state.settings.poll_interval;
        loop {
            let idle = match self.run_once().await {
                Ok(round) => round.claimed == 0,
                Err(err) => {
                    tracing::error!(error = ?err, "notification worker round failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(poll) => {}
                }
            } else {
                tokio::select! {
                    biased;
                    _ = &mut stop => return,
                    _ = std::future::ready(()) => {}
                }
            }
        }
    }

    /// Claims one batch of due rows and delivers it.
    pub async fn run_once(&self) -> Result<Round, AppError> {
        let settings = &self.state.settings;
        let now = db::now();
        let lease_until = now + chrono::Duration::from_std(settings.lease).unwrap_or_default();
        let channels = self.channels();
        let limit = i64::from(settings.batch_size);
        let rows = self
            .state
            .db
            .read(move |conn| {
                Ok(notifications::claim_due(
                    conn,
                    channels,
                    now,
                    lease_until,
                    limit,
                )?)
            })
            .await?;
        let mut round = Round {
            claimed: rows.len(),
            ..Round::default()
        };
        if rows.is_empty() {
            return Ok(round);
        }
        let recipients = self.recipients(&rows).await?;
        let recipients = Arc::new(recipients);
        let outcomes: Vec<Result<Outcome, AppError>> = stream::iter(rows)
            .map(|row| {
                let recipients = recipients.clone();
                async move { self.deliver(row, lease_until, &recipients).await }
            })
            .buffer_unordered(settings.concurrency as usize)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome? {
                Outcome::Sent => round.sent += 1,
                Outcome::Retry => round.retried += 1,
                Outcome::Dead => round.dead += 1,
                Outcome::Withdrawn => round.withdrawn += 1,
                Outcome::Skipped => {}
            }
        }
        if round.retried + round.dead > 0 {
            tracing::info!(?round, "notification round");
        }
        Ok(round)
    }

    /// Addresses, names, languages and email preferences of the recipients of the email rows.
    async fn recipients(&self, rows: &[OutboxRow]) -> Result<Recipients, AppError> {
        let email_rows = rows.iter().filter(|r| r.channel == Channel::Email);
        let learner_ids: Vec<LearnerId> = email_rows.clone().filter_map(|r| r.learner_id).collect();
        let user_ids: Vec<UserId> = email_rows.filter_map(|r| r.user_id).collect();
        if learner_ids.is_empty() && user_ids.is_empty() {
            return Ok(Default::default());
        }
        self.state
            .db
            .read(move |conn| {
                let mut found = HashMap::new();
                let mut preferences = super::load_preferences_many(conn, &learner_ids)?;
                for learner in learners::find_many(conn, &learner_ids)? {
                    let Some(address) = learner.email else {
                        continue;
                    };
                    let addressee = Addressee {
                        name: learner.name,
                        email: address,
                        language: learner.preferred_language,
                    };
                    let prefs = preferences.remove(&learner.id).unwrap_or_default();
                    found.insert(
                        notifications::Recipient::Learner(learner.id),
                        (addressee, Some(prefs)),
                    );
                }
                // Staff accounts: their login address, in Chinese; disabled accounts get nothing.
                for user in users::find_many(conn, &user_ids)?
                    .into_iter()
                    .filter(|u| !u.disabled)
                {
                    let addressee = Addressee {
                        name: user.email.clone(),
                        email: user.email,
                        language: Language::ZhCn,
                    };
                    found.insert(notifications::Recipient::User(user.id), (addressee, None));
                }
                Ok(found)
            })
            .await
    }

    async fn deliver(
        &self,
        row: OutboxRow,
        lease_until: NaiveDateTime,
        recipients: &Recipients,
    ) -> Result<Outcome, AppError> {
        // Too close to the end of the lease: another worker may take the row; leave it.
        if db::now() + chrono::Duration::seconds(2) >= lease_until {
            return Ok(Outcome::Skipped);
        }
        if row.channel == Channel::Inbox {
            return self.deliver_to_inbox(row).await;
        }
        let Some(mailer) = &self.mailer else {
            return Ok(Outcome::Skipped);
        };
        let recipient = notifications::Recipient::of(row.learner_id, row.user_id);
        let Some((addressee, prefs)) = recipient.and_then(|r| recipients.get(&r)) else {
            return self
                .finish(
                    row,
                    Outcome::Withdrawn,
                    "no email address (or a disabled account)",
                )
                .await;
        };
        if let Some(prefs) = prefs {
            if !prefs.channels(row.category).email {
                return self
                    .finish(row, Outcome::Withdrawn, "the learner turned this email off")
                    .await;
            }
        }
        // Learners can unsubscribe per category; staff notices (a record they relied on was
        // revoked) are part of their work and have no unsubscribe link.
        let url = match row.learner_id {
            Some(_) if matches!(row.category, Category::Account | Category::Requests) => Ok(None),
            Some(learner) => self
                .state
                .unsubscribe
                .token(learner, row.category)
                .map(|token| {
                    Some(format!(
                        "{}/api/v1/unsubscribe/{token}",
                        self.state.settings.public_url
                    ))
                })
                .map_err(|e| email::Unrenderable(e.to_string())),
            None => Ok(None),
        };
        let public_url = &self.state.settings.public_url;
        let page = match (&row.secret, row.category) {
            (Some(sealed), _) => {
                super::links::url(&self.state.link_vault, public_url, row.kind, sealed)
            }
            (None, Category::Account) => Err("the link's token is gone".to_owned()),
            (None, category) => Ok(format!(
                "{public_url}{}",
                super::page_of(row.learner_id.is_some(), category)
            )),
        };
        let page = match page {
            Ok(page) => page,
            Err(reason) => {
                let reason = format!("cannot be rendered: {reason}");
                return self.finish(row, Outcome::Dead, &reason).await;
            }
        };
        let built = url.and_then(|url| {
            let links = email::Links {
                page: &page,
                unsubscribe: url.as_deref(),
            };
            email::build(&row, addressee, &mailer.from, links)
        });
        let message = match built {
            Ok(message) => message,
            Err(poison) => {
                let reason = format!("cannot be rendered: {poison}");
                return self.finish(row, Outcome::Dead, &reason).await;
            }
        };
        match mailer.send(message).await {
            Ok(()) => self.finish(row, Outcome::Sent, "").await,
            Err(SendError::Permanent(reason)) => {
                let reason = format!("refused by the mail server: {reason}");
                self.finish(row, Outcome::Dead, &reason).await
            }
            Err(SendError::Transient(reason)) => {
                let max = self.state.settings.max_attempts;
                if u32::try_from(row.attempts).unwrap_or(u32::MAX) >= max {
                    let reason = format!("gave up after {max} attempts: {reason}");
                    self.finish(row, Outcome::Dead, &reason).await
                } else {
                    self.finish(row, Outcome::Retry, &reason).await
                }
            }
        }
    }

    /// A scheduled inbox row (a reminder) becomes a message of the learner's inbox.
    async fn deliver_to_inbox(&self, row: OutboxRow) -> Result<Outcome, AppError> {
        let message: super::Message = match serde_json::from_str(&row.payload) {
            Ok(message) => message,
            Err(e) => {
                let reason = format!("payload is not a notice: {e}");
                return self.finish(row, Outcome::Dead, &reason).await;
            }
        };
        let due_at = row.due_at;
        let delivered = self
            .state
            .db
            .write(move |conn| {
                let now = db::now();
                if !notifications::settle(conn, row.id, &Settlement::Sent { at: now })? {
                    return Ok(false);
                }
                notifications::deliver_to_inbox(
                    conn,
                    &NewInboxMessage {
                        learner_id: row.learner_id,
                        user_id: row.user_id,
                        outbox_id: row.id,
                        category: row.category,
                        title_zh: message.title.zh.into_owned(),
                        title_en: message.title.en.into_owned(),
                        body_zh: message.body.zh.into_owned(),
                        body_en: message.body.en.into_owned(),
                        created_at: now,
                    },
                )?;
                Ok(true)
            })
            .await?;
        if delivered {
            self.observe_sent(Channel::Inbox, due_at);
        }
        Ok(Outcome::Sent)
    }

    fn observe_sent(&self, channel: Channel, due_at: NaiveDateTime) {
        let m = &self.state.metrics;
        let channel = channel.as_str();
        m.sent.with_label_values(&[channel]).inc();
        let waited = (db::now() - due_at).num_milliseconds().max(0) as f64 / 1000.0;
        m.latency.with_label_values(&[channel]).observe(waited);
    }

    /// Records an email row's outcome.
    async fn finish(
        &self,
        row: OutboxRow,
        outcome: Outcome,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        let settings = &self.state.settings;
        let m = &self.state.metrics;
        let channel = row.channel;
        let reason = truncate(reason, 1000);
        let (id, due_at) = (row.id, row.due_at);
        let retry_at = db::now()
            + chrono::Duration::from_std(retry_delay(
                u32::try_from(row.attempts).unwrap_or(1),
                settings.retry_base,
                settings.retry_cap,
                &mut rand::thread_rng(),
            ))
            .unwrap_or_default();
        self.state
            .db
            .read(move |conn: &mut DbConnection| {
                match outcome {
                    Outcome::Sent => {
                        notifications::settle(conn, id, &Settlement::Sent { at: db::now() })?
                    }
                    Outcome::Retry => notifications::settle(
                        conn,
                        id,
                        &Settlement::Retry {
                            at: retry_at,
                            error: &reason,
                        },
                    )?,
                    Outcome::Dead => notifications::settle(
                        conn,
                        id,
                        &Settlement::Final {
                            status: OutboxStatus::Dead,
                            error: &reason,
                        },
                    )?,
                    Outcome::Withdrawn => notifications::settle(
                        conn,
                        id,
                        &Settlement::Final {
                            status: OutboxStatus::Withdrawn,
                            error: &reason,
                        },
                    )?,
                    Outcome::Skipped => false,
                };
                Ok(())
            })
            .await?;
        match outcome {
            Outcome::Sent => self.observe_sent(channel, due_at),
            Outcome::Retry => m.failed.with_label_values(&[channel.as_str()]).inc(),
            Outcome::Dead => {
                m.failed.with_label_values(&[channel.as_str()]).inc();
                m.dead.with_label_values(&[channel.as_str()]).inc();
                tracing::warn!(notification = %id, "notification is dead");
            }
            Outcome::Withdrawn | Outcome::Skipped => {}
        }
        Ok(outcome)
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn retry_delays_grow_exponentially_within_the_cap_with_jitter() {
        let base = Duration::from_secs(30);
        let cap = Duration::from_secs(3600);
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..=20u32 {
            let full = (base * 2u32.pow(attempt.min(20) - 1)).min(cap);
            for _ in 0..50 {
                let d = retry_delay(attempt, base, cap, &mut rng);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
        // Jitter: two draws differ.
        let a = retry_delay(3, base, cap, &mut rng);
        let b = retry_delay(3, base, cap, &mut rng);
        assert_ne!(a, b);
    }
}
