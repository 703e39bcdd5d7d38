use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, spawn_app, spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD,
};

#[tokio::test]
async fn login_returns_tokens_that_open_the_api() {
    let app = spawn_app().await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 40);
    let me: Value = app
        .get("/api/v1/me", tokens["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn email_is_matched_regardless_of_case() {
    let app = spawn_app().await;
    app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong_password = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": ADMIN_EMAIL, "password": "not the password"}),
            None,
        )
        .await;
    let wrong_password = assert_problem(wrong_password, 401, "invalid_credentials").await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "nobody@skillpath.test", "password": "not the password"}),
            None,
        )
        .await;
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(wrong_password, unknown);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": token}),
        None,
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let resp = refresh(&app, first_refresh).await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(first_refresh, second_refresh);
    assert_eq!(
        app.get("/api/v1/me", second["access_token"].as_str())
            .await
            .status(),
        200
    );

    // Replaying the consumed token is treated as theft: the family ends…
    assert_problem(
        refresh(&app, first_refresh).await,
        401,
        "refresh_token_reused",
    )
    .await;
    // …so the legitimate successor no longer works either.
    assert_problem(
        refresh(&app, second_refresh).await,
        401,
        "refresh_token_revoked",
    )
    .await;

    // Another login is a separate family and is unaffected by the first one's fate.
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    assert_problem(refresh(&app, "made-up").await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let resp = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": refresh_token}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_problem(
        refresh(&app, refresh_token).await,
        401,
        "refresh_token_revoked",
    )
    .await;
    // Logging out twice, or with a token we never issued, is harmless.
    let resp = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": "unknown"}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
}

fn claims(app_user_id: i64, iss: &str, aud: &str, iat: u64, exp: u64) -> Value {
    json!({"sub": app_user_id.to_string(), "role": "admin", "ver": 0, "iat": iat, "exp": exp, "iss": iss, "aud": aud})
}

fn sign(alg: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn bad_access_tokens_are_401() {
    let app = spawn_app().await;
    let me: Value = app
        .get("/api/v1/me", Some(&app.admin_token().await))
        .await
        .json()
        .await
        .unwrap();
    let id = me["id"].as_i64().unwrap();
    let now = get_current_timestamp();

    // Sanity: a token we craft correctly is accepted, so the refusals below are about the flaw.
    let good = sign(
        Algorithm::HS256,
        &app.jwt_secret,
        &claims(id, "skillpath", "skillpath-api", now, now + 600),
    );
    assert_eq!(app.get("/api/v1/me", Some(&good)).await.status(), 200);

    let expired = sign(
        Algorithm::HS256,
        &app.jwt_secret,
        &claims(id, "skillpath", "skillpath-api", now - 7200, now - 3600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&expired)).await,
        401,
        "token_expired",
    )
    .await;

    let wrong_audience = sign(
        Algorithm::HS256,
        &app.jwt_secret,
        &claims(id, "skillpath", "other-api", now, now + 600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&wrong_audience)).await,
        401,
        "invalid_token",
    )
    .await;

    let wrong_issuer = sign(
        Algorithm::HS256,
        &app.jwt_secret,
        &claims(id, "someone-else", "skillpath-api", now, now + 600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&wrong_issuer)).await,
        401,
        "invalid_token",
    )
    .await;

    let wrong_algorithm = sign(
        Algorithm::HS512,
        &app.jwt_secret,
        &claims(id, "skillpath", "skillpath-api", now, now + 600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&wrong_algorithm)).await,
        401,
        "invalid_token",
    )
    .await;

    let wrong_key = sign(
        Algorithm::HS256,
        "another secret of the same generous length!",
        &claims(id, "skillpath", "skillpath-api", now, now + 600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&wrong_key)).await,
        401,
        "invalid_token",
    )
    .await;

    // Tampered payload: the role claim changed after signing.
    let parts: Vec<&str> = good.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("999");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    assert_problem(
        app.get("/api/v1/me", Some(&tampered)).await,
        401,
        "invalid_token",
    )
    .await;

    // alg "none": no signature at all.
    let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_problem(
        app.get("/api/v1/me", Some(&unsigned)).await,
        401,
        "invalid_token",
    )
    .await;

    // A signed token for a user who does not exist.
    let ghost = sign(
        Algorithm::HS256,
        &app.jwt_secret,
        &claims(424242, "skillpath", "skillpath-api", now, now + 600),
    );
    assert_problem(
        app.get("/api/v1/me", Some(&ghost)).await,
        401,
        "token_revoked",
    )
    .await;

    assert_problem(app.get("/api/v1/me", None).await, 401, "missing_token").await;
    let resp = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .header("authorization", "Basic abc"),
        )
        .await;
    assert_problem(resp, 401, "missing_token").await;
}

#[tokio::test]
async fn disabling_a_user_cuts_their_access_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(
            &admin,
            json!({"email": "ping@skillpath.test", "password": PASSWORD, "role": "evaluator"}),
        )
        .await;
    let tokens = app.login("ping@skillpath.test", PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(access)).await.status(), 200);

    let resp = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"disabled": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["disabled"], true);

    assert_problem(
        app.get("/api/v1/me", Some(access)).await,
        401,
        "token_revoked",
    )
    .await;
    assert_problem(
        refresh(&app, tokens["refresh_token"].as_str().unwrap()).await,
        401,
        "refresh_token_revoked",
    )
    .await;
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "ping@skillpath.test", "password": PASSWORD}),
            None,
        )
        .await;
    assert_problem(resp, 401, "invalid_credentials").await;

    // Enabled again, the account can log in; the old token stays dead.
    app.patch(
        &format!("/api/v1/users/{id}"),
        &json!({"disabled": false}),
        Some(&admin),
    )
    .await;
    app.login("ping@skillpath.test", PASSWORD).await;
    assert_problem(
        app.get("/api/v1/me", Some(access)).await,
        401,
        "token_revoked",
    )
    .await;
}

#[tokio::test]
async fn changing_the_password_cuts_older_sessions() {
    let app = spawn_app().await;
    let old_session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old_access = old_session["access_token"].as_str().unwrap();

    let resp = app
        .post(
            "/api/v1/me/password",
            &json!({"current_password": "wrong guess here", "new_password": "a brand new passphrase"}),
            Some(old_access),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");

    let resp = app
        .post(
            "/api/v1/me/password",
            &json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase"}),
            Some(old_access),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let new_session: Value = resp.json().await.unwrap();

    assert_problem(
        app.get("/api/v1/me", Some(old_access)).await,
        401,
        "token_revoked",
    )
    .await;
    assert_problem(
        refresh(&app, old_session["refresh_token"].as_str().unwrap()).await,
        401,
        "refresh_token_revoked",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", new_session["access_token"].as_str())
            .await
            .status(),
        200
    );
    app.login(ADMIN_EMAIL, "a brand new passphrase").await;
}

#[tokio::test]
async fn repeated_failures_for_one_account_get_429() {
    let app = spawn_app().await;
    let wrong = json!({"email": ADMIN_EMAIL, "password": "not the password"});
    for _ in 0..5 {
        assert_eq!(
            app.post("/api/v1/auth/login", &wrong, None).await.status(),
            401
        );
    }
    let resp = app.post("/api/v1/auth/login", &wrong, None).await;
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900);
    assert_problem(resp, 429, "too_many_requests").await;
    // Locked means locked: even the right password waits.
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            None,
        )
        .await;
    assert_problem(resp, 429, "too_many_requests").await;
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429() {
    let app = spawn_app_with(&[("SKILLPATH_LOGIN_MAX_FAILURES_PER_ADDRESS", "4")]).await;
    for i in 0..4 {
        let body =
            json!({"email": format!("guess{i}@skillpath.test"), "password": "whatever it is"});
        assert_eq!(
            app.post("/api/v1/auth/login", &body, None).await.status(),
            401
        );
    }
    let body = json!({"email": "yet-another@skillpath.test", "password": "whatever it is"});
    let resp = app.post("/api/v1/auth/login", &body, None).await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_problem(resp, 429, "too_many_requests").await;
}

#[tokio::test]
async fn the_login_window_expires() {
    let app = spawn_app_with(&[
        ("SKILLPATH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "1"),
        ("SKILLPATH_LOGIN_WINDOW_SECS", "1"),
    ])
    .await;
    let wrong = json!({"email": ADMIN_EMAIL, "password": "not the password"});
    assert_eq!(
        app.post("/api/v1/auth/login", &wrong, None).await.status(),
        401
    );
    assert_eq!(
        app.post("/api/v1/auth/login", &wrong, None).await.status(),
        429
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}
