//! The edge of the service under abuse: what a client controls must not grow the server's state,
//! bypass its limits, hold its write lock, or reach the database as something it cannot store.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, ADMIN_EMAIL, PASSWORD};

/// Sends raw bytes on a new connection and returns what the server answered.
fn raw_exchange(address: &str, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics", None).await.text().await.unwrap()
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let a = app.address.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        for i in 0..50 {
            let method = format!("X{i}{}", "Q".repeat(2000));
            let request =
                format!("{method} /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            raw_exchange(&a, request.as_bytes());
        }
    })
    .await
    .unwrap();
    let text = metrics(&app).await;
    assert!(!text.contains("QQQQ"), "a client's method became a label");
    assert!(
        text.contains(r#"method="other""#),
        "invented methods are counted under one label"
    );
    assert!(
        text.len() < 200_000,
        "metrics stay small: {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn forwarded_addresses_written_by_the_client_do_not_reset_the_login_limit() {
    let app = spawn_app_with(&[
        ("SKILLPATH_TRUST_PROXY_HEADERS", "true"),
        ("SKILLPATH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "1000"),
        ("SKILLPATH_LOGIN_MAX_FAILURES_PER_ADDRESS", "5"),
    ])
    .await;
    let mut refused = 0;
    for i in 0..12 {
        // The client invents the left entries; our one proxy appended the real address.
        let req = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("10.9.{i}.1, 203.0.113.7"))
            .json(&json!({"email": format!("u{i}@x.cn"), "password": "wrong password"}));
        if app.send(req).await.status() == 429 {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 7,
        "the sixth attempt from 203.0.113.7 on is refused"
    );
    // Another client behind the same proxy is not affected.
    let req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.4")
        .json(&json!({"email": "v@x.cn", "password": "wrong password"}));
    assert_eq!(app.send(req).await.status(), 401);
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_checked_no_more_than_the_limit() {
    let app = spawn_app_with(&[
        ("SKILLPATH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"),
        ("SKILLPATH_LOGIN_MAX_FAILURES_PER_ADDRESS", "1000"),
    ])
    .await;
    let wrong = json!({"email": ADMIN_EMAIL, "password": "not the password"});
    let attempts = (0..40).map(|_| app.post("/api/v1/auth/login", &wrong, None));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(refused, 35);
}

#[tokio::test]
async fn control_characters_are_refused_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = assert_problem(
        app.post(
            "/api/v1/auth/login",
            &json!({"email": "a\u{0}@x.cn", "password": "whatever it is"}),
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let body = assert_problem(
        app.post(
            "/api/v1/institutions",
            &json!({"name": "学院\u{0}", "kind": "technician_college"}),
            Some(&admin),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "name");
    let listed: Value = app.get_json("/api/v1/institutions", &admin).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    // In a query parameter, and in a path.
    let body = assert_problem(
        app.get("/api/v1/occupations?code_prefix=6%00", Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "code_prefix");
    assert_problem(
        app.get("/api/v1/occupations/6-18%00", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bodies_must_be_objects() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let resp = app
        .post(
            "/api/v1/users",
            &json!(["x@y.cn", PASSWORD, "evaluator", null, null]),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 400, "invalid_body").await;
    let users: Value = app.get_json("/api/v1/users", &admin).await;
    assert_eq!(
        users["items"].as_array().unwrap().len(),
        1,
        "only the admin"
    );
}

#[tokio::test]
async fn responses_carry_protective_headers_and_405_names_what_is_allowed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let resp = app.get("/api/v1/me", Some(&admin)).await;
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": ADMIN_EMAIL, "password": "admin password for tests"}),
            None,
        )
        .await;
    assert_eq!(resp.headers()["cache-control"], "no-store", "tokens");
    let docs = app.send(app.client.get(app.url("/docs/"))).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let resp = app
        .send(app.client.delete(app.url("/api/v1/users/1")))
        .await;
    assert_eq!(resp.headers()["allow"], "GET, PATCH");
    assert_problem(resp, 405, "method_not_allowed").await;
}

/// An upload trickled one byte a second holds no lock: a login (a write) meanwhile answers at once.
#[tokio::test]
async fn a_slow_upload_does_not_hold_the_write_lock() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let auth = format!("Bearer {admin}");
    let trickle = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let body = b"code,name\n6-18-02-04,e\n";
        let head = format!(
            "POST /api/v1/occupations/import HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        for b in body.iter().take(4) {
            stream.write_all(&[*b]).unwrap();
            std::thread::sleep(Duration::from_millis(700));
        }
        drop(stream);
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let tokens = app.login(ADMIN_EMAIL, "admin password for tests").await;
    assert!(tokens["access_token"].is_string());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a write waited {:?} behind an upload",
        started.elapsed()
    );
    trickle.await.unwrap();
}

#[tokio::test]
async fn uploads_with_bad_encoding_extra_cells_or_huge_cells_are_reported_by_line() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let import = async |body: Vec<u8>, content_type: &str, query: &str| {
        app.put_csv(
            &format!("/api/v1/occupations/import{query}"),
            body,
            content_type,
            &admin,
        )
        .await
    };
    // Invalid UTF-8 on line 3, in a file declared UTF-8: refused, never replaced.
    let mut body = b"code,name\n6-18-02-04,ok\n6-18-02-05,".to_vec();
    body.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let problem = assert_problem(
        import(body, "text/csv; charset=utf-8", "").await,
        400,
        "invalid_csv",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().starts_with("Line 3:"),
        "{problem}"
    );
    // A row with more cells than the header is rejected with its line, not cut short.
    let body = b"code,name,source\n6-18-02-04,ok,t\n6-18-02-05,two,t,extra\n".to_vec();
    let problem = assert_problem(import(body, "text/csv", "").await, 422, "import_rejected").await;
    assert_eq!(problem["report"]["rejected"][0]["line"], 3, "{problem}");
    assert_eq!(problem["report"]["rejected"][0]["field"], "row");
    assert_eq!(problem["report"]["rejected_count"], 1);
    // One enormous cell rejects its row, by its line; nothing of it is echoed back.
    let mut body = b"code,name,source\n6-18-02-04,".to_vec();
    body.extend(std::iter::repeat_n(b'x', 5_000_000));
    body.extend_from_slice(b",t\n");
    let resp = import(body, "text/csv", "").await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    assert_eq!(problem["report"]["rejected"][0]["line"], 2);
    assert!(
        problem.to_string().len() < 10_000,
        "the report does not echo the cell"
    );
    // A quote inside a cell does not fool the size check (the CSV reader's own cells are measured).
    let mut body = b"code,name,source\n\"a\"b\",\"".to_vec();
    for _ in 0..60_000 {
        body.extend_from_slice(b"xxxxxxxxx,");
    }
    body.extend_from_slice(b"\"\n");
    let problem = assert_problem(import(body, "text/csv", "").await, 422, "import_rejected").await;
    assert_eq!(
        problem["report"]["rejected"][0]["field"],
        "row",
        "{}",
        &problem.to_string()[..600]
    );
    // A control character in a cell is refused with its line, before anything is read.
    let body = b"code,name,source\n6-18-02-04,ok,t\n6-18-02-05,bad\x00name,t\n".to_vec();
    let problem = assert_problem(import(body, "text/csv", "").await, 400, "invalid_csv").await;
    assert!(
        problem["detail"].as_str().unwrap().starts_with("Line 3:"),
        "{problem}"
    );
    let listed: Value = app.get_json("/api/v1/occupations", &admin).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

/// An upload that stops sending is ended with 408 after its idle timeout (15 s), holding nothing.
#[tokio::test]
async fn a_stalled_upload_is_ended_with_408() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST /api/v1/occupations/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nc"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap_or(0);
        (String::from_utf8_lossy(&answer[..n]).into_owned(), started.elapsed())
    })
    .await
    .unwrap();
    let (text, waited) = answer;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(
        waited >= Duration::from_secs(14) && waited < Duration::from_secs(25),
        "{waited:?}"
    );
}

/// Writes `request` (ignoring a connection the server closed early), then reads the answer.
fn refused_exchange(address: &str, request: &[u8], wait: Duration) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    for chunk in request.chunks(16 * 1024) {
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status, a header and the JSON body of one raw answer.
fn read_problem(answer: &str) -> (u16, String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").expect(answer);
    let status = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn requests_refused_before_the_application_still_answer_with_problem_documents() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let too_many_headers = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..120)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let head_too_large = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(140 * 1024)
    );
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "a request line that is not HTTP",
            "GARBAGE\r\n\r\n".into(),
            400,
            "malformed_request",
        ),
        (
            "a header without its colon",
            "GET /health HTTP/1.1\r\nHost x\r\n\r\n".into(),
            400,
            "malformed_request",
        ),
        (
            "more headers than the parser holds",
            too_many_headers,
            431,
            "headers_too_large",
        ),
        (
            "a head over 128 KiB",
            head_too_large,
            431,
            "headers_too_large",
        ),
        (
            "a head that never ends (5 s)",
            "GET /health HTTP/1.1\r\nHost: x\r\n".into(),
            408,
            "request_timeout",
        ),
    ];
    let answers = tokio::task::spawn_blocking(move || {
        cases
            .into_iter()
            .map(|(what, request, status, code)| {
                let answer =
                    refused_exchange(&address, request.as_bytes(), Duration::from_secs(15));
                (what, answer, status, code)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (what, answer, status, code) in answers {
        let (got, content_type, body) = read_problem(&answer);
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(content_type, "application/problem+json", "{what}: {answer}");
        assert_eq!(body["status"], status, "{what}: {answer}");
        assert_eq!(body["code"], code, "{what}: {answer}");
        assert_eq!(
            body["type"],
            format!("urn:skillpath:problem:{code}"),
            "{what}"
        );
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{what}"
        );
        assert!(
            body["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "{what}"
        );
    }
    // The server goes on answering as before.
    let health = app.get("/health", None).await;
    assert_eq!(health.status(), 200);
}
