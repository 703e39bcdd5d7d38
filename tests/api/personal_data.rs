//! Learners' rights over their personal information, end to end: a copy of everything (PIPL
//! Art. 45), checked against the database table by table.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{json, Value};

use crate::calendar::turn_on_calendar;
use crate::helpers::{assert_problem, id_number, TestApp};
use crate::shares::{share, world, World};

/// A learner with a record of every kind: facts with an identity number, a kind change, an
/// enrollment, an employment, an award, a verified certificate (its decision), milestones and
/// their events, notifications in the inbox and the outbox, preferences, a share HR looked at,
/// a calendar feed that was fetched, a correction request, and audit entries about all of it.
pub async fn learner_with_everything(app: &TestApp) -> (World, String) {
    let w = world(app).await;
    let l = &w.l;
    let number = id_number("31010119900307002");
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"id_number": number, "email": "wang.fang@example.cn"}),
            Some(&l.staff),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"kind": "employee"}),
            Some(&l.staff),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/employments", l.id),
            &json!({"employer_name": "甲制造有限公司", "employer_institution_id": w.enterprise_a,
                "occupation_code": "6-18-02-04", "post_title": "维修电工", "start_date": "2025-07-01",
                "frontline": true}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/awards", l.id),
            &json!({"kind": "national_competition_medal", "title": "全国技能大赛铜牌", "awarded_on": "2024-10-01"}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let mut prefs: Value = app
        .get("/api/v1/me/notification-preferences", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    prefs["milestone"]["email"] = json!(false);
    let resp = app
        .put("/api/v1/me/notification-preferences", &prefs, Some(&l.me))
        .await;
    assert_eq!(resp.status(), 200);
    let shared = share(
        app,
        &l.me,
        json!({"purpose": "技师岗位津贴审核", "enterprise_id": w.enterprise_a}),
    )
    .await;
    let resp = app
        .get(
            &format!("/api/v1/verifications/{}", shared["code"].as_str().unwrap()),
            Some(&w.hr_a),
        )
        .await;
    assert_eq!(resp.status(), 200);
    turn_on_calendar(app, &l.me).await;
    let resp = app
        .post(
            "/api/v1/me/corrections",
            &json!({"record": "learner", "changes": {"name": "王芳芳"}, "reason": "户口本上的姓名是王芳芳"}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 201);
    (w, number)
}

/// The files of a zip, by name.
pub fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().to_owned(), content);
    }
    files
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows of `table` whose `column` is `id`, counted in the database itself.
pub fn count_rows(app: &TestApp, table: &str, column: &str, id: i64) -> i64 {
    let mut conn = app.state.db.get().unwrap();
    let query = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = {id}");
    skillpath::each_backend!(&mut *conn, c => diesel::sql_query(&query).get_result::<Count>(c))
        .unwrap()
        .n
}

#[tokio::test]
async fn a_learner_gets_a_copy_of_everything_held_about_them() {
    let app = crate::helpers::spawn_app().await;
    let (w, number) = learner_with_everything(&app).await;
    let l = &w.l;

    let resp = app.get("/api/v1/me/export", Some(&l.me)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let files = unzip(&resp.bytes().await.unwrap());
    let document: Value = serde_json::from_slice(&files["export.json"]).unwrap();
    assert_eq!(document["format"], "skillpath-personal-data");
    assert_eq!(document["learner_id"], l.id);
    let sections = document["sections"].as_object().unwrap();

    // Every section holds every row the database has about the learner.
    let learner = &sections["learner"];
    assert_eq!(learner["name"], "王芳");
    assert_eq!(learner["email"], "wang.fang@example.cn");
    assert!(learner["id_number_masked"].as_str().unwrap().contains('*'));
    for (section, table, column) in [
        ("kind_changes", "learner_kind_changes", "learner_id"),
        ("accounts", "users", "learner_id"),
        ("enrollments", "enrollments", "learner_id"),
        ("employments", "employments", "learner_id"),
        ("awards", "awards", "learner_id"),
        ("certificates", "certificates", "learner_id"),
        ("milestones", "learner_milestones", "learner_id"),
        ("milestone_events", "milestone_events", "learner_id"),
        ("notifications", "notification_outbox", "learner_id"),
        ("inbox", "inbox_messages", "learner_id"),
        (
            "notification_preferences",
            "notification_preferences",
            "learner_id",
        ),
        ("shares", "shares", "learner_id"),
        ("share_accesses", "share_accesses", "learner_id"),
        ("calendar_feed", "calendar_feeds", "learner_id"),
        ("calendar_entries", "calendar_entries", "learner_id"),
        ("correction_requests", "correction_requests", "learner_id"),
    ] {
        let rows = sections[section].as_array().unwrap();
        assert!(!rows.is_empty(), "{section} is empty");
        assert_eq!(
            rows.len() as i64,
            count_rows(&app, table, column, l.id),
            "{section}"
        );
        let bytes = &files[&format!("csv/{section}.csv")];
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        assert!(
            reader.headers().unwrap().len() > 1,
            "csv/{section}.csv has a header"
        );
        assert_eq!(
            reader.records().map(Result::unwrap).count(),
            rows.len(),
            "csv/{section}.csv: a record per row"
        );
    }
    let decisions = sections["certificate_decisions"].as_array().unwrap();
    assert_eq!(
        decisions.len() as i64,
        count_rows(
            &app,
            "certificate_decisions",
            "certificate_id",
            l.certificate
        )
    );
    assert_eq!(decisions[0]["decision"], "verify");
    // JSON held as text is embedded as JSON.
    assert!(sections["milestones"][0]["payload"]["trace"].is_array());
    assert!(sections["notification_preferences"][0]["settings"].is_object());
    // The audit entries about the learner: their record, certificate, share, and this export.
    let audit = sections["audit_entries"].as_array().unwrap();
    for (entity, action) in [
        ("learner", "update"),
        ("certificate", "verify"),
        ("share", "share"),
        ("employment", "create"),
        ("award", "create"),
        ("correction_request", "request_correction"),
    ] {
        assert!(
            audit
                .iter()
                .any(|a| a["entity_type"] == entity && a["action"] == action),
            "no {entity} {action} in {audit:?}"
        );
    }
    assert!(files.contains_key("README.txt"));

    // The secrets that protect the learner are not in it, nor the identity number in clear.
    let everything: String = files
        .values()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    for secret in [
        number.as_str(),
        "$argon2",
        "password_hash",
        "code_hash",
        "token_hash",
        "id_number_hash",
        "ciphertext",
    ] {
        assert!(!everything.contains(secret), "the export holds {secret}");
    }

    // The learner's own copy is audited.
    let exported = app
        .get_json(
            &format!(
                "/api/v1/audit?entity_type=learner&entity_id={}&limit=100",
                l.id
            ),
            &l.admin,
        )
        .await;
    let exports = exported["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "export")
        .count();
    assert_eq!(exports, 1);
}

#[tokio::test]
async fn staff_produce_a_copy_only_for_learners_they_see() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let l = &w.l;
    let path = format!("/api/v1/learners/{}/export", l.id);
    for token in [&l.staff, &l.admin] {
        let resp = app.get(&path, Some(token)).await;
        assert_eq!(resp.status(), 200);
        let files = unzip(&resp.bytes().await.unwrap());
        let document: Value = serde_json::from_slice(&files["export.json"]).unwrap();
        assert_eq!(document["sections"]["learner"]["name"], "王芳");
    }
    // The learner is told each time staff made a copy.
    let told = app
        .inbox(&l.me)
        .await
        .iter()
        .filter(|m| m["title"]["zh-CN"] == "已为您导出个人信息副本")
        .count();
    assert_eq!(told, 2);
    // HR (even of the learner's employer) and evaluators never; a learner only their own.
    for token in [&w.hr_a, &l.evaluator, &l.me] {
        assert_problem(app.get(&path, Some(token)).await, 403, "forbidden").await;
    }
    assert_problem(
        app.get("/api/v1/me/export", Some(&l.staff)).await,
        403,
        "forbidden",
    )
    .await;
    // Staff of another college: as if the learner did not exist.
    let other = app
        .create_institution(&l.admin, "另一技师学院", "technician_college")
        .await;
    let stranger = app
        .account(
            &l.admin,
            "staff@other.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    assert_problem(app.get(&path, Some(&stranger)).await, 404, "not_found").await;
    assert_problem(
        app.get("/api/v1/learners/999999/export", Some(&l.admin))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// Runs `sql` on the test's database (to age rows as time would).
pub fn execute(app: &TestApp, sql: &str) -> usize {
    let mut conn = app.state.db.get().unwrap();
    skillpath::each_backend!(&mut *conn, c => diesel::sql_query(sql).execute(c)).unwrap()
}

#[tokio::test]
async fn a_share_records_the_learners_separate_consent() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let l = &w.l;
    let consent = app.get_json("/api/v1/me/shares/consent", &l.me).await;
    assert_eq!(consent["version"], crate::shares::CONSENT);
    assert!(consent["text"]["zh-CN"]
        .as_str()
        .unwrap()
        .contains("单独同意"));
    assert!(consent["text"]["en"]
        .as_str()
        .unwrap()
        .contains("separately consent"));
    assert_problem(
        app.get("/api/v1/me/shares/consent", Some(&w.hr_a)).await,
        403,
        "forbidden",
    )
    .await;
    // Without consent, or with a text no longer current: refused, the field named, nothing made.
    for body in [
        json!({"purpose": "入职审核"}),
        json!({"purpose": "入职审核", "consent_version": "share-consent-2020-01"}),
    ] {
        let problem = assert_problem(
            app.post("/api/v1/me/shares", &body, Some(&l.me)).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "consent_version");
    }
    assert_eq!(count_rows(&app, "shares", "learner_id", l.id), 0);
    let created = share(&app, &l.me, json!({"purpose": "入职审核"})).await;
    assert_eq!(created["consent"]["version"], crate::shares::CONSENT);
    assert_eq!(created["consent"]["text"], consent["text"]);
    assert!(created["consent"]["consented_at"].is_string());
    let shown = app
        .get_json(&format!("/api/v1/me/shares/{}", created["id"]), &l.me)
        .await;
    assert_eq!(shown["consent"], created["consent"]);
}

#[tokio::test]
async fn looks_ended_shares_sent_emails_and_decided_corrections_are_purged_after_their_retention() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let l = &w.l;
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"email": "wang.fang@example.cn"}),
            Some(&l.staff),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let kept = share(&app, &l.me, json!({"purpose": "入职审核"})).await;
    let code = kept["code"].as_str().unwrap();
    let look_path = format!("/api/v1/verifications/{code}");
    assert_eq!(app.get(&look_path, Some(&w.hr_a)).await.status(), 200);
    let ended = share(&app, &l.me, json!({"purpose": "旧的"})).await;
    let resp = app
        .post(
            &format!("/api/v1/me/shares/{}/revoke", ended["id"]),
            &json!({}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The newest share is kept whatever its age (SQLite would give its number to the next one).
    let newest = share(&app, &l.me, json!({"purpose": "最新的"})).await;
    // Two correction requests: one refused, one still waiting for a decision.
    let mut asked = Vec::new();
    for name in ["王芳芳", "王芳华"] {
        let resp = app
            .post(
                "/api/v1/me/corrections",
                &json!({"record": "learner", "changes": {"name": name}, "reason": "身份证为准"}),
                Some(&l.me),
            )
            .await;
        assert_eq!(resp.status(), 201);
        asked.push(resp.json::<Value>().await.unwrap()["id"].clone());
    }
    let resp = app
        .post(
            &format!("/api/v1/corrections/{}/decision", asked[0]),
            &json!({"decision": "refuse", "reason": "与档案不符"}),
            Some(&l.staff),
        )
        .await;
    assert_eq!(resp.status(), 200);

    // Time passes: the first look, the revocation, the emails sent so far, the decision and both
    // requests are years old.
    execute(
        &app,
        "UPDATE correction_requests SET created_at = '2019-01-01 00:00:00'",
    );
    execute(
        &app,
        "UPDATE correction_requests SET decided_at = '2020-01-01 00:00:00' \
         WHERE decided_at IS NOT NULL",
    );
    execute(
        &app,
        "UPDATE share_accesses SET accessed_at = '2020-01-01 00:00:00'",
    );
    execute(
        &app,
        &format!(
            "UPDATE shares SET revoked_at = '2020-01-01 00:00:00' WHERE id = {}",
            ended["id"]
        ),
    );
    let emails = execute(
        &app,
        &format!(
            "UPDATE notification_outbox SET status = 'sent', sent_at = '2020-01-01 00:00:00' \
             WHERE learner_id = {} AND channel = 'email'",
            l.id
        ),
    );
    assert!(emails > 0, "the learner was emailed");
    // A look today stays.
    assert_eq!(app.get(&look_path, Some(&w.hr_a)).await.status(), 200);
    let inbox_before = count_rows(&app, "inbox_messages", "learner_id", l.id);

    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        let day = skillpath::domain::today_in_shanghai();
        skillpath::services::jobs::enqueue_once(
            &mut db.get().unwrap(),
            &skillpath::services::jobs::Job::PurgeExpired { day },
        )
    })
    .await
    .unwrap()
    .unwrap();
    app.jobs_settled().await;

    assert_eq!(
        count_rows(&app, "share_accesses", "learner_id", l.id),
        1,
        "today's look"
    );
    assert_eq!(
        count_rows(&app, "shares", "learner_id", l.id),
        2,
        "the active shares"
    );
    assert_problem(
        app.get(&format!("/api/v1/me/shares/{}", ended["id"]), Some(&l.me))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get(&look_path, Some(&w.hr_a)).await.status(),
        200,
        "the active share still works"
    );
    let old_emails = {
        let mut conn = app.state.db.get().unwrap();
        let query = format!(
            "SELECT COUNT(*) AS n FROM notification_outbox WHERE learner_id = {} \
             AND sent_at < '2021-01-01 00:00:00'",
            l.id
        );
        skillpath::each_backend!(&mut *conn, c => diesel::sql_query(&query).get_result::<Count>(c))
            .unwrap()
            .n
    };
    assert_eq!(old_emails, 0, "the old emails went");
    assert!(
        count_rows(&app, "inbox_messages", "learner_id", l.id) >= inbox_before,
        "the inbox keeps its messages"
    );
    // The refused request stays as the record that it was made and decided, without its values
    // or reasons; the pending one is whole.
    let corrections = app.get_json("/api/v1/me/corrections", &l.me).await;
    let by_id = |id: &Value| {
        corrections["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == *id)
            .unwrap()
            .clone()
    };
    let refused = by_id(&asked[0]);
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["changes"], json!({"name": null}));
    assert_eq!(refused["current_values"], json!({"name": null}));
    assert_eq!(refused["reason"], "");
    assert_eq!(refused["decision_reason"], "");
    let pending = by_id(&asked[1]);
    assert_eq!(pending["changes"], json!({"name": "王芳华"}));
    assert_eq!(pending["reason"], "身份证为准");

    // Once it has ended, the newest share still stays until a newer one exists.
    execute(
        &app,
        &format!(
            "UPDATE shares SET revoked_at = '2020-01-01 00:00:00' WHERE id = {}",
            newest["id"]
        ),
    );
    let db = app.state.db.clone();
    let purged = tokio::task::spawn_blocking(move || {
        skillpath::db::retention::purge_ended_shares(&mut db.get().unwrap(), skillpath::db::now())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(purged, 0);
    assert_eq!(
        app.get(&format!("/api/v1/me/shares/{}", newest["id"]), Some(&l.me))
            .await
            .status(),
        200
    );
}
