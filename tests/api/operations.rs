use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn health_answers_with_a_request_id() {
    let app = spawn_app().await;
    let resp = app.get("/health", None).await;
    assert_eq!(resp.status(), 200);
    let id = resp
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert!(!id.to_str().unwrap().is_empty());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn ready_names_the_backend_under_test() {
    let app = spawn_app().await;
    let resp = app.get("/ready", None).await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], app.backend);
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        assert_eq!(
            body["database"], "postgres",
            "TEST_DATABASE_URL is set, so PostgreSQL must be under test"
        );
    }
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    assert_eq!(app.get("/ready", None).await.status(), 200);
    app.make_database_unreachable();
    let started = std::time::Instant::now();
    let resp = app.get("/ready", None).await;
    let retry_after = resp.headers().get("retry-after").cloned();
    let body = assert_problem(resp, 503, "service_unavailable").await;
    assert!(retry_after.is_some());
    // The pool gives up after about two seconds; nobody waits thirty.
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    // Nothing internal leaks: no path, no driver message.
    let text = body.to_string();
    assert!(
        !text.contains("skillpath.db") && !text.contains("skillpath_test"),
        "{text}"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health", None).await.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/health", None).await;
    app.get("/api/v1/users/12345", None).await;
    let resp = app.get("/metrics", None).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(
            r#"skillpath_http_requests_total{method="GET",route="/health",status="200"} 1"#
        ),
        "{text}"
    );
    // Routes are labelled by pattern, not by raw path.
    assert!(
        text.contains(r#"route="/api/v1/users/{id}",status="401""#),
        "{text}"
    );
    assert!(!text.contains("12345"));
    assert!(text.contains("skillpath_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"skillpath_db_pool_connections{state="max"} 4"#),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_and_docs_are_served() {
    let app = spawn_app().await;
    let resp = app.get("/openapi.json", None).await;
    assert_eq!(resp.status(), 200);
    let spec: serde_json::Value = resp.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());

    let resp = app.get("/docs/", None).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    let resp = app.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("/openapi.json"));
    // The bare path leads to the same page.
    let resp = app.get("/docs", None).await;
    assert!(
        resp.status() == 200 || resp.status().is_redirection(),
        "GET /docs answered {}",
        resp.status()
    );
}

/// A replica being restarted behind a proxy: a request that arrives on a connection the server
/// accepted just before it was told to stop is answered (nothing of it had run, and a proxy does
/// not send a POST again), while new connections are refused.
#[tokio::test]
async fn a_request_on_a_connection_accepted_before_a_stop_is_still_answered() {
    use std::io::{Read, Write};
    use std::time::Duration;

    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Accepted, and nothing sent yet: then the stop begins.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = tokio::spawn(app.server.stop(true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = address.clone();
    let answer = tokio::task::spawn_blocking(move || {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: replica\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        (read.map_err(|e| e.kind()), answer)
    })
    .await
    .unwrap();
    assert!(
        answer.0.is_ok() && answer.1.starts_with("HTTP/1.1 200"),
        "{answer:?}"
    );
    assert!(
        std::net::TcpStream::connect(&refused).is_err(),
        "a stopping server refuses new connections"
    );
    stopped.await.unwrap();
}
