//! Notification delivery against a real SMTP server on 127.0.0.1: the email a certificate
//! decision causes, its headers and language, one-click unsubscribe, outages and retries, poison
//! rows, duplicates, leases, and two worker processes sharing one queue.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use skillpath::domain::LearnerId;

use crate::helpers::{assert_problem, free_port, spawn_app_with, ChildProcess, TestApp};
use crate::milestones::{student, verify, Learner};
use crate::smtp::{Mode, Received, SmtpServer};

const ADDRESS: &str = "wang.fang@example.cn";

pub async fn mail_app(smtp: &SmtpServer, extra: &[(&str, &str)]) -> TestApp {
    let url = smtp.url();
    let mut vars = vec![
        ("SMTP_URL", url.as_str()),
        ("SKILLPATH_WORKER_POLL_MS", "20"),
        ("SKILLPATH_NOTIFY_RETRY_BASE_MS", "50"),
        ("SKILLPATH_NOTIFY_RETRY_CAP_SECS", "1"),
        ("SMTP_TIMEOUT_SECS", "5"),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

/// The student of the milestone tests with an email address and no quiet hours (the tests run
/// at any hour).
pub async fn reachable_student(app: &TestApp) -> Learner {
    let l = student(app).await;
    let resp = app
        .send(
            app.client
                .put(app.url("/api/v1/me/notification-preferences"))
                .bearer_auth(&l.me)
                .json(&json!({"certificate": {"inbox": true, "email": true},
            "milestone": {"inbox": true, "email": true},
            "quiet_hours": {"start": "00:00", "end": "00:00"}})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"email": ADDRESS}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    l
}

pub async fn wait_until(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn subject(m: &Received) -> String {
    m.decoded_header("Subject").unwrap_or_default()
}

pub fn with_subject(smtp: &SmtpServer, prefix: &str) -> Vec<Received> {
    smtp.received()
        .into_iter()
        .filter(|m| subject(m).starts_with(prefix))
        .collect()
}

async fn outbox(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("/api/v1/admin/notifications?{query}"), Some(admin))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The decoded text part of a message (lettre sends non-ASCII text base64-encoded).
pub fn plain_text(data: &str) -> String {
    use base64::Engine;
    let start = data.find("Content-Type: text/plain").expect("a text part");
    let body = &data[start..];
    let body = &body[body.find("\r\n\r\n").expect("the part's body") + 4..];
    let encoded: String = body.lines().take_while(|l| !l.starts_with("--")).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

#[tokio::test]
async fn a_verified_certificate_is_emailed_once_in_the_learners_language_with_one_click_unsubscribe(
) {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let l = reachable_student(&app).await;
    verify(&app, &l).await;

    wait_until(
        "the certificate email",
        Duration::from_secs(20),
        async || !with_subject(&smtp, "Skillpath: 证书已核验").is_empty(),
    )
    .await;
    let email = with_subject(&smtp, "Skillpath: 证书已核验").remove(0);
    assert_eq!(subject(&email), "Skillpath: 证书已核验：高级工");
    assert_eq!(email.rcpt_to, vec![ADDRESS.to_owned()]);
    assert_eq!(email.header("Content-Language").as_deref(), Some("zh-CN"));
    // It leads to the page it speaks of.
    let text = plain_text(&email.data);
    assert!(text.contains("在 Skillpath 中查看: http://"), "{text}");
    assert!(text.contains("/progress\r\n"), "{text}");
    assert_eq!(
        email.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // The Message-ID is the row's.
    let rows = outbox(&app, &l.admin, &format!("learner_id={}&status=sent", l.id)).await;
    let row = rows
        .iter()
        .find(|r| {
            r["channel"] == "email"
                && r["event_key"] == format!("certificate:{}:verify", l.certificate)
        })
        .expect("the certificate's email row is sent");
    let message_id = email.header("Message-ID").unwrap();
    assert!(
        message_id.starts_with(&format!("<notification.{}.", row["id"])),
        "{message_id}"
    );
    assert_eq!(row["attempts"], 1);

    // The inbox has it too; and nothing is sent twice.
    let inbox = app.inbox(&l.me).await;
    assert!(inbox
        .iter()
        .any(|i| i["title"]["zh-CN"] == "证书已核验：高级工"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(with_subject(&smtp, "Skillpath: 证书已核验").len(), 1);
    let ids: Vec<String> = smtp
        .received()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no email twice"
    );

    // In English once the learner prefers it.
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"preferred_language": "en"}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .post(
            &format!("/api/v1/certificates/{}/verification", l.certificate),
            &json!({"decision": "revoke", "reason": "发证机构撤销"}),
            Some(&l.evaluator),
        )
        .await;
    assert_eq!(resp.status(), 200);
    wait_until(
        "the revocation email",
        Duration::from_secs(20),
        async || !with_subject(&smtp, "Skillpath: Certificate revoked").is_empty(),
    )
    .await;
    let revoked = with_subject(&smtp, "Skillpath: Certificate revoked").remove(0);
    assert_eq!(revoked.header("Content-Language").as_deref(), Some("en"));

    // One-click unsubscribe, without logging in.
    let link = email.header("List-Unsubscribe").unwrap();
    let path = link
        .trim_matches(['<', '>'])
        .split_once("/api/v1/")
        .map(|(_, p)| format!("/api/v1/{p}"))
        .unwrap();
    let page = app.send(app.client.get(app.url(&path))).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Unsubscribe"));
    let prefs = async |app: &TestApp, token: String| -> Value {
        let req = app
            .client
            .get(app.url("/api/v1/me/notification-preferences"))
            .bearer_auth(token);
        app.send(req).await.json::<Value>().await.unwrap()
    };
    assert_eq!(
        prefs(&app, l.me.clone()).await["certificate"]["email"],
        true,
        "the page alone changes nothing"
    );
    let resp = app
        .send(
            app.client
                .post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let after = prefs(&app, l.me.clone()).await;
    assert_eq!(after["certificate"]["email"], false);
    assert_eq!(after["milestone"]["email"], true);
    // A forged or altered token is refused.
    let forged = format!("{}x", path.trim_end_matches(|c: char| c.is_alphanumeric()));
    assert_problem(
        app.send(app.client.post(app.url(&forged))).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_smtp_outage_is_retried_until_delivery_and_the_api_keeps_answering() {
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::Unavailable);
    let app = mail_app(&smtp, &[("SKILLPATH_NOTIFY_MAX_ATTEMPTS", "50")]).await;
    let l = reachable_student(&app).await;
    verify(&app, &l).await;
    let query = format!("learner_id={}&status=pending", l.id);

    wait_until("failed attempts", Duration::from_secs(20), async || {
        let rows = outbox(&app, &l.admin, &query).await;
        rows.iter()
            .any(|r| r["channel"] == "email" && r["attempts"].as_i64().unwrap() >= 2)
    })
    .await;
    let rows = outbox(&app, &l.admin, &query).await;
    let failing = rows.iter().find(|r| r["channel"] == "email").unwrap();
    assert!(failing["last_error"].as_str().is_some(), "{failing}");
    // The API is unaffected by the mail server.
    let started = Instant::now();
    let resp = app.get("/api/v1/me/progress", Some(&l.me)).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));

    // A server that answers but defers (451) is retried as well.
    smtp.set_mode(Mode::TemporaryFailure);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(smtp.received().is_empty());

    smtp.set_mode(Mode::Accept);
    wait_until(
        "delivery after the outage",
        Duration::from_secs(30),
        async || {
            outbox(&app, &l.admin, &query)
                .await
                .iter()
                .all(|r| r["channel"] != "email")
        },
    )
    .await;
    let sent = outbox(&app, &l.admin, &format!("learner_id={}&status=sent", l.id)).await;
    let emails = sent.iter().filter(|r| r["channel"] == "email").count();
    assert!(emails >= 2, "certificate and milestone emails: {sent:?}");
    assert_eq!(smtp.received().len(), emails, "each row delivered once");
}

#[tokio::test]
async fn a_refused_message_goes_dead_and_an_administrator_can_retry_it() {
    let smtp = SmtpServer::start().await;
    smtp.refuse_recipient(ADDRESS);
    let app = mail_app(&smtp, &[]).await;
    let l = reachable_student(&app).await;
    verify(&app, &l).await;
    let dead_query = format!("learner_id={}&status=dead", l.id);

    wait_until("dead rows", Duration::from_secs(20), async || {
        outbox(&app, &l.admin, &dead_query)
            .await
            .iter()
            .any(|r| r["event_key"] == format!("certificate:{}:verify", l.certificate))
    })
    .await;
    let dead = outbox(&app, &l.admin, &dead_query).await;
    let row = dead
        .iter()
        .find(|r| r["event_key"] == format!("certificate:{}:verify", l.certificate))
        .unwrap();
    assert_eq!(row["attempts"], 1, "a permanent refusal is not retried");
    assert!(
        row["last_error"].as_str().unwrap().contains("refused"),
        "{row}"
    );
    assert!(smtp.received().is_empty());
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("skillpath_notification_outbox_rows{channel=\"email\",state=\"dead\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("skillpath_notifications_dead_total{channel=\"email\"}"));

    // Only administrators see or retry; only dead rows are retried.
    assert_problem(
        app.get("/api/v1/admin/notifications?status=dead", Some(&l.me))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/admin/notifications?status=lost", Some(&l.admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let inbox_row = outbox(&app, &l.admin, &format!("learner_id={}&status=sent", l.id)).await[0]
        ["id"]
        .as_i64()
        .unwrap();
    assert_problem(
        app.post(
            &format!("/api/v1/admin/notifications/{inbox_row}/retry"),
            &json!({}),
            Some(&l.admin),
        )
        .await,
        409,
        "not_dead",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/admin/notifications/999999/retry",
            &json!({}),
            Some(&l.admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The mailbox exists again: a retry delivers.
    smtp.allow_all();
    let id = row["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!("/api/v1/admin/notifications/{id}/retry"),
            &json!({}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let retried: Value = resp.json().await.unwrap();
    assert_eq!(retried["attempts"], 0);
    wait_until("the retried email", Duration::from_secs(20), async || {
        !with_subject(&smtp, "Skillpath: 证书已核验").is_empty()
    })
    .await;
}

#[tokio::test]
async fn transient_failures_end_dead_after_the_last_attempt() {
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::TemporaryFailure);
    let app = mail_app(&smtp, &[("SKILLPATH_NOTIFY_MAX_ATTEMPTS", "2")]).await;
    let l = reachable_student(&app).await;
    verify(&app, &l).await;
    let key = format!("certificate:{}:verify", l.certificate);
    wait_until("the row to die", Duration::from_secs(20), async || {
        outbox(&app, &l.admin, &format!("learner_id={}&status=dead", l.id))
            .await
            .iter()
            .any(|r| r["event_key"] == key)
    })
    .await;
    let dead = outbox(&app, &l.admin, &format!("learner_id={}&status=dead", l.id)).await;
    let row = dead.iter().find(|r| r["event_key"] == key).unwrap();
    assert_eq!(row["attempts"], 2);
    assert!(row["last_error"]
        .as_str()
        .unwrap()
        .starts_with("gave up after 2 attempts"));
}

/// Produces a notice directly, as the code that causes one does inside its transaction.
async fn produce(app: &TestApp, learner_id: i64, key: String, title: String) {
    app.state
        .db
        .write(move |conn| {
            skillpath::notify::produce(
                conn,
                &skillpath::notify::Notice {
                    recipient: skillpath::notify::Recipient::Learner(LearnerId(learner_id)),
                    email: Some(ADDRESS),
                    event_key: key,
                    category: skillpath::notify::Category::Certificate,
                    kind: skillpath::notify::NoticeKind::CertificateVerified,
                    message: skillpath::notify::Message {
                        title: skillpath::rules::Text::new(title.clone(), title),
                        body: skillpath::rules::Text::new("正文", "Body"),
                    },
                    due_at: None,
                    secret: None,
                },
                skillpath::db::now(),
            )
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_same_event_produced_twice_is_one_email() {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let l = reachable_student(&app).await;
    for _ in 0..3 {
        produce(&app, l.id, "test:duplicate".into(), "重复".into()).await;
    }
    wait_until("the email", Duration::from_secs(20), async || {
        !with_subject(&smtp, "Skillpath: 重复").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(with_subject(&smtp, "Skillpath: 重复").len(), 1);
    let inbox = app.inbox(&l.me).await;
    let copies = inbox
        .iter()
        .filter(|i| i["title"]["zh-CN"] == "重复")
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn a_lease_hides_a_claimed_row_until_it_expires() {
    // No worker runs here: the test claims rows itself, as a worker that dies would.
    let app = spawn_app_with(&[("SKILLPATH_WORKER_IN_SERVE", "false")]).await;
    let l = reachable_student(&app).await;
    produce(&app, l.id, "test:lease".into(), "租约".into()).await;
    let claim = |offset_secs: i64| {
        let db = app.state.db.clone();
        async move {
            db.read(move |conn| {
                let now = skillpath::db::now() + chrono::Duration::seconds(offset_secs);
                Ok(skillpath::db::notifications::claim_due(
                    conn,
                    &[skillpath::domain::Channel::Email],
                    now,
                    now + chrono::Duration::seconds(60),
                    100,
                )?)
            })
            .await
            .unwrap()
        }
    };
    let first = claim(0).await;
    let row = first
        .iter()
        .find(|r| r.event_key == "test:lease")
        .expect("claimed");
    assert_eq!(row.attempts, 1);
    assert!(claim(30).await.iter().all(|r| r.event_key != "test:lease"));
    // After the lease the row is due again, with the attempt counted.
    let again = claim(61).await;
    let row = again.iter().find(|r| r.event_key == "test:lease").unwrap();
    assert_eq!(row.attempts, 2);
}

/// Starts `skillpath worker` against the test's database and waits until it listens.
pub async fn spawn_worker(
    app: &TestApp,
    smtp: &SmtpServer,
    name: &str,
    extra: &[(&str, &str)],
) -> (ChildProcess, u16) {
    let port = free_port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_skillpath"));
    command
        .arg("worker")
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("SKILLPATH_BIND", format!("127.0.0.1:{port}"))
        .env("SKILLPATH_JWT_SECRET", &app.jwt_secret)
        .env("SKILLPATH_DATA_KEY", &app.data_key)
        // The path names the client in EHLO, so the server sees who delivered what.
        .env("SMTP_URL", format!("{}/{name}.test", smtp.url()))
        .env("SKILLPATH_WORKER_POLL_MS", "20")
        .env("SKILLPATH_WORKER_BATCH", "10")
        .env("SKILLPATH_WORKER_CONCURRENCY", "2")
        .env("SKILLPATH_LOG_FORMAT", "text")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    for (k, v) in extra {
        command.env(k, v);
    }
    let worker = ChildProcess(command.spawn().expect("start a worker process"));
    let url = format!("http://127.0.0.1:{port}/health");
    wait_until(
        "the worker to listen",
        Duration::from_secs(30),
        async || app.client.get(&url).send().await.is_ok(),
    )
    .await;
    (worker, port)
}

/// Produces `n` email notices titled `{title} {i}` in one transaction.
pub async fn produce_load(app: &TestApp, learner_id: i64, title: &'static str, n: usize) {
    app.state
        .db
        .write(move |conn| {
            for i in 0..n {
                skillpath::notify::produce(
                    conn,
                    &skillpath::notify::Notice {
                        recipient: skillpath::notify::Recipient::Learner(LearnerId(learner_id)),
                        email: Some(ADDRESS),
                        event_key: format!("test:{title}:{i}"),
                        category: skillpath::notify::Category::Certificate,
                        kind: skillpath::notify::NoticeKind::CertificateVerified,
                        message: skillpath::notify::Message {
                            title: skillpath::rules::Text::new(format!("{title} {i}"), "Load"),
                            body: skillpath::rules::Text::new("正文", "Body"),
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
        .unwrap();
}

#[tokio::test]
async fn a_worker_killed_mid_send_leaves_its_rows_to_another_after_the_lease() {
    let smtp = SmtpServer::start().await;
    // The server keeps what it receives but does not answer: the worker is mid-send.
    smtp.set_mode(Mode::Stall);
    let app = spawn_app_with(&[("SKILLPATH_WORKER_IN_SERVE", "false")]).await;
    let l = reachable_student(&app).await;
    const ROWS: usize = 20;
    produce_load(&app, l.id, "中断", ROWS).await;
    let lease = [("SKILLPATH_NOTIFY_LEASE_SECS", "3")];
    let (mut first, _) = spawn_worker(&app, &smtp, "worker-a", &lease).await;
    wait_until("the first sends", Duration::from_secs(20), async || {
        with_subject(&smtp, "Skillpath: 中断").len() >= 2
    })
    .await;
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let in_flight: HashSet<String> = with_subject(&smtp, "Skillpath: 中断")
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();

    smtp.set_mode(Mode::Accept);
    let started = Instant::now();
    let (_second, _) = spawn_worker(&app, &smtp, "worker-b", &lease).await;
    let unique = || {
        with_subject(&smtp, "Skillpath: 中断")
            .iter()
            .map(|m| m.header("Message-ID").unwrap())
            .collect::<HashSet<_>>()
            .len()
    };
    wait_until("every row delivered", Duration::from_secs(30), async || {
        unique() == ROWS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the rows waited for the lease"
    );
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in with_subject(&smtp, "Skillpath: 中断") {
        *copies.entry(m.header("Message-ID").unwrap()).or_default() += 1;
    }
    assert_eq!(copies.len(), ROWS);
    for (id, n) in &copies {
        let expected = if in_flight.contains(id) { 2 } else { 1 };
        assert_eq!(*n, expected, "{id}: a duplicate only of what was in flight");
    }
}

#[tokio::test]
async fn two_worker_processes_deliver_each_row_once() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(&[("SKILLPATH_WORKER_IN_SERVE", "false")]).await;
    let l = reachable_student(&app).await;

    let mut workers = Vec::new();
    let mut ports = Vec::new();
    for name in ["worker-a", "worker-b"] {
        let (worker, port) = spawn_worker(&app, &smtp, name, &[]).await;
        workers.push(worker);
        ports.push(port);
    }

    const ROWS: usize = 300;
    produce_load(&app, l.id, "负载", ROWS).await;

    wait_until("every row delivered", Duration::from_secs(60), async || {
        with_subject(&smtp, "Skillpath: 负载").len() >= ROWS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = with_subject(&smtp, "Skillpath: 负载");
    let ids: HashSet<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), ROWS, "every row has its own Message-ID");
    assert_eq!(received.len(), ROWS, "no row was delivered twice");
    let mut by_worker: HashMap<String, usize> = HashMap::new();
    for m in &received {
        *by_worker.entry(m.client.clone()).or_default() += 1;
    }
    assert_eq!(by_worker.len(), 2, "both workers delivered: {by_worker:?}");

    // Each worker reports what it sent on its own /metrics.
    let metrics = app
        .send(
            app.client
                .get(format!("http://127.0.0.1:{}/metrics", ports[0])),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("skillpath_notifications_sent_total{channel=\"email\"}"));
}

async fn rows_of_kind(app: &TestApp, admin: &str, learner: i64, status: &str) -> Vec<Value> {
    outbox(
        app,
        admin,
        &format!("learner_id={learner}&status={status}&limit=200"),
    )
    .await
    .into_iter()
    .filter(|r| {
        r["event_key"].as_str().unwrap().starts_with("reminder:")
            || (r["kind"] == "newly_met" && r["due_at"].as_str().unwrap() > "2027")
    })
    .collect()
}

#[tokio::test]
async fn reminders_are_scheduled_before_an_upcoming_date_and_move_with_it() {
    let app = spawn_app_with(&[("SKILLPATH_WORKER_IN_SERVE", "false")]).await;
    // 高级工 issued 2025-06-28 during the enrollment: 技师 from 2027-06-28.
    let l = crate::milestones::student_with(&app, "2025-06-28").await;
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"email": ADDRESS}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    verify(&app, &l).await;

    let pending = rows_of_kind(&app, &l.admin, l.id, "pending").await;
    let mut due: Vec<(String, String, String)> = pending
        .iter()
        .map(|r| {
            (
                r["channel"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
                r["due_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    due.sort();
    let expected = |date_30: &str, date_7: &str, day: &str| {
        let mut v = Vec::new();
        for channel in ["email", "inbox"] {
            v.push((
                channel.to_owned(),
                "newly_met".to_owned(),
                format!("{day}T01:00:00Z"),
            ));
            v.push((
                channel.to_owned(),
                "reminder".to_owned(),
                format!("{date_30}T01:00:00Z"),
            ));
            v.push((
                channel.to_owned(),
                "reminder".to_owned(),
                format!("{date_7}T01:00:00Z"),
            ));
        }
        v.sort();
        v
    };
    // 30 and 7 days before, and on the day, at 09:00 Shanghai (01:00 UTC).
    assert_eq!(due, expected("2027-05-29", "2027-06-21", "2027-06-28"));
    let reminder = pending.iter().find(|r| r["kind"] == "reminder").unwrap();
    assert!(reminder["title"]["zh-CN"]
        .as_str()
        .unwrap()
        .starts_with("还有"));
    // Scheduled, not yet in the inbox.
    let inbox = app.inbox(&l.me).await;
    assert!(inbox
        .iter()
        .all(|i| !i["title"]["zh-CN"].as_str().unwrap().starts_with("还有")));

    // A parameter change moves the date a year later: the reminders move with it.
    let today = skillpath::domain::today_in_shanghai().to_string();
    let resp = app
        .post(
            "/api/v1/rules/parameters",
            &json!({"name": "sh489.technician_after_senior_worker.holding_years", "value": 3,
                "effective_from": today, "source": "测试", "clause": "五(七)"}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    // The change queued the recomputation of every learner, which the server's job runner does.
    wait_until(
        "the reminders to move",
        Duration::from_secs(30),
        async || {
            rows_of_kind(&app, &l.admin, l.id, "pending")
                .await
                .iter()
                .any(|r| r["due_at"].as_str().unwrap().starts_with("2028"))
        },
    )
    .await;
    let mut moved: Vec<(String, String, String)> = rows_of_kind(&app, &l.admin, l.id, "pending")
        .await
        .iter()
        .map(|r| {
            (
                r["channel"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
                r["due_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    moved.sort();
    assert_eq!(moved, expected("2028-05-29", "2028-06-21", "2028-06-28"));
    let withdrawn = rows_of_kind(&app, &l.admin, l.id, "withdrawn").await;
    assert_eq!(withdrawn.len(), 6, "the old date's reminders are withdrawn");
    // And the learner hears that the date moved.
    let inbox = app.inbox(&l.me).await;
    assert!(
        inbox.iter().any(|i| i["title"]["zh-CN"]
            .as_str()
            .unwrap()
            .starts_with("日期变更")
            && i["body"]["zh-CN"]
                .as_str()
                .unwrap()
                .contains("由2027-06-28变为2028-06-28。适用的政策参数已调整")),
        "{inbox:?}"
    );
}

#[tokio::test]
async fn a_scheduled_notice_reaches_the_inbox_when_it_is_due() {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let l = reachable_student(&app).await;
    let learner_id = l.id;
    let due = skillpath::db::now() + chrono::Duration::milliseconds(1500);
    app.state
        .db
        .write(move |conn| {
            skillpath::notify::produce(
                conn,
                &skillpath::notify::Notice {
                    recipient: skillpath::notify::Recipient::Learner(LearnerId(learner_id)),
                    email: Some(ADDRESS),
                    event_key: "test:scheduled".into(),
                    category: skillpath::notify::Category::Milestone,
                    kind: skillpath::notify::NoticeKind::Reminder,
                    message: skillpath::notify::Message {
                        title: skillpath::rules::Text::new("定时", "Scheduled"),
                        body: skillpath::rules::Text::new("正文", "Body"),
                    },
                    due_at: Some(due),
                    secret: None,
                },
                skillpath::db::now(),
            )
        })
        .await
        .unwrap();
    let in_inbox = async || {
        let inbox = app.inbox(&l.me).await;
        inbox.iter().any(|i| i["title"]["zh-CN"] == "定时")
    };
    assert!(!in_inbox().await, "not before it is due");
    assert!(with_subject(&smtp, "Skillpath: 定时").is_empty());
    wait_until(
        "the scheduled notice",
        Duration::from_secs(20),
        async || in_inbox().await && !with_subject(&smtp, "Skillpath: 定时").is_empty(),
    )
    .await;
    assert!(skillpath::db::now() >= due);
}
