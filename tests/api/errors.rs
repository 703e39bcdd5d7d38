use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn unknown_routes_are_problem_404() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/nothing-here", None).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.get("/elsewhere", None).await, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_method_is_problem_405() {
    let app = spawn_app().await;
    let resp = app
        .send(app.client.delete(app.url("/api/v1/auth/login")))
        .await;
    assert_problem(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_problem_400() {
    let app = spawn_app().await;
    let resp = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body(r#"{"email": "a@b.cn", "password": "#),
        )
        .await;
    assert_problem(resp, 400, "malformed_json").await;
}

#[tokio::test]
async fn unknown_and_missing_fields_are_problem_400() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "a@b.cn", "password": "x", "admin": true}),
            None,
        )
        .await;
    let body = assert_problem(resp, 400, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
    let resp = app
        .post("/api/v1/auth/login", &json!({"email": "a@b.cn"}), None)
        .await;
    let body = assert_problem(resp, 400, "invalid_body").await;
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_content_type_is_problem_415() {
    let app = spawn_app().await;
    let resp = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("email=a"),
        )
        .await;
    assert_problem(resp, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn oversized_body_is_problem_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": huge, "password": "x"}),
            None,
        )
        .await;
    assert_problem(resp, 413, "payload_too_large").await;
}

#[tokio::test]
async fn non_numeric_ids_name_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_problem(
        app.get("/api/v1/users/abc", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_problem(
        app.get("/api/v1/users?limit=many", Some(&admin)).await,
        400,
        "invalid_query",
    )
    .await;
    let body = assert_problem(
        app.get("/api/v1/users?limit=0", Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "limit");
    let body = assert_problem(
        app.get("/api/v1/users?cursor=zz", Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn a_date_outside_1900_to_2099_is_refused_by_its_field_on_both_backends() {
    // PostgreSQL cannot store year -5000 (it answered 500 before); SQLite stored it as text.
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token().await;
    let college = app
        .create_institution(&admin, "某技师学院", "technician_college")
        .await;
    for date in ["-5000-01-01", "1899-12-31", "+12345-01-01"] {
        let resp = app
            .post(
                &format!("/api/v1/institutions/{college}/designations"),
                &serde_json::json!({"batch": "远古", "designated_from": date}),
                Some(&admin),
            )
            .await;
        let problem = crate::helpers::assert_problem(resp, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "designated_from", "{date}");
    }
    let institution = app
        .get_json(&format!("/api/v1/institutions/{college}"), &admin)
        .await;
    assert_eq!(
        institution["designations"],
        serde_json::json!([]),
        "nothing stored"
    );
}
