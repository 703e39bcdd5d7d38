//! Prometheus metrics: requests by route and status with a latency histogram, pool usage, and
//! the notification outbox (rows waiting and dead, read from the database at scrape time, so
//! every replica reports the whole queue) with this process's deliveries, and the job queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::Database;

/// Time spent writing notifications inside the transactions that cause them, and how often:
/// process-wide counters, since the code that produces notices runs deep inside transactions
/// that do not hold the metrics (see `producing`).
static PRODUCE_NANOS: AtomicU64 = AtomicU64::new(0);
static PRODUCE_CALLS: AtomicU64 = AtomicU64::new(0);

/// Runs `f`, which writes notifications, and counts the time it took.
pub fn producing<T>(f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    PRODUCE_NANOS.fetch_add(nanos, Ordering::Relaxed);
    PRODUCE_CALLS.fetch_add(1, Ordering::Relaxed);
    out
}

/// Progress answers by where they came from: the stored snapshot, or computed.
static PROGRESS_FROM_SNAPSHOT: AtomicU64 = AtomicU64::new(0);
static PROGRESS_COMPUTED: AtomicU64 = AtomicU64::new(0);

/// Counts a progress answer.
pub fn progress_answered(from_snapshot: bool) {
    let counter = if from_snapshot {
        &PROGRESS_FROM_SNAPSHOT
    } else {
        &PROGRESS_COMPUTED
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

pub struct Metrics {
    registry: Registry,
    progress: IntGaugeVec,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    jobs: IntGaugeVec,
    /// Read at scrape time, for alerts: when each kind of job last succeeded, how long the
    /// oldest due notification has waited, when the signing key was made.
    job_success: IntGaugeVec,
    oldest_due: IntGaugeVec,
    signing_key_created: prometheus::IntGauge,
    pub notify: NotifyMetrics,
}

/// What the notification workers of this process did, by channel.
#[derive(Clone)]
pub struct NotifyMetrics {
    pub sent: IntCounterVec,
    pub failed: IntCounterVec,
    pub dead: IntCounterVec,
    pub latency: HistogramVec,
    outbox: IntGaugeVec,
    produce_seconds: prometheus::Gauge,
    produce_calls: prometheus::IntGauge,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("skillpath".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections by state (idle, in_use, max)",
            ),
            &["state"],
        )?;
        let channel = &["channel"];
        let notify = NotifyMetrics {
            sent: IntCounterVec::new(
                Opts::new("notifications_sent_total", "Notifications delivered by this process"),
                channel,
            )?,
            failed: IntCounterVec::new(
                Opts::new(
                    "notifications_failed_total",
                    "Delivery attempts that failed and will be retried",
                ),
                channel,
            )?,
            dead: IntCounterVec::new(
                Opts::new(
                    "notifications_dead_total",
                    "Notifications given up after their last attempt or refused for good",
                ),
                channel,
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "notification_delivery_seconds",
                    "From the time a notification was due to its delivery",
                )
                .buckets(vec![
                    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0,
                ]),
                channel,
            )?,
            outbox: IntGaugeVec::new(
                Opts::new(
                    "notification_outbox_rows",
                    "Outbox rows by channel and state: pending, due (pending and due now: the queue depth) and dead",
                ),
                &["channel", "state"],
            )?,
            produce_seconds: prometheus::Gauge::new(
                "notification_produce_seconds_total",
                "Seconds spent writing notifications inside the requests and jobs that cause them (a counter)",
            )?,
            produce_calls: prometheus::IntGauge::new(
                "notification_produce_calls_total",
                "Times notifications were written inside a request or job (a counter)",
            )?,
        };
        registry.register(Box::new(notify.produce_seconds.clone()))?;
        registry.register(Box::new(notify.produce_calls.clone()))?;
        registry.register(Box::new(notify.sent.clone()))?;
        registry.register(Box::new(notify.failed.clone()))?;
        registry.register(Box::new(notify.dead.clone()))?;
        registry.register(Box::new(notify.latency.clone()))?;
        registry.register(Box::new(notify.outbox.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        let jobs = IntGaugeVec::new(
            Opts::new(
                "jobs",
                "Queued jobs by kind and state (pending, due, running, failed), read at scrape time",
            ),
            &["kind", "state"],
        )?;
        registry.register(Box::new(jobs.clone()))?;
        let progress = IntGaugeVec::new(
            Opts::new(
                "progress_answers_total",
                "Progress answers (API and page) by source: snapshot (stored, still true) or computed (a counter)",
            ),
            &["source"],
        )?;
        registry.register(Box::new(progress.clone()))?;
        let job_success = IntGaugeVec::new(
            Opts::new(
                "job_last_success_timestamp_seconds",
                "When a job of each kind last finished successfully (Unix time)",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(job_success.clone()))?;
        let oldest_due = IntGaugeVec::new(
            Opts::new(
                "notification_oldest_due_seconds",
                "How long the oldest notification due for delivery has waited, by channel (0: none)",
            ),
            &["channel"],
        )?;
        registry.register(Box::new(oldest_due.clone()))?;
        let signing_key_created = prometheus::IntGauge::new(
            "signing_key_created_timestamp_seconds",
            "When the key that signs shared statements now was made (Unix time; 0: none yet)",
        )?;
        registry.register(Box::new(signing_key_created.clone()))?;
        Ok(Self {
            registry,
            progress,
            requests,
            latency,
            pool,
            jobs,
            job_success,
            oldest_due,
            signing_key_created,
            notify,
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text exposition format, with pool and outbox gauges read at scrape time (blocking:
    /// call it off the async threads).
    pub fn render(&self, db: &Database) -> anyhow::Result<String> {
        let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let now = crate::db::now();
        let (by_status, due) = crate::db::notifications::counts(&mut conn, now)?;
        let jobs = crate::db::jobs::counts(&mut conn, now)?;
        let successes = crate::db::jobs::last_successes(&mut conn)?;
        let oldest = crate::db::notifications::oldest_due(&mut conn, now)?;
        let key = crate::db::shares::active_key(&mut conn)?;
        drop(conn);
        for (kind, at) in successes {
            if let Some(at) = at {
                self.job_success
                    .with_label_values(&[kind.as_str()])
                    .set(at.and_utc().timestamp());
            }
        }
        for channel in crate::domain::Channel::ALL {
            let waited = oldest
                .iter()
                .find(|(c, _)| c == channel)
                .and_then(|(_, due)| *due)
                .map_or(0, |due| (now - due).num_seconds().max(0));
            self.oldest_due
                .with_label_values(&[channel.as_str()])
                .set(waited);
        }
        self.signing_key_created
            .set(key.map_or(0, |k| k.created_at.and_utc().timestamp()));
        self.jobs.reset();
        for (kind, state, n) in jobs {
            // The kinds are the job queue's own (written by this code), never a client's.
            self.jobs
                .with_label_values(&[kind.as_str(), state.as_str()])
                .set(n);
        }
        self.notify
            .produce_seconds
            .set(PRODUCE_NANOS.load(Ordering::Relaxed) as f64 / 1e9);
        self.notify
            .produce_calls
            .set(i64::try_from(PRODUCE_CALLS.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
        for (source, counter) in [
            ("snapshot", &PROGRESS_FROM_SNAPSHOT),
            ("computed", &PROGRESS_COMPUTED),
        ] {
            self.progress
                .with_label_values(&[source])
                .set(i64::try_from(counter.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
        }
        self.notify.outbox.reset();
        for channel in crate::domain::Channel::ALL {
            for state in ["pending", "due", "dead"] {
                self.notify
                    .outbox
                    .with_label_values(&[channel.as_str(), state])
                    .set(0);
            }
        }
        for (channel, status, n) in by_status {
            self.notify
                .outbox
                .with_label_values(&[channel.as_str(), status.as_str()])
                .set(n);
        }
        for (channel, n) in due {
            self.notify
                .outbox
                .with_label_values(&[channel.as_str(), "due"])
                .set(n);
        }
        let state = db.pool_state();
        let idle = i64::from(state.idle_connections);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections) - idle);
        self.pool
            .with_label_values(&["max"])
            .set(i64::from(db.pool_max_size()));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}
