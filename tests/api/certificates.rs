//! Certificate submission checks and the verification workflow.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

async fn world(app: &TestApp) -> (String, i64) {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    // Born 2005-01-01 (from the identity number).
    let learner = app
        .create_learner(&admin, json!({"name": "证书人", "kind": "student", "id_number": crate::helpers::id_number("31010420050101001")}))
        .await;
    (admin, learner)
}

fn certificate(number: &str, level: &str, issued_on: &str) -> Value {
    json!({"number": number, "kind": "skill_level", "level": level, "occupation_code": "6-18-02-04",
           "issuer": "某评价机构", "issued_on": issued_on})
}

#[tokio::test]
async fn submission_checks_numbers_dates_and_duplicates() {
    let app = spawn_app().await;
    let (admin, learner) = world(&app).await;
    let path = format!("/api/v1/learners/{learner}/certificates");

    // Y + 13 digits + year 24 + grade 3 (高级工) + 5 digits: consistent.
    let good = "Y310000000000024300012";
    let resp = app
        .post(
            &path,
            &certificate(good, "senior_worker", "2024-06-30"),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let cert: Value = resp.json().await.unwrap();
    assert_eq!(cert["status"], "pending");
    assert_eq!(cert["number_format"], "skill_level");
    assert_eq!(cert["warnings"], json!([]));
    assert_eq!(cert["learner_name"], "证书人");

    // The same number again, even typed in lower case with spaces.
    let resp = app
        .post(
            &path,
            &certificate(" y310000000000024300012 ", "senior_worker", "2024-06-30"),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "certificate_exists").await;

    // Digits that disagree with the record are kept, with warnings for the evaluator.
    let resp = app
        .post(
            &path,
            &certificate("S310000000000023200099", "senior_worker", "2024-06-30"),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let cert: Value = resp.json().await.unwrap();
    let codes: Vec<&str> = cert["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["number_year_mismatch", "number_level_mismatch"]);

    // Any other shape is accepted as `other`.
    let cert: Value = app
        .post(
            &path,
            &certificate("SH-2024-0001", "junior_worker", "2023-01-05"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cert["number_format"], "other");

    for (body, field) in [
        (
            certificate("A1", "senior_worker", "2999-01-01"),
            "issued_on",
        ),
        (
            certificate("A2", "senior_worker", "2018-06-30"),
            "issued_on",
        ), // skill-level certificates began in 2019
        (certificate("A3", "master", "2024-06-30"), "level"),
        (
            json!({"number": "A4", "kind": "diploma", "level": "technician", "occupation_code": "6-18-02-04", "issuer": "x", "issued_on": "2024-01-01"}),
            "kind",
        ),
    ] {
        let resp = app.post(&path, &body, Some(&admin)).await;
        assert_eq!(
            assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    // Before the learner's 14th birthday (born 2005-01-01): not plausible.
    let mut early = certificate("A5", "junior_worker", "2018-12-31");
    early["kind"] = json!("vocational_qualification");
    let body = assert_problem(
        app.post(&path, &early, Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("14th birthday"));
    let mut unknown = certificate("A6", "junior_worker", "2024-01-01");
    unknown["occupation_code"] = json!("6-99-99-99");
    assert_problem(
        app.post(&path, &unknown, Some(&admin)).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn evaluators_verify_reject_and_revoke_with_history() {
    let app = spawn_app().await;
    let (admin, learner) = world(&app).await;
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    let me = app
        .account(&admin, "me@x.cn", "learner", json!({"learner_id": learner}))
        .await;
    let path = format!("/api/v1/learners/{learner}/certificates");
    let first: Value = app
        .post(
            &path,
            &certificate("C-1", "senior_worker", "2024-06-30"),
            Some(&me),
        )
        .await
        .json()
        .await
        .unwrap();
    let second: Value = app
        .post(
            &path,
            &certificate("C-2", "technician", "2025-06-30"),
            Some(&me),
        )
        .await
        .json()
        .await
        .unwrap();
    let decide = |id: &Value| format!("/api/v1/certificates/{id}/verification");

    // A learner cannot decide on their own certificate.
    assert_problem(
        app.post(
            &decide(&first["id"]),
            &json!({"decision": "verify"}),
            Some(&me),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    let pending: Value = app
        .get("/api/v1/certificates?status=pending", Some(&evaluator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 2);

    let verified: Value = app
        .post(
            &decide(&first["id"]),
            &json!({"decision": "verify", "reason": "全国联网查询一致"}),
            Some(&evaluator),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["status"], "verified");
    let body = assert_problem(
        app.post(
            &decide(&second["id"]),
            &json!({"decision": "reject"}),
            Some(&evaluator),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let rejected: Value = app
        .post(
            &decide(&second["id"]),
            &json!({"decision": "reject", "reason": "查无此证"}),
            Some(&evaluator),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected");
    // Only the allowed transitions.
    assert_problem(
        app.post(
            &decide(&second["id"]),
            &json!({"decision": "verify"}),
            Some(&evaluator),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        app.post(
            &decide(&second["id"]),
            &json!({"decision": "revoke", "reason": "x"}),
            Some(&evaluator),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        app.post(
            &decide(&first["id"]),
            &json!({"decision": "reject", "reason": "x"}),
            Some(&evaluator),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        app.post(
            &decide(&first["id"]),
            &json!({"decision": "approve"}),
            Some(&evaluator),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;

    let revoked: Value = app
        .post(
            &decide(&first["id"]),
            &json!({"decision": "revoke", "reason": "证书被发证机构注销"}),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["status"], "revoked");
    let history: Vec<(&str, &str, &str)> = revoked["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap(),
                d["to_status"].as_str().unwrap(),
                d["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("verify", "verified", "全国联网查询一致"),
            ("revoke", "revoked", "证书被发证机构注销")
        ]
    );
    assert!(revoked["decisions"][0]["decided_by"].as_i64().unwrap() > 0);
    assert_ne!(
        revoked["decisions"][0]["decided_by"],
        revoked["decisions"][1]["decided_by"]
    );

    // The learner sees their certificates and their history.
    let mine: Value = app.get(&path, Some(&me)).await.json().await.unwrap();
    let statuses: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["revoked", "rejected"]);
    assert_problem(
        app.get("/api/v1/certificates", Some(&me)).await,
        403,
        "forbidden",
    )
    .await;
}
