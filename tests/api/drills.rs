//! Fault drills: the database goes away under load, or its disk fills up. The service answers
//! 503 with `Retry-After` (never 500), keeps what it stored, and recovers by itself.
//!
//! The other drills live beside what they exercise: SMTP down and refusing
//! (`delivery::an_smtp_outage_is_retried_until_delivery_and_the_api_keeps_answering`), a worker
//! killed mid-batch (`delivery::a_worker_killed_mid_send_leaves_its_rows_to_another_after_the_lease`), a stolen
//! refresh token (`auth::refresh_rotates_and_reuse_revokes_the_whole_family`), the database file gone
//! (`operations::ready_is_503_when_the_database_is_unreachable`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// Requests `/api/v1/me` (an account read per request) from a few clients until `stop`, keeping
/// each answer's status and whether a 503 said when to retry.
fn load(
    app: &TestApp,
    token: &str,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<(u16, bool)>>> {
    (0..4)
        .map(|_| {
            let (client, url, token, stop) = (
                app.client.clone(),
                app.url("/api/v1/me"),
                token.to_owned(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(resp) = client.get(&url).bearer_auth(&token).send().await {
                        let retry = resp.headers().contains_key("retry-after");
                        seen.push((resp.status().as_u16(), retry));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                seen
            })
        })
        .collect()
}

/// The server is "stopped" for this test's database alone (new connections refused, open ones
/// terminated, as a restart of the server does to them), so that the tests running beside it keep
/// theirs.
#[tokio::test]
async fn postgres_stopped_under_load_answers_503_and_recovers_without_a_restart() {
    let app = spawn_app().await;
    if app.backend != "postgres" {
        eprintln!("skipped: the PostgreSQL outage drill needs TEST_DATABASE_URL");
        return;
    }
    let admin = app.admin_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&app, &admin, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.make_database_unreachable();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.get("/ready", None).await.status(), 503);
    app.make_database_reachable();
    let started = Instant::now();
    while app.get("/ready", None).await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the service did not recover by itself"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for c in clients {
        seen.extend(c.await.unwrap());
    }
    assert!(seen.iter().any(|(s, _)| *s == 503), "the outage was seen");
    assert!(
        seen.iter().all(|(s, _)| *s == 200 || *s == 503),
        "only 200 and 503: {:?}",
        seen.iter()
            .filter(|(s, _)| *s != 200 && *s != 503)
            .collect::<Vec<_>>()
    );
    assert!(
        seen.iter().all(|(s, retry)| *s != 503 || *retry),
        "every 503 says when to retry"
    );
    assert_eq!(
        seen.last().map(|(s, _)| *s),
        Some(200),
        "answers again after the outage"
    );
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status(), 200);
}

/// Connections are not checked on every checkout (a round trip per request): a connection the
/// server closed costs a retry on another one (a read again, a write's BEGIN), not a failed
/// request.
#[tokio::test]
async fn postgres_connections_closed_by_the_server_cost_no_failed_request() {
    let app = spawn_app().await;
    if app.backend != "postgres" {
        eprintln!("skipped: the closed-connection drill needs TEST_DATABASE_URL");
        return;
    }
    let admin = app.admin_token().await;
    // Every connection of the pool in use once, so that every one of them is open.
    let warm: Vec<_> = (0..8)
        .map(|_| app.get("/api/v1/me", Some(&admin)))
        .collect();
    for answer in futures_util::future::join_all(warm).await {
        assert_eq!(answer.status(), 200);
    }
    for round in 0..3 {
        app.close_database_connections();
        if round == 0 {
            // The first statement after the close is a write's BEGIN: another connection takes
            // it (nothing was sent yet), so the write happens once and does not fail.
            let wrote = app
                .state
                .db
                .write(|conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query("SELECT 1").execute(conn)?;
                    Ok(())
                })
                .await;
            assert!(wrote.is_ok(), "{wrote:?}");
        }
        for i in 0..6 {
            let read = app.get("/api/v1/me", Some(&admin)).await;
            assert_eq!(read.status(), 200, "round {round}, read {i}");
        }
        let write = app
            .post(
                "/api/v1/occupations",
                &json!({"code": format!("6-0{round}-00-00"), "name": "试验工种", "source": "test catalog", "technician_catalog": true, "high_skill_catalog": true}),
                Some(&admin),
            )
            .await;
        assert_eq!(
            write.status(),
            201,
            "round {round}: {:?}",
            write.text().await
        );
    }
}

/// Mounts a tmpfs of `size` at a new directory; `None` (with the reason) where this cannot be done.
fn small_disk(size: &str) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir.path())
        .output()
        .map_err(|e| format!("mount: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mount: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(dir)
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_under_sqlite_refuses_writes_with_503_keeps_reads_and_loses_nothing() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) {
        eprintln!("skipped: the full-disk drill is for SQLite");
        return;
    }
    let disk = match small_disk("4m") {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: the full-disk drill needs a tmpfs mount ({why})");
            return;
        }
    };
    let _unmount = Unmount(disk.path().to_owned());
    let db_path = disk.path().join("skillpath.db");
    let db_url = db_path.to_string_lossy().into_owned();
    let app = spawn_app_with(&[("DATABASE_URL", db_url.as_str())]).await;
    let admin = app.admin_token().await;

    // Fill the disk, leaving a little room.
    let filler = disk.path().join("filler");
    let free = {
        let out = std::process::Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(disk.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    std::fs::write(
        &filler,
        vec![0u8; (free.saturating_sub(64 * 1024)) as usize],
    )
    .unwrap();

    let created = Arc::new(Mutex::new(Vec::new()));
    let mut refused = 0;
    for i in 0..400 {
        let name = format!("学院{i:03}{}", "某".repeat(60));
        let resp = app
            .post(
                "/api/v1/institutions",
                &json!({"name": name, "kind": "technician_college"}),
                Some(&admin),
            )
            .await;
        match resp.status().as_u16() {
            201 => created.lock().unwrap().push(name),
            503 => {
                assert!(resp.headers().contains_key("retry-after"));
                refused += 1;
                if refused >= 3 {
                    break;
                }
            }
            other => panic!("a write on a full disk answered {other}"),
        }
    }
    assert!(refused >= 3, "the disk never filled");
    eprintln!(
        "full disk: {} writes acknowledged, {refused} refused",
        created.lock().unwrap().len()
    );
    // Reads still answer.
    let listed: Value = app.get_json("/api/v1/institutions?limit=200", &admin).await;
    assert!(!listed["items"].as_array().unwrap().is_empty());

    // Space comes back: writes resume without a restart.
    std::fs::remove_file(&filler).unwrap();
    let resp = app
        .post(
            "/api/v1/institutions",
            &json!({"name": "空间恢复后", "kind": "technician_college"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    created.lock().unwrap().push("空间恢复后".into());

    // Nothing acknowledged was lost, and the file is sound.
    let mut names = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = app
            .get_json(&format!("/api/v1/institutions?limit=200{cursor}"), &admin)
            .await;
        for item in page["items"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    for name in created.lock().unwrap().iter() {
        assert!(names.contains(name), "{name} was acknowledged and lost");
    }
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&db_url).unwrap();
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(check[0].integrity_check, "ok");
    drop(app);
}

#[tokio::test]
async fn the_drills_helpers_run() {
    // The load helper itself answers 200 against a healthy service.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&app, &admin, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let seen = c.await.unwrap();
        assert!(!seen.is_empty() && seen.iter().all(|(s, _)| *s == 200));
    }
}
