//! The notification benchmark, against a release build of the library:
//! 1. producing overhead: N certificate verifications over HTTP (each writes its notices and
//!    recomputes milestones in one transaction); the share of their server-side time spent
//!    writing notifications, from `/metrics`;
//! 2. delivery: M email rows delivered by one worker to a local SMTP sink (a real SMTP
//!    conversation over TCP), beside a baseline measured in the same run: lettre alone sending
//!    as many messages to the same kind of sink with the same pool and concurrency.
//!
//! `cargo bench --bench notify` (SQLite in a temporary directory); with
//! `PG_URL=postgres://postgres@127.0.0.1:5432/postgres` also on PostgreSQL (a throwaway database).
//! `NOTIFY_BENCH_LEARNERS` (default 200) and `NOTIFY_BENCH_EMAILS` (default 3000) set the sizes.

#[path = "../tests/support/smtp.rs"]
mod smtp;

use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::stream::{self, StreamExt};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{json, Value};

use skillpath::config::Settings;
use skillpath::domain::LearnerId;
use skillpath::notify::worker::Worker;
use skillpath::startup::Application;

const ADMIN: &str = "admin@bench.example";
const PASSWORD: &str = "benchmark password";

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(&url),
            "PATCH" => self.http.patch(&url).json(&body),
            _ => self.http.post(&url).json(&body),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let v = self
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await?;
        v["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("access token")
    }

    async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?)
    }
}

/// The value of the first sample line that starts with `name` and contains `label`.
fn sample(metrics: &str, name: &str, label: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Figures {
    backend: &'static str,
    requests: usize,
    p50: Duration,
    p99: Duration,
    produce_share: f64,
    emails: usize,
    worker_rate: f64,
    baseline_rate: f64,
}

async fn run(
    backend: &'static str,
    database_url: String,
    learners: usize,
    extra_emails: usize,
) -> anyhow::Result<Figures> {
    let sink = smtp::SmtpServer::start().await;
    let smtp_url = sink.url();
    let vars: Vec<(&str, String)> = vec![
        ("DATABASE_URL", database_url),
        ("SKILLPATH_BIND", "127.0.0.1:0".into()),
        (
            "SKILLPATH_JWT_SECRET",
            "benchmark-secret-of-more-than-32-bytes".into(),
        ),
        (
            "SKILLPATH_DATA_KEY",
            "benchmark-data-key-of-more-than-32-bytes".into(),
        ),
        ("SKILLPATH_ADMIN_EMAIL", ADMIN.into()),
        ("SKILLPATH_ADMIN_PASSWORD", PASSWORD.into()),
        ("SMTP_URL", smtp_url),
        // The worker starts after the requests are timed.
        ("SKILLPATH_WORKER_IN_SERVE", "false".into()),
        ("SKILLPATH_WORKER_POLL_MS", "50".into()),
    ];
    let settings = Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?;
    let app = Application::build(settings, skillpath::http_server::StopOn::Handle).await?;
    let state = app.state();
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{}", app.port()),
    };
    tokio::spawn(app.run_until_stopped());

    // A designated college, a program, its staff and an evaluator.
    let admin = client.login(ADMIN, PASSWORD).await?;
    client
        .call(
            "POST",
            "/api/v1/occupations",
            Some(&admin),
            json!({"code": "6-18-02-04", "name": "电工", "source": "bench"}),
        )
        .await?;
    let college = client
        .call(
            "POST",
            "/api/v1/institutions",
            Some(&admin),
            json!({"name": "Bench College", "kind": "technician_college"}),
        )
        .await?["id"]
        .clone();
    client
        .call(
            "POST",
            &format!("/api/v1/institutions/{college}/designations"),
            Some(&admin),
            json!({"batch": "第一批", "designated_from": "2021-12-13"}),
        )
        .await?;
    for (email, role, binding) in [
        (
            "staff@bench.example",
            "college_staff",
            json!({"institution_id": college}),
        ),
        ("eva@bench.example", "evaluator", json!({})),
    ] {
        let mut body = json!({"email": email, "password": PASSWORD, "role": role});
        if let (Some(b), Some(extra)) = (body.as_object_mut(), binding.as_object()) {
            b.extend(extra.clone());
        }
        client
            .call("POST", "/api/v1/users", Some(&admin), body)
            .await?;
    }
    let staff = client.login("staff@bench.example", PASSWORD).await?;
    let evaluator = client.login("eva@bench.example", PASSWORD).await?;
    let program = client
        .call(
            "POST",
            &format!("/api/v1/institutions/{college}/programs"),
            Some(&staff),
            json!({"name": "电气", "occupation_code": "6-18-02-04"}),
        )
        .await?["id"]
        .clone();

    // Learners with an email address, an enrollment and a pending 高级工 certificate.
    let mut certificates = Vec::with_capacity(learners);
    let mut learner_ids = Vec::with_capacity(learners);
    for i in 0..learners {
        let id = client.call("POST", "/api/v1/learners", Some(&staff), json!({"name": format!("学员{i}"), "kind": "student", "hukou": "other", "email": format!("learner{i}@bench.example")})).await?["id"].clone();
        client.call("POST", &format!("/api/v1/learners/{id}/enrollments"), Some(&staff), json!({"program_id": program, "start_date": "2022-09-01", "end_date": "2025-06-30"})).await?;
        let certificate = client.call("POST", &format!("/api/v1/learners/{id}/certificates"), Some(&staff), json!({"number": format!("Y3100000000000243{i:05}"), "kind": "skill_level", "level": "senior_worker", "occupation_code": "6-18-02-04", "issuer": "某评价机构", "issued_on": "2024-06-28"})).await?["id"].clone();
        certificates.push(certificate);
        learner_ids.push(id.as_i64().context("learner id")?);
    }

    // Email goes out at any hour: no quiet hours for these learners.
    let ids = learner_ids.clone();
    state
        .db
        .write(move |conn| {
            let mut prefs = skillpath::notify::preferences::Preferences::default();
            prefs.quiet_hours.end = prefs.quiet_hours.start.clone();
            let json = serde_json::to_string(&prefs)
                .map_err(|e| skillpath::error::AppError::internal("prefs", e))?;
            for id in ids {
                skillpath::db::notifications::save_preferences(
                    conn,
                    LearnerId(id),
                    &json,
                    skillpath::db::now(),
                )?;
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    // 1. Verifications: client-side latency, and the server's time spent producing notices.
    let route = "route=\"/api/v1/certificates/{id}/verification\"";
    let before = client.metrics().await?;
    let mut latencies = Vec::with_capacity(learners);
    for certificate in &certificates {
        let started = Instant::now();
        client
            .call(
                "POST",
                &format!("/api/v1/certificates/{certificate}/verification"),
                Some(&evaluator),
                json!({"decision": "verify", "reason": "查询一致"}),
            )
            .await?;
        latencies.push(started.elapsed());
    }
    let after = client.metrics().await?;
    latencies.sort();
    let produced = sample(&after, "skillpath_notification_produce_seconds_total", "")
        - sample(&before, "skillpath_notification_produce_seconds_total", "");
    let served = sample(&after, "skillpath_http_request_duration_seconds_sum", route)
        - sample(
            &before,
            "skillpath_http_request_duration_seconds_sum",
            route,
        );
    let produce_share = produced / (served - produced).max(f64::EPSILON);

    // 2. More email rows, then one worker delivers the whole queue.
    let ids = learner_ids.clone();
    state
        .db
        .write(move |conn| {
            for i in 0..extra_emails {
                let learner_id = ids[i % ids.len()];
                let address = format!("learner{}@bench.example", i % ids.len());
                skillpath::notify::produce(
                    conn,
                    &skillpath::notify::Notice {
                        recipient: skillpath::notify::Recipient::Learner(LearnerId(learner_id)),
                        email: Some(&address),
                        event_key: format!("bench:{i}"),
                        category: skillpath::notify::Category::Certificate,
                        kind: skillpath::notify::NoticeKind::CertificateVerified,
                        message: skillpath::notify::Message {
                            title: skillpath::rules::Text::new(
                                format!("证书已核验：{i}"),
                                format!("Certificate verified: {i}"),
                            ),
                            body: skillpath::rules::Text::new(
                                "您的高级工证书已核验。",
                                "Your certificate was verified.",
                            ),
                        },
                        due_at: None,
                        secret: None,
                    },
                    skillpath::db::now(),
                )?;
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let queued = state
        .db
        .read(|conn| {
            Ok(skillpath::db::notifications::counts(
                conn,
                skillpath::db::now(),
            )?)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .1
        .iter()
        .filter(|(channel, _)| *channel == skillpath::domain::Channel::Email)
        .map(|(_, n)| *n as usize)
        .sum::<usize>();
    let worker = Worker::new(state.worker_context())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = tokio::spawn(worker.run(async {
        let _ = stop_rx.await;
    }));
    while sink.count() < queued {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "delivery timed out"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let worker_rate = queued as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let _ = running.await;

    // Baseline: lettre alone, same pool and concurrency, to a fresh sink.
    let baseline_sink = smtp::SmtpServer::start().await;
    let notify = &state.settings.notify;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&baseline_sink.url())?
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(notify.smtp_pool_size))
        .build();
    let started = Instant::now();
    let results: Vec<Result<_, _>> = stream::iter(0..queued)
        .map(|i| {
            let transport = &transport;
            async move {
                let message = lettre::Message::builder()
                    .from("Skillpath <no-reply@bench.example>".parse()?)
                    .to(format!("learner{i}@bench.example").parse()?)
                    .subject(format!("Skillpath: 证书已核验：{i}"))
                    .body(String::from("您的高级工证书已核验。"))?;
                transport.send(message).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(notify.concurrency as usize)
        .collect()
        .await;
    for r in results {
        r?;
    }
    let baseline_rate = queued as f64 / started.elapsed().as_secs_f64();

    Ok(Figures {
        backend,
        requests: learners,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        produce_share,
        emails: queued,
        worker_rate,
        baseline_rate,
    })
}

fn main() -> anyhow::Result<()> {
    let learners = size("NOTIFY_BENCH_LEARNERS", 200);
    let emails = size("NOTIFY_BENCH_EMAILS", 3000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut figures = Vec::new();
    let dir = tempfile::tempdir()?;
    let sqlite = dir.path().join("bench.db").to_string_lossy().into_owned();
    figures.push(runtime.block_on(run("sqlite", sqlite, learners, emails))?);
    if let Ok(admin_url) = std::env::var("PG_URL") {
        let name = format!("skillpath_bench_notify_{}", std::process::id());
        let mut conn = PgConnection::establish(&admin_url)?;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("PG_URL has no database name"),
        };
        let outcome = runtime.block_on(run("postgres", url, learners, emails));
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn);
        figures.push(outcome?);
    }
    println!("| backend | verifications | p50 | p99 | producing notices / rest of the request | emails | worker emails/s | lettre alone emails/s | ratio |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} % | {} | {:.0} | {:.0} | {:.2} |",
            f.backend,
            f.requests,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.produce_share * 100.0,
            f.emails,
            f.worker_rate,
            f.baseline_rate,
            f.worker_rate / f.baseline_rate,
        );
    }
    Ok(())
}
