//! Deletion and erasure (PIPL Art. 47), end to end on both backends: after an erasure, a search of
//! every text column of every table finds none of the person's name, email addresses or identity
//! number (in clear, masked, encrypted or hashed); what is kept is there, pseudonymised.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::milestones::decide;
use crate::personal_data::{count_rows, execute, learner_with_everything};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    value: Option<String>,
}

/// Every column of every table of the application (not binary ones), as (table, column).
fn every_column(app: &TestApp) -> Vec<(String, String)> {
    let mut conn = app.state.db.get().unwrap();
    let columns: Vec<Column> = match &mut *conn {
        skillpath::db::DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.type <> 'BLOB'",
        )
        .load(c)
        .unwrap(),
        skillpath::db::DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type <> 'bytea'",
        )
        .load(c)
        .unwrap(),
    };
    columns
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

/// Where `needle` appears: (table, column, rows).
fn search_everywhere(app: &TestApp, needle: &str) -> Vec<(String, String, i64)> {
    let mut conn = app.state.db.get().unwrap();
    let mut found = Vec::new();
    let columns = every_column(app);
    assert!(
        columns.len() > 150,
        "only {} columns searched",
        columns.len()
    );
    for (table, column) in columns {
        let query = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE '%' || $1 || '%'"
        );
        let n = match &mut *conn {
            skillpath::db::DbConnection::Sqlite(c) => diesel::sql_query(query.replace("$1", "?"))
                .bind::<Text, _>(needle)
                .get_result::<Found>(c),
            skillpath::db::DbConnection::Postgres(c) => diesel::sql_query(&query)
                .bind::<Text, _>(needle)
                .get_result::<Found>(c),
        }
        .unwrap()
        .n;
        if n > 0 {
            found.push((table, column, n));
        }
    }
    found
}

fn stored(app: &TestApp, sql: &str) -> Option<String> {
    let mut conn = app.state.db.get().unwrap();
    skillpath::each_backend!(&mut *conn, c => diesel::sql_query(sql).get_result::<Stored>(c))
        .unwrap()
        .value
}

#[tokio::test]
async fn an_erased_learner_leaves_nothing_personal_in_any_table() {
    let app = crate::helpers::spawn_app().await;
    let (w, number) = learner_with_everything(&app).await;
    let l = &w.l;
    // HR looked at the certificate; its revocation tells them, naming the learner.
    decide(&app, l, "revoke", "王芳本人申请注销").await;
    let hr_inbox = app.inbox(&w.hr_a).await;
    assert!(
        hr_inbox.iter().any(|m| m.to_string().contains("王芳")),
        "{hr_inbox:?}"
    );
    let share_code = {
        let shares = app.get_json("/api/v1/me/shares", &l.me).await;
        shares["items"][0]["id"].clone()
    };
    let hash = stored(
        &app,
        &format!(
            "SELECT id_number_hash AS value FROM learners WHERE id = {}",
            l.id
        ),
    )
    .unwrap();
    let masked = stored(
        &app,
        &format!(
            "SELECT id_number_masked AS value FROM learners WHERE id = {}",
            l.id
        ),
    )
    .unwrap();
    let sealed = stored(
        &app,
        &format!(
            "SELECT id_number_ciphertext AS value FROM learners WHERE id = {}",
            l.id
        ),
    )
    .unwrap();
    let secrets = [
        "王芳",
        "wang.fang@example.cn",
        "wang@x.cn",
        number.as_str(),
        &hash,
        &masked,
        &sealed,
    ];
    // Before: each is somewhere (the search can find them), but the number in clear, which is
    // never stored.
    for secret in secrets.iter().filter(|s| **s != number) {
        assert!(
            !search_everywhere(&app, secret).is_empty(),
            "{secret} is nowhere before"
        );
    }

    // Asked, cancelled, asked again: each told.
    let resp = app
        .post("/api/v1/me/deletion", &json!({}), Some(&l.me))
        .await;
    assert_eq!(resp.status(), 202);
    let asked: Value = resp.json().await.unwrap();
    assert_eq!(asked["requested"], true);
    let resp = app
        .send(
            app.client
                .delete(app.url("/api/v1/me/deletion"))
                .bearer_auth(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        app.get_json("/api/v1/me/deletion", &l.me).await["requested"],
        false
    );
    let titles: Vec<String> = app
        .inbox(&l.me)
        .await
        .iter()
        .map(|m| m["title"]["zh-CN"].as_str().unwrap().to_owned())
        .collect();
    assert!(titles.contains(&"账户删除已安排".to_owned()), "{titles:?}");
    assert!(titles.contains(&"账户删除已取消".to_owned()), "{titles:?}");
    let resp = app
        .post("/api/v1/me/deletion", &json!({}), Some(&l.me))
        .await;
    assert_eq!(resp.status(), 202);
    let again = app
        .post("/api/v1/me/deletion", &json!({}), Some(&l.me))
        .await;
    let again: Value = again.json().await.unwrap();
    let first: Value = app.get_json("/api/v1/me/deletion", &l.me).await;
    assert_eq!(
        again["erase_after"], first["erase_after"],
        "asking again changes nothing"
    );

    // Nothing happens before the grace period ends.
    let run_daily = async || {
        let db = app.state.db.clone();
        tokio::task::spawn_blocking(move || {
            let day = skillpath::domain::today_in_shanghai();
            let mut conn = db.get().unwrap();
            diesel::sql_query("DELETE FROM jobs WHERE kind = 'purge_expired'")
                .execute(&mut *conn)
                .ok();
            skillpath::services::jobs::enqueue_once(
                &mut conn,
                &skillpath::services::jobs::Job::PurgeExpired { day },
            )
        })
        .await
        .unwrap()
        .unwrap();
        app.jobs_settled().await;
    };
    run_daily().await;
    assert_eq!(
        app.get_json(&format!("/api/v1/learners/{}", l.id), &l.admin)
            .await["name"],
        "王芳"
    );

    // The grace period ends; the daily job erases.
    execute(
        &app,
        "UPDATE deletion_requests SET erase_after = '2020-01-01 00:00:00'",
    );
    run_daily().await;
    for secret in secrets {
        let found = search_everywhere(&app, secret);
        assert!(found.is_empty(), "{secret} is still in {found:?}");
    }
    assert_eq!(
        count_rows(&app, "progress_snapshots", "learner_id", l.id),
        0
    );

    // Gone for everyone; the account is closed, its tokens void.
    assert_problem(
        app.get(&format!("/api/v1/learners/{}", l.id), Some(&l.admin))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.get("/api/v1/me", Some(&l.me)).await.status(), 401);
    let login = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "wang@x.cn", "password": crate::helpers::PASSWORD}),
            None,
        )
        .await;
    assert_eq!(login.status(), 401);

    // Kept, pseudonymised: the certificate and its decisions, the share as revoked, the audit.
    assert_eq!(count_rows(&app, "certificates", "learner_id", l.id), 1);
    let reasons = stored(
        &app,
        &format!(
            "SELECT MIN(reason) AS value FROM certificate_decisions WHERE certificate_id = {}",
            l.certificate
        ),
    );
    assert_eq!(reasons.as_deref(), Some("[erased]"));
    assert_eq!(count_rows(&app, "shares", "learner_id", l.id), 1);
    let revoked = stored(
        &app,
        &format!("SELECT CAST(revoked_at AS TEXT) AS value FROM shares WHERE id = {share_code}"),
    );
    assert!(revoked.is_some(), "the share is revoked");
    let pseudonym = stored(
        &app,
        &format!("SELECT name AS value FROM learners WHERE id = {}", l.id),
    )
    .unwrap();
    assert!(pseudonym.starts_with("erased-"));
    let audit = app
        .get_json(
            &format!(
                "/api/v1/audit?entity_type=learner&entity_id={}&limit=200",
                l.id
            ),
            &l.admin,
        )
        .await;
    let entries = audit["items"].as_array().unwrap();
    let created = entries.iter().find(|a| a["action"] == "create").unwrap();
    assert_eq!(
        created["summary"]["name"],
        pseudonym.as_str(),
        "the person replaced by the pseudonym"
    );
    let erased = entries.iter().find(|a| a["action"] == "erase").unwrap();
    assert_eq!(erased["summary"]["pseudonym"], pseudonym.as_str());
    assert_eq!(erased["summary"]["request"]["basis"], "own_request");
    // HR's notice of the revocation keeps the certificate, not the person.
    let hr_inbox = app.inbox(&w.hr_a).await;
    assert!(
        hr_inbox.iter().any(|m| m.to_string().contains(&pseudonym)),
        "{hr_inbox:?}"
    );
}

#[tokio::test]
async fn administrators_erase_on_a_verified_request() {
    let app = crate::helpers::spawn_app().await;
    let w = crate::shares::world(&app).await;
    let l = &w.l;
    let path = format!("/api/v1/learners/{}/erasure", l.id);
    let body = json!({"reference": "来函 2026-118", "reason": "本人书面申请并核验身份"});
    for token in [&l.staff, &l.me, &l.evaluator, &w.hr_a] {
        assert_problem(app.post(&path, &body, Some(token)).await, 403, "forbidden").await;
    }
    let problem = assert_problem(
        app.post(
            &path,
            &json!({"reference": " ", "reason": "x"}),
            Some(&l.admin),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reference");
    // A second account bound to the learner: each keeps an address of its own.
    app.account(
        &l.admin,
        "wang.second@x.cn",
        "learner",
        json!({"learner_id": l.id}),
    )
    .await;
    let resp = app.post(&path, &body, Some(&l.admin)).await;
    assert_eq!(resp.status(), 200);
    let erased: Value = resp.json().await.unwrap();
    assert!(erased["pseudonym"].as_str().unwrap().starts_with("erased-"));
    assert!(search_everywhere(&app, "王芳").is_empty());
    assert_problem(
        app.post(&path, &body, Some(&l.admin)).await,
        404,
        "not_found",
    )
    .await;
    let audit = app
        .get_json(
            &format!(
                "/api/v1/audit?entity_type=learner&entity_id={}&limit=200",
                l.id
            ),
            &l.admin,
        )
        .await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "erase")
        .cloned()
        .unwrap();
    assert_eq!(entry["summary"]["request"]["reference"], "来函 2026-118");
    // A decision on the certificate kept after the erasure recomputes and tells nothing to them.
    decide(&app, l, "revoke", "注销").await;
    assert_eq!(
        count_rows(&app, "learner_milestones", "learner_id", l.id),
        0
    );
    assert_eq!(count_rows(&app, "inbox_messages", "learner_id", l.id), 0);
    assert_eq!(
        count_rows(&app, "progress_snapshots", "learner_id", l.id),
        0
    );
    assert!(search_everywhere(&app, "wang.second@x.cn").is_empty());
}

/// The audit log stays append-only outside an erasure: no update (not even one that looks like
/// an erasure's pseudonym) and no delete, by anyone writing to the database.
#[tokio::test]
async fn the_audit_log_refuses_changes_outside_an_erasure() {
    let app = crate::helpers::spawn_app().await;
    let (w, _) = learner_with_everything(&app).await;
    let attempt = |sql: String| {
        let mut conn = app.state.db.get().unwrap();
        skillpath::each_backend!(&mut *conn, c => diesel::sql_query(sql).execute(c))
    };
    let latest = "(SELECT MAX(id) FROM audit_log)";
    for sql in [
        format!("UPDATE audit_log SET summary = '{{}}' WHERE id = {latest}"),
        format!(
            "UPDATE audit_log SET summary = '{{\"name\":\"erased-0123\"}}' WHERE id = {latest}"
        ),
        format!("DELETE FROM audit_log WHERE id = {latest}"),
    ] {
        let refused = attempt(sql.clone());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    // An erasure itself still replaces the person in the entries about them.
    assert!(
        search_everywhere(&app, "王芳")
            .iter()
            .any(|(table, _, _)| table == "audit_log"),
        "the audit names the learner before"
    );
    let admin = app.admin_token().await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/erasure", w.l.id),
            &json!({"reference": "来函 2026-1", "reason": "书面申请"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        count_rows(&app, "erasures_in_progress", "learner_id", w.l.id),
        0
    );
    let found = search_everywhere(&app, "王芳");
    assert!(found.is_empty(), "still in {found:?}");
}
