use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn admin_creates_an_account_that_can_log_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let college = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let resp = app
        .post(
            "/api/v1/users",
            &json!({"email": "Wang.Fang@College.Example", "password": PASSWORD, "role": "college_staff", "institution_id": college}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["email"], "wang.fang@college.example");
    assert_eq!(created["role"], "college_staff");
    assert_eq!(created["institution_id"], college);
    assert_eq!(created["disabled"], false);
    assert_eq!(location, format!("/api/v1/users/{}", created["id"]));
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched: Value = app.get(&location, Some(&admin)).await.json().await.unwrap();
    assert_eq!(fetched, created);
    let tokens = app.login("wang.fang@college.example", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me", tokens["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "college_staff");
}

#[tokio::test]
async fn the_same_email_in_another_case_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        json!({"email": "li@x.cn", "password": PASSWORD, "role": "evaluator"}),
    )
    .await;
    let resp = app
        .post(
            "/api/v1/users",
            &json!({"email": "LI@X.CN", "password": PASSWORD, "role": "evaluator"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "email_taken").await;
}

#[tokio::test]
async fn invalid_fields_are_all_named() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let resp = app
        .post(
            "/api/v1/users",
            &json!({"email": "nope", "password": "short", "role": "root"}),
            Some(&admin),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password", "role"]);

    let before: Value = app
        .get("/api/v1/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        1,
        "a rejected request stores nothing"
    );
}

#[tokio::test]
async fn bindings_are_checked_per_role() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let college = app
        .create_institution(&admin, "某技工学校", "technical_school")
        .await;
    let enterprise = app
        .create_institution(&admin, "某电气有限公司", "enterprise")
        .await;
    let learner = app
        .create_learner(&admin, json!({"name": "李雷", "kind": "student"}))
        .await;
    let cases = [
        (
            json!({"role": "learner"}),
            "learner_id",
            "is required for role learner".to_owned(),
        ),
        (
            json!({"role": "college_staff"}),
            "institution_id",
            "is required for role college_staff".to_owned(),
        ),
        (
            json!({"role": "employer_hr", "institution_id": enterprise, "learner_id": learner}),
            "learner_id",
            "must be absent for role employer_hr".to_owned(),
        ),
        (
            json!({"role": "evaluator", "institution_id": college}),
            "institution_id",
            "must be absent for role evaluator".to_owned(),
        ),
        (
            json!({"role": "admin", "learner_id": learner}),
            "learner_id",
            "must be absent for role admin".to_owned(),
        ),
        (
            json!({"role": "learner", "learner_id": -1}),
            "learner_id",
            "must be a positive id".to_owned(),
        ),
        (
            json!({"role": "learner", "learner_id": 9999}),
            "learner_id",
            "no such learner".to_owned(),
        ),
        (
            json!({"role": "college_staff", "institution_id": 9999}),
            "institution_id",
            "no such institution".to_owned(),
        ),
        (
            json!({"role": "employer_hr", "institution_id": college}),
            "institution_id",
            "HR staff must be bound to an institution of kind enterprise".to_owned(),
        ),
        (
            json!({"role": "college_staff", "institution_id": enterprise}),
            "institution_id",
            "college staff must be bound to a school or college, not an enterprise".to_owned(),
        ),
    ];
    for (i, (mut body, field, message)) in cases.into_iter().enumerate() {
        body["email"] = json!(format!("user{i}@x.cn"));
        body["password"] = json!(PASSWORD);
        let problem = assert_problem(
            app.post("/api/v1/users", &body, Some(&admin)).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
        assert_eq!(problem["errors"][0]["message"], message.as_str(), "{body}");
    }
    for (email, body) in [
        ("l@x.cn", json!({"role": "learner", "learner_id": learner})),
        (
            "hr@x.cn",
            json!({"role": "employer_hr", "institution_id": enterprise}),
        ),
        (
            "staff@x.cn",
            json!({"role": "college_staff", "institution_id": college}),
        ),
    ] {
        let mut body = body;
        body["email"] = json!(email);
        body["password"] = json!(PASSWORD);
        assert_eq!(
            app.post("/api/v1/users", &body, Some(&admin))
                .await
                .status(),
            201,
            "{body}"
        );
    }
}

#[tokio::test]
async fn only_admins_manage_accounts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    let body = json!({"email": "new@x.cn", "password": PASSWORD, "role": "admin"});
    assert_problem(
        app.post("/api/v1/users", &body, Some(&evaluator)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/users", Some(&evaluator)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/users/1", Some(&evaluator)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch(
            "/api/v1/users/1",
            &json!({"disabled": true}),
            Some(&evaluator),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post("/api/v1/users", &body, None).await,
        401,
        "missing_token",
    )
    .await;
    // The evaluator still sees their own account.
    assert_eq!(app.get("/api/v1/me", Some(&evaluator)).await.status(), 200);
}

#[tokio::test]
async fn lists_page_through_every_account_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_user(
            &admin,
            json!({"email": format!("e{i}@x.cn"), "password": PASSWORD, "role": "evaluator"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=2&cursor={c}"),
            None => "/api/v1/users?limit=2".to_owned(),
        };
        let page: Value = app.get(&path, Some(&admin)).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "admin@skillpath.test",
            "e0@x.cn",
            "e1@x.cn",
            "e2@x.cn",
            "e3@x.cn"
        ]
    );

    let evaluators: Value = app
        .get("/api/v1/users?role=evaluator&email_prefix=E1", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = evaluators["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["e1@x.cn"]);
    let body = assert_problem(
        app.get("/api/v1/users?role=root", Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");
    // LIKE wildcards in the prefix match literally.
    let none: Value = app
        .get("/api/v1/users?email_prefix=%25", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me: Value = app
        .get("/api/v1/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let resp = app
        .patch(
            &format!("/api/v1/users/{}", me["id"]),
            &json!({"disabled": true}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "cannot_disable_self").await;
    assert_problem(
        app.patch(
            "/api/v1/users/9999",
            &json!({"disabled": true}),
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_admin_can_reset_a_password() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(
            &admin,
            json!({"email": "r@x.cn", "password": PASSWORD, "role": "evaluator"}),
        )
        .await;
    let resp = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"password": "short"}),
            Some(&admin),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "password");
    let resp = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"password": "reset by the administrator"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    app.login("r@x.cn", "reset by the administrator").await;
    // Account changes are audited, without the password.
    let audit = app
        .get(
            &format!("/api/v1/audit?entity_type=user&entity_id={id}"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    let entries: Value = serde_json::from_str(&audit).unwrap();
    let actions: Vec<&str> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"]);
    assert_eq!(entries["items"][1]["summary"]["password_reset"], true);
    assert!(!audit.contains("reset by the administrator"));
}
