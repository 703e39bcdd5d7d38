//! Replicas. The limits on failed logins and share-code guesses are shared by every replica on
//! one database (both backends). The drill behind nginx (PostgreSQL and Debian's nginx): the
//! shipped site (deploy/nginx/skillpath.conf, only its addresses changed) in front of two
//! `skillpath serve` processes and a `skillpath worker`; under load each is restarted in turn
//! with no failed request and no email sent twice, and the limits still hold per client.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::delivery::{produce_load, reachable_student, spawn_worker, wait_until, with_subject};
use crate::helpers::{
    assert_problem, spawn_app, spawn_app_with, ChildProcess, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};
use crate::shares::{share, world};
use crate::smtp::SmtpServer;

#[tokio::test]
async fn failure_limits_are_shared_by_the_replicas() {
    let app = spawn_app().await;
    let other = app.replica().await;
    let urls = |path: &str| [app.url(path), other.url(path)];

    // Five failures per account (the default), spread over both replicas.
    let wrong = json!({"email": "someone@skillpath.test", "password": "not the password"});
    for i in 0..5 {
        let url = &urls("/api/v1/auth/login")[i % 2];
        let resp = app.client.post(url).json(&wrong).send().await.unwrap();
        assert_eq!(resp.status(), 401, "failure {i}");
    }
    for url in urls("/api/v1/auth/login") {
        let resp = app.client.post(&url).json(&wrong).send().await.unwrap();
        assert!(resp.headers().contains_key("retry-after"));
        assert_problem(resp, 429, "too_many_requests").await;
    }

    // Ten unknown share codes per HR account (the default), spread over both replicas.
    let w = world(&app).await;
    let created = share(&app, &w.l.me, json!({"purpose": "入职审核"})).await;
    let code = created["code"].as_str().unwrap().to_owned();
    for i in 0..10 {
        let url = &urls(&format!("/api/v1/verifications/GUES-S{i:03}-AAAA-AAAA"))[i % 2];
        let resp = app
            .client
            .get(url)
            .bearer_auth(&w.hr_a)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "guess {i}");
    }
    for url in urls(&format!("/api/v1/verifications/{code}")) {
        let resp = app
            .client
            .get(&url)
            .bearer_auth(&w.hr_a)
            .send()
            .await
            .unwrap();
        assert_problem(resp, 429, "too_many_requests").await;
    }
    // Another HR account has its own allowance.
    let resp = app
        .client
        .get(other.url(&format!("/api/v1/verifications/{code}")))
        .bearer_auth(&w.hr_b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    other.server.stop(true).await;
}

/// Attempts arriving at once on two replicas are counted before any is tried: no more than the
/// limit get as far as the password.
#[tokio::test]
async fn concurrent_failures_on_two_replicas_never_pass_the_limit() {
    let app = spawn_app().await;
    let other = app.replica().await;
    let wrong = json!({"email": "burst@skillpath.test", "password": "not the password"});
    let attempts = (0..24).map(|i| {
        let url = if i % 2 == 0 {
            app.url("/api/v1/auth/login")
        } else {
            other.url("/api/v1/auth/login")
        };
        let (client, body) = (app.client.clone(), wrong.clone());
        tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap().as_u16());
    }
    let tried = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((tried, refused), (5, 19), "{statuses:?}");
    other.server.stop(true).await;
}

/// A free port below the range the kernel hands out to outgoing connections (32768 and up on
/// Linux), so that none of the suite's connections takes a replica's port while it restarts.
fn replica_port() -> u16 {
    use rand::Rng;
    loop {
        let port = rand::thread_rng().gen_range(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// nginx, where it is installed.
fn nginx() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")]);
    candidates
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
}

/// The shipped site with only its addresses changed: the replicas' ports, a plain listener on
/// `port` instead of TLS (the client here speaks HTTP), the logs in `dir`. Each replacement must
/// find its text, so that a change of the site is a change of this drill.
fn site(dir: &Path, port: u16, replicas: [u16; 2]) -> String {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/skillpath.conf"),
    )
    .unwrap();
    let logs = dir.display().to_string();
    let replacements = [
        ("127.0.0.1:8081", format!("127.0.0.1:{}", replicas[0])),
        ("127.0.0.1:8082", format!("127.0.0.1:{}", replicas[1])),
        (
            "    listen 80;\n",
            format!("    listen 127.0.0.1:{};\n", replica_port()),
        ),
        ("    listen [::]:80;\n", String::new()),
        (
            "    listen 443 ssl http2;\n",
            format!("    listen 127.0.0.1:{port};\n"),
        ),
        ("    listen [::]:443 ssl http2;\n", String::new()),
        (
            "    ssl_certificate     /etc/ssl/skillpath/fullchain.pem;\n",
            String::new(),
        ),
        (
            "    ssl_certificate_key /etc/ssl/skillpath/privkey.pem;\n",
            String::new(),
        ),
        ("    ssl_protocols TLSv1.2 TLSv1.3;\n", String::new()),
        (
            "    ssl_session_cache shared:skillpath_tls:10m;\n",
            String::new(),
        ),
        ("/var/log/nginx", logs),
    ];
    let mut site = shipped;
    for (from, to) in replacements {
        assert!(site.contains(from), "the nginx site no longer has {from:?}");
        site = site.replace(from, &to);
    }
    site
}

/// Starts nginx in the foreground with the site, in `dir`.
async fn start_nginx(nginx: &Path, dir: &Path, port: u16, replicas: [u16; 2]) -> ChildProcess {
    std::fs::write(dir.join("skillpath.conf"), site(dir, port, replicas)).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nworker_processes 1;\nevents {{}}\n\
             http {{\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n \
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n \
             scgi_temp_path {d}/scgi;\n include {d}/skillpath.conf;\n}}\n"
        ),
    )
    .unwrap();
    let child = Command::new(nginx)
        .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start nginx");
    let child = ChildProcess(child);
    let url = format!("http://127.0.0.1:{port}/health");
    wait_until("nginx to listen", Duration::from_secs(20), async || {
        reqwest::get(&url).await.is_ok()
    })
    .await;
    child
}

/// A `skillpath serve` process on `port`, behind the proxy, delivering nothing itself.
async fn start_replica(app: &TestApp, port: u16, logs: &Path) -> ChildProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("replica-{port}.log")))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_skillpath"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("SKILLPATH_BIND", format!("127.0.0.1:{port}"))
        .env("SKILLPATH_JWT_SECRET", &app.jwt_secret)
        .env("SKILLPATH_DATA_KEY", &app.data_key)
        .env("SKILLPATH_WORKER_IN_SERVE", "false")
        .env("SKILLPATH_JOBS_IN_SERVE", "false")
        .env("SKILLPATH_TRUST_PROXY_HEADERS", "true")
        .env("SKILLPATH_TRUSTED_PROXY_HOPS", "1")
        .env("SKILLPATH_DB_POOL_SIZE", "4")
        .env("SKILLPATH_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start a replica");
    let child = ChildProcess(child);
    let url = format!("http://127.0.0.1:{port}/ready");
    wait_until(
        "the replica to be ready",
        Duration::from_secs(30),
        async || matches!(reqwest::get(&url).await, Ok(r) if r.status() == 200),
    )
    .await;
    child
}

/// Sends SIGTERM (as systemd's stop does) and waits for a clean exit.
async fn stop_gracefully(mut process: ChildProcess, what: &str) {
    let pid = process.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    for _ in 0..300 {
        if let Some(status) = process.0.try_wait().unwrap() {
            assert!(status.success(), "{what} exited with {status}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not stop within 15 s of SIGTERM");
}

/// What the clients saw: how many answers of each kind, and every failure.
#[derive(Default)]
struct Seen {
    answered: HashMap<&'static str, usize>,
    failures: Vec<String>,
}

/// Clients through the proxy until `stop`: an API read, an API write (registering learners: not
/// idempotent, so never retried by the proxy) and a page.
fn load(
    base: &str,
    token: &str,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let kinds: [(&'static str, u16); 3] = [("read", 200), ("write", 201), ("page", 200)];
    kinds
        .into_iter()
        .flat_map(|kind| [kind, kind])
        .enumerate()
        .map(|(i, (kind, expected))| {
            let (base, token, stop, seen) = (
                base.to_owned(),
                token.to_owned(),
                stop.clone(),
                seen.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let request = match kind {
                        "read" => client.get(format!("{base}/api/v1/me")).bearer_auth(&token),
                        "write" => client
                            .post(format!("{base}/api/v1/learners"))
                            .bearer_auth(&token)
                            .json(&json!({"name": format!("重启学员{i}-{n}"), "kind": "student"})),
                        _ => client.get(format!("{base}/login")),
                    };
                    n += 1;
                    let outcome = match request.send().await {
                        Ok(resp) if resp.status().as_u16() == expected => Ok(()),
                        Ok(resp) => Err(format!(
                            "{kind}: {} {}",
                            resp.status(),
                            resp.text().await.unwrap_or_default()
                        )),
                        Err(error) => Err(format!("{kind}: {error}")),
                    };
                    {
                        let mut seen = seen.lock().unwrap();
                        match outcome {
                            Ok(()) => *seen.answered.entry(kind).or_default() += 1,
                            Err(failure) => seen.failures.push(failure),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect()
}

/// A client at `source` (another loopback address: the proxy sees it as another client).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap()
}

async fn login_status(client: &reqwest::Client, base: &str, email: &str, password: &str) -> u16 {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn replicas_behind_nginx_restart_under_load_without_a_failed_request_or_a_second_email() {
    let Some(nginx) = nginx() else {
        eprintln!("skipped: the replica drill needs nginx (Debian: apt-get install nginx)");
        return;
    };
    let app = spawn_app_with(&[
        ("SKILLPATH_WORKER_IN_SERVE", "false"),
        ("SKILLPATH_JOBS_IN_SERVE", "false"),
    ])
    .await;
    if app.backend != "postgres" {
        eprintln!("skipped: the replica drill needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let learner = reachable_student(&app).await;
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ports = [replica_port(), replica_port()];
    let mut replicas = Vec::new();
    for port in ports {
        replicas.push(Some(start_replica(&app, port, dir.path()).await));
    }
    let mut worker = Some(spawn_worker(&app, &smtp, "worker", &[]).await.0);
    let proxy_port = replica_port();
    let _nginx = start_nginx(&nginx, dir.path(), proxy_port, ports).await;
    let base = format!("http://127.0.0.1:{proxy_port}");

    let admin = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients = load(&base, &admin, stop.clone(), seen.clone());
    const EMAILS: usize = 200;
    produce_load(&app, learner.id, "重启", EMAILS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Each replica in turn, as `systemctl restart` does it; the worker in the middle.
    for (i, port) in ports.into_iter().enumerate() {
        let before = seen.lock().unwrap().answered.values().sum::<usize>();
        stop_gracefully(replicas[i].take().unwrap(), "a replica").await;
        if i == 0 {
            stop_gracefully(worker.take().unwrap(), "the worker").await;
        }
        replicas[i] = Some(start_replica(&app, port, dir.path()).await);
        // Ready, and past the site's fail_timeout (2 s): nginx sends to it again.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (after, failed) = {
            let seen = seen.lock().unwrap();
            let some: Vec<String> = seen.failures.iter().take(5).cloned().collect();
            (seen.answered.values().sum::<usize>(), some)
        };
        assert!(
            after > before,
            "requests kept being answered during the restart ({before} → {after}; failures: \
             {failed:?}); nginx: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
                + &ports
                    .iter()
                    .map(
                        |p| std::fs::read_to_string(dir.path().join(format!("replica-{p}.log")))
                            .unwrap_or_default()
                    )
                    .collect::<Vec<_>>()
                    .join("\n")
        );
    }
    let (_worker, _) = spawn_worker(&app, &smtp, "worker-again", &[]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.failures.is_empty(),
        "{} failed request(s) of {:?}: {:?}; nginx: {}",
        seen.failures.len(),
        seen.answered,
        &seen.failures[..seen.failures.len().min(10)],
        std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
    );
    for kind in ["read", "write", "page"] {
        assert!(
            seen.answered.get(kind).copied().unwrap_or(0) > 0,
            "{:?}",
            seen.answered
        );
    }

    // Every email once, across the worker's restart.
    wait_until("every email", Duration::from_secs(60), async || {
        with_subject(&smtp, "Skillpath: 重启").len() >= EMAILS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in with_subject(&smtp, "Skillpath: 重启") {
        *copies.entry(m.header("Message-ID").unwrap()).or_default() += 1;
    }
    assert_eq!(copies.len(), EMAILS);
    assert!(copies.values().all(|&n| n == 1), "an email was sent twice");

    // The limits hold per client behind the proxy: the address nginx passes on is the client's.
    let (a, b) = (client_from("127.0.0.2"), client_from("127.0.0.3"));
    for i in 0..5 {
        let status = login_status(&a, &base, ADMIN_EMAIL, "a wrong guess").await;
        assert_eq!(status, 401, "failure {i}");
    }
    // Both replicas (round robin) refuse the account, even its right password.
    for _ in 0..2 {
        assert_eq!(
            login_status(&a, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            429
        );
    }
    // Twenty failures per address (the default), over many accounts, from one client ...
    for i in 0..20 {
        let status = login_status(&b, &base, &format!("guess{i}@skillpath.test"), "x y z").await;
        assert_eq!(status, 401, "address failure {i}");
    }
    let status = login_status(&b, &base, "fresh@skillpath.test", "x y z").await;
    assert_eq!(status, 429);
    // ... while another client is not held back by them.
    let c = client_from("127.0.0.4");
    assert_eq!(
        login_status(&c, &base, "fresh@skillpath.test", "x y z").await,
        401
    );

    for replica in replicas.into_iter().flatten() {
        stop_gracefully(replica, "a replica").await;
    }
}
