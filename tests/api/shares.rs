//! Shares end to end: a learner shares, HR of the right enterprise verifies by code and by the
//! signed statement (checked against the JWK Set by jsonwebtoken, an independent JOSE
//! implementation: the service has no verifier of its own), the learner sees the access and
//! revokes, and the next access gets 410. Also expiry, rate limits, key rotation and the
//! employer's view.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};
use crate::milestones::{student, verify, Learner};
use crate::smtp::SmtpServer;

pub struct World {
    pub l: Learner,
    pub enterprise_a: i64,
    pub hr_a: String,
    pub hr_b: String,
}

/// The milestone tests' student with a verified 高级工, and HR staff of two enterprises.
pub async fn world(app: &TestApp) -> World {
    let l = student(app).await;
    verify(app, &l).await;
    let enterprise_a = app
        .create_institution(&l.admin, "甲制造有限公司", "enterprise")
        .await;
    let enterprise_b = app
        .create_institution(&l.admin, "乙科技有限公司", "enterprise")
        .await;
    let hr_a = app
        .account(
            &l.admin,
            "hr@a.cn",
            "employer_hr",
            json!({"institution_id": enterprise_a}),
        )
        .await;
    let hr_b = app
        .account(
            &l.admin,
            "hr@b.cn",
            "employer_hr",
            json!({"institution_id": enterprise_b}),
        )
        .await;
    World {
        l,
        enterprise_a,
        hr_a,
        hr_b,
    }
}

/// The version of the consent text the tests' learners agree to.
pub const CONSENT: &str = "share-consent-2026-12";

/// Shares with the learner's consent (the current version, unless the body names one).
pub async fn share(app: &TestApp, token: &str, mut body: Value) -> Value {
    if body.get("consent_version").is_none() {
        body["consent_version"] = json!(CONSENT);
    }
    let resp = app.post("/api/v1/me/shares", &body, Some(token)).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn jwks(app: &TestApp) -> JwkSet {
    app.get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap()
}

/// Verifies a statement with jsonwebtoken against the published keys.
fn check_statement(set: &JwkSet, statement: &str, issuer: &str) -> Result<Value, String> {
    let header = decode_header(statement).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    decode::<Value>(statement, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// What the public status endpoint says of a share (by the identifier its statement carries).
async fn status_of(app: &TestApp, id: i64) -> String {
    let token = app
        .state
        .status_tokens
        .token(skillpath::domain::ShareId(id))
        .unwrap();
    let status: Value = app
        .get(&format!("/api/v1/verifications/status/{token}"), None)
        .await
        .json()
        .await
        .unwrap();
    status["status"].as_str().unwrap().to_owned()
}

/// The statements' issuer: `SKILLPATH_PUBLIC_URL`, by default http:// + the bind address.
const ISSUER: &str = "http://127.0.0.1:0";

#[tokio::test]
async fn a_learner_shares_hr_verifies_by_code_and_statement_then_revokes() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let created = share(
        &app,
        &w.l.me,
        json!({"purpose": "技师岗位津贴审核", "enterprise_id": w.enterprise_a}),
    )
    .await;
    let code = created["code"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "active");
    assert_eq!(created["enterprise"]["name"], "甲制造有限公司");
    assert!(created["link"].as_str().unwrap().ends_with(&code));
    assert_eq!(created["certificate_ids"], json!([w.l.certificate]));
    assert!(!created["milestone_keys"].as_array().unwrap().is_empty());

    // HR of another enterprise: as if the code did not exist.
    assert_problem(
        app.get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_b))
            .await,
        404,
        "not_found",
    )
    .await;
    // Only HR staff verify.
    for token in [&w.l.me, &w.l.evaluator, &w.l.staff] {
        assert_problem(
            app.get(&format!("/api/v1/verifications/{code}"), Some(token))
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    // The right HR, with the code typed carelessly.
    let typed = code.to_lowercase().replace('-', " ");
    let resp = app
        .get(
            &format!("/api/v1/verifications/{}", typed.replace(' ', "%20")),
            Some(&w.hr_a),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["basis"], "share");
    assert_eq!(seen["display_name"], "王*");
    assert_eq!(seen["purpose"], "技师岗位津贴审核");
    assert_eq!(seen["certificates"][0]["status"], "verified");
    assert_eq!(seen["certificates"][0]["number"], "Y310000000000024300012");
    let milestone = &seen["milestones"][0];
    assert_eq!(milestone["status"], "met");
    assert!(milestone["citation"]["source"].as_str().is_some());
    assert!(
        seen.to_string().find("wang@x.cn").is_none(),
        "no contact data"
    );

    // The learner sees the access and hears of it.
    let detail: Value = app
        .get_json(&format!("/api/v1/me/shares/{id}"), &w.l.me)
        .await;
    let accesses = detail["accesses"].as_array().unwrap();
    assert_eq!(accesses.len(), 1);
    assert_eq!(accesses[0]["user_email"], "hr@a.cn");
    assert_eq!(accesses[0]["institution"]["name"], "甲制造有限公司");
    assert_eq!(accesses[0]["basis"], "share");
    let all: Value = app.get_json("/api/v1/me/share-accesses", &w.l.me).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let inbox = app.inbox(&w.l.me).await;
    assert!(
        inbox
            .iter()
            .any(|i| i["category"] == "share"
                && i["title"]["zh-CN"] == "甲制造有限公司查看了您的共享")
    );
    // Only the learner sees their shares.
    assert_problem(
        app.get(&format!("/api/v1/me/shares/{id}"), Some(&w.l.evaluator))
            .await,
        403,
        "forbidden",
    )
    .await;

    // The statement verifies offline against the JWK Set; a tampered one does not.
    let statement = created["statement"].as_str().unwrap();
    let set = jwks(&app).await;
    let claims = check_statement(&set, statement, ISSUER).expect("a valid statement");
    assert_eq!(claims["share_id"], id);
    assert_eq!(claims["sub"], format!("share:{id}"));
    // The status is reached by the statement's own link, never by counting share ids.
    let status_url = claims["status_url"].as_str().unwrap();
    let path = &status_url[status_url.find("/api/v1/").unwrap()..];
    let status: Value = app.get(path, None).await.json().await.unwrap();
    assert_eq!(status["status"], "active");
    assert_problem(
        app.get(&format!("/api/v1/verifications/status/{id}.AAAA"), None)
            .await,
        404,
        "not_found",
    )
    .await;
    // A bare id (as statements before unguessable links carried) is answered alike for every
    // number: it tells nothing of which shares exist.
    let mut answers = Vec::new();
    for guess in [id, id + 1, 999_999] {
        let body = assert_problem(
            app.get(&format!("/api/v1/verifications/status/{guess}"), None)
                .await,
            410,
            "status_link_replaced",
        )
        .await;
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(claims["learner"]["display_name"], "王*");
    assert_eq!(claims["certificates"][0]["status"], "verified");
    assert_eq!(claims["recipient"]["institution_id"], w.enterprise_a);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 30 * 86_400, "30 days by default");
    let parts: Vec<&str> = statement.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["certificates"][0]["level"] = json!("senior_technician");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert!(check_statement(&set, &forged, ISSUER).is_err());
    assert_eq!(status_of(&app, id).await, "active");

    // Revoked: the next access is 410, and offline verifiers learn it from the status.
    let resp = app
        .post(
            &format!("/api/v1/me/shares/{id}/revoke"),
            &json!({}),
            Some(&w.l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "revoked");
    assert_problem(
        app.get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_a))
            .await,
        410,
        "share_revoked",
    )
    .await;
    assert_eq!(status_of(&app, id).await, "revoked");
}

#[tokio::test]
async fn a_revoked_certificate_shows_as_revoked_and_reaches_the_hr_staff_who_saw_it() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(&[
        ("SMTP_URL", url.as_str()),
        ("SKILLPATH_WORKER_POLL_MS", "20"),
    ])
    .await;
    let w = world(&app).await;
    let created = share(&app, &w.l.me, json!({"purpose": "入职审核"})).await;
    let code = created["code"].as_str().unwrap();
    // Any enterprise's HR may use a share that names none; HR of B looks, HR of A does not.
    let seen: Value = app
        .get_json(&format!("/api/v1/verifications/{code}"), &w.hr_b)
        .await;
    assert_eq!(seen["certificates"][0]["status"], "verified");

    let resp = app
        .post(
            &format!("/api/v1/certificates/{}/verification", w.l.certificate),
            &json!({"decision": "revoke", "reason": "发证机构撤销"}),
            Some(&w.l.evaluator),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let seen: Value = app
        .get_json(&format!("/api/v1/verifications/{code}"), &w.hr_b)
        .await;
    assert_eq!(
        seen["certificates"][0]["status"], "revoked",
        "shown, not hidden"
    );
    assert_ne!(
        seen["milestones"][0]["status"], "met",
        "the milestone rested on the certificate"
    );

    // The HR account that relied on it hears of it, in the inbox and by email; the other not.
    let inbox = async |token: String| -> Value {
        let req = app
            .client
            .get(app.url("/api/v1/me/notifications"))
            .bearer_auth(token);
        app.send(req).await.json::<Value>().await.unwrap()
    };
    let told = inbox(w.hr_b.clone()).await;
    let items = told["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{told}");
    assert!(items[0]["title"]["zh-CN"]
        .as_str()
        .unwrap()
        .starts_with("您查看过的证书已被撤销：王*的高级工"));
    assert!(items[0]["body"]["zh-CN"]
        .as_str()
        .unwrap()
        .contains("入职审核"));
    assert_eq!(inbox(w.hr_a.clone()).await["items"], json!([]));
    let started = std::time::Instant::now();
    loop {
        let to_hr: Vec<_> = smtp
            .received()
            .into_iter()
            .filter(|m| m.rcpt_to == vec!["hr@b.cn".to_owned()])
            .collect();
        if let Some(m) = to_hr.first() {
            assert!(m
                .decoded_header("Subject")
                .unwrap()
                .starts_with("Skillpath: 您查看过的证书已被撤销"));
            assert!(m.header("List-Unsubscribe").is_none(), "a work notice");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no email to HR"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(smtp
        .received()
        .iter()
        .all(|m| m.rcpt_to != vec!["hr@a.cn".to_owned()]));
}

#[tokio::test]
async fn shares_expire_and_bad_requests_change_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let now = chrono::Utc::now();
    for (body, field) in [
        (json!({"purpose": " "}), "purpose"),
        (
            json!({"consent_version": CONSENT, "purpose": "x", "expires_at": (now + chrono::Duration::days(181)).to_rfc3339()}),
            "expires_at",
        ),
        (
            json!({"consent_version": CONSENT, "purpose": "x", "expires_at": (now - chrono::Duration::minutes(1)).to_rfc3339()}),
            "expires_at",
        ),
        (
            json!({"consent_version": CONSENT, "purpose": "x", "certificate_ids": [999999]}),
            "certificate_ids",
        ),
        (
            json!({"consent_version": CONSENT, "purpose": "x", "milestone_keys": ["no.such:key"]}),
            "milestone_keys",
        ),
        (
            json!({"consent_version": CONSENT, "purpose": "x", "enterprise_id": 999999}),
            "enterprise_id",
        ),
    ] {
        let problem = assert_problem(
            app.post("/api/v1/me/shares", &body, Some(&w.l.me)).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let list: Value = app.get_json("/api/v1/me/shares", &w.l.me).await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing stored"
    );

    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let created = share(
        &app,
        &w.l.me,
        json!({"purpose": "短期", "expires_at": soon}),
    )
    .await;
    let code = created["code"].as_str().unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_a))
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_problem(
        app.get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_a))
            .await,
        410,
        "share_expired",
    )
    .await;
    assert_eq!(status_of(&app, id).await, "expired");
    assert_eq!(
        app.get_json("/api/v1/me/shares", &w.l.me).await["items"][0]["status"],
        "expired"
    );
}

#[tokio::test]
async fn guessing_codes_hits_a_rate_limit() {
    let app = spawn_app_with(&[("SKILLPATH_SHARE_CODE_MAX_FAILURES_PER_ACCOUNT", "3")]).await;
    let w = world(&app).await;
    let created = share(&app, &w.l.me, json!({"purpose": "入职审核"})).await;
    let code = created["code"].as_str().unwrap();
    for guess in ["AAAA-AAAA-AAAA-AAAA", "not a code", "BBBB-BBBB-BBBB-BBBB"] {
        assert_problem(
            app.get(&format!("/api/v1/verifications/{guess}"), Some(&w.hr_a))
                .await,
            404,
            "not_found",
        )
        .await;
    }
    let resp = app
        .get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_a))
        .await;
    assert!(resp.headers().get("retry-after").is_some());
    assert_problem(resp, 429, "too_many_requests").await;
    // Another HR account is not locked out.
    assert_eq!(
        app.get(&format!("/api/v1/verifications/{code}"), Some(&w.hr_b))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn rotated_keys_stay_published_until_their_statements_expire() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let first = share(&app, &w.l.me, json!({"purpose": "一", "expires_at": soon})).await;
    let first_kid = decode_header(first["statement"].as_str().unwrap())
        .unwrap()
        .kid
        .unwrap();

    assert_problem(
        app.post(
            "/api/v1/admin/signing-keys/rotate",
            &json!({}),
            Some(&w.hr_a),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let resp = app
        .post(
            "/api/v1/admin/signing-keys/rotate",
            &json!({}),
            Some(&w.l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let second_kid = resp.json::<Value>().await.unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first_kid, second_kid);
    let second = share(&app, &w.l.me, json!({"purpose": "二"})).await;
    let statement = second["statement"].as_str().unwrap();
    assert_eq!(decode_header(statement).unwrap().kid.unwrap(), second_kid);

    // Both keys are published, and both statements verify.
    let set = jwks(&app).await;
    assert!(set.find(&first_kid).is_some() && set.find(&second_kid).is_some());
    check_statement(&set, first["statement"].as_str().unwrap(), ISSUER).unwrap();
    check_statement(&set, statement, ISSUER).unwrap();
    let keys: Value = app.get_json("/api/v1/admin/signing-keys", &w.l.admin).await;
    let old = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == first_kid.as_str())
        .unwrap();
    assert!(old["retired_at"].is_string());
    assert_eq!(old["published"], true);

    // Once the last statement the old key signed has expired, it is withdrawn.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let set = jwks(&app).await;
    assert!(set.find(&first_kid).is_none());
    assert!(set.find(&second_kid).is_some());
}

#[tokio::test]
async fn employers_see_their_employees_verified_records_and_the_view_is_logged() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/employments", w.l.id),
            &json!({"employer_name": "甲制造有限公司", "employer_institution_id": w.enterprise_a,
                "occupation_code": "6-18-02-04", "post_title": "电工", "start_date": "2025-07-01"}),
            Some(&w.l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    // The learner turned access notices off: the look is still logged, but not announced.
    let resp = app
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"certificate": {"inbox": true, "email": true},
            "milestone": {"inbox": true, "email": true},
            "share": {"inbox": false, "email": false},
            "quiet_hours": {"start": "22:00", "end": "08:00"}}),
            Some(&w.l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .get(&format!("/api/v1/employees/{}", w.l.id), Some(&w.hr_a))
        .await;
    assert_eq!(resp.status(), 200);
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["basis"], "employment");
    assert_eq!(seen["certificates"][0]["status"], "verified");
    assert!(seen["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["status"] == "met"));
    // Not an employee of the other enterprise.
    assert_problem(
        app.get(&format!("/api/v1/employees/{}", w.l.id), Some(&w.hr_b))
            .await,
        404,
        "not_found",
    )
    .await;
    let accesses: Value = app.get_json("/api/v1/me/share-accesses", &w.l.me).await;
    let items = accesses["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["basis"], "employment");
    assert_eq!(items[0]["user_email"], "hr@a.cn");
    let inbox = app.inbox(&w.l.me).await;
    assert!(inbox.iter().all(|i| i["category"] != "share"), "{inbox:?}");
}

/// Only verified certificates are signed into a statement; repeated ids count once; lists are
/// capped.
#[tokio::test]
async fn only_verified_certificates_are_shared_and_lists_are_bounded() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/certificates", w.l.id),
            &json!({"number": "PENDING-1", "kind": "skill_level", "level": "technician",
                "occupation_code": "6-18-02-04", "issuer": "x", "issued_on": "2025-06-30"}),
            Some(&w.l.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let pending = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let problem = assert_problem(
        app.post(
            "/api/v1/me/shares",
            &json!({"consent_version": CONSENT, "purpose": "x", "certificate_ids": [w.l.certificate, pending]}),
            Some(&w.l.me),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "certificate_ids");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("only verified"));
    let many: Vec<i64> = (1..=101).collect();
    let problem = assert_problem(
        app.post(
            "/api/v1/me/shares",
            &json!({"consent_version": CONSENT, "purpose": "x", "certificate_ids": many}),
            Some(&w.l.me),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "certificate_ids");
    let created = share(
        &app,
        &w.l.me,
        json!({"consent_version": CONSENT, "purpose": "x", "certificate_ids": [w.l.certificate, w.l.certificate]}),
    )
    .await;
    assert_eq!(created["certificate_ids"], json!([w.l.certificate]));
}
