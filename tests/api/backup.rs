//! The restore drill: a backup taken while learners are being written, restored into a fresh
//! place, and a server started on the restored copy finds every learner, certificate, decision,
//! milestone, share and audit entry, and the identity numbers decrypt under the key. Also what a
//! restore refuses. SQLite always; PostgreSQL (pg_dump, pg_restore) with `TEST_DATABASE_URL`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use serde_json::json;
use skillpath::config::{DatabaseUrl, Secret, Settings};
use skillpath::services::backup;

use crate::helpers::{spawn_app_with, TestApp};
use crate::personal_data::{count_rows, learner_with_everything};

/// Registers learners one after another until told to stop; how many were written.
fn steady_writes(
    app: &TestApp,
    staff: &str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    let (client, url, token) = (
        app.client.clone(),
        app.url("/api/v1/learners"),
        staff.to_owned(),
    );
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            let resp = client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"name": format!("并发学员{n}"), "kind": "student"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "a write during the backup failed");
            n += 1;
        }
        n
    })
}

fn settings_for(app: &TestApp, database: DatabaseUrl, data_key: &str) -> Settings {
    let mut settings: Settings = (*app.state.settings).clone();
    settings.database = database;
    settings.data_key = Some(Secret::new(data_key.as_bytes().to_vec()));
    settings
}

#[derive(QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    value: Option<String>,
}

/// What the restored server must show of the learner written before the backup.
pub async fn everything_is_there(
    restored: &TestApp,
    learner: i64,
    certificate: i64,
    number: &str,
    data_key: &str,
) {
    let admin = restored.admin_token().await;
    let got = restored
        .get_json(&format!("/api/v1/learners/{learner}"), &admin)
        .await;
    assert_eq!(got["name"], "王芳");
    let cert = restored
        .get_json(&format!("/api/v1/certificates/{certificate}"), &admin)
        .await;
    assert_eq!(cert["status"], "verified", "{cert}");
    assert!(
        count_rows(
            restored,
            "certificate_decisions",
            "certificate_id",
            certificate
        ) > 0
    );
    let milestones = restored
        .get_json(&format!("/api/v1/learners/{learner}/milestones"), &admin)
        .await;
    assert!(!milestones["milestones"].as_array().unwrap().is_empty());
    assert!(count_rows(restored, "learner_milestones", "learner_id", learner) > 0);
    assert!(count_rows(restored, "shares", "learner_id", learner) > 0);
    let audit = restored
        .get_json(
            &format!("/api/v1/audit?entity_type=learner&entity_id={learner}&limit=100"),
            &admin,
        )
        .await;
    assert!(!audit["items"].as_array().unwrap().is_empty());
    // The identity number opens under the key, as the service would open it.
    let mut conn = restored.state.db.get().unwrap();
    let sealed = skillpath::each_backend!(&mut *conn, c => diesel::sql_query(format!(
        "SELECT id_number_ciphertext AS value FROM learners WHERE id = {learner}"
    ))
    .get_result::<Sealed>(c))
    .unwrap()
    .value
    .unwrap();
    let vault =
        skillpath::crypto::IdentityVault::new(&Secret::new(data_key.as_bytes().to_vec())).unwrap();
    assert_eq!(vault.open(&sealed).unwrap().expose(), number);
    // The restored server takes new writes.
    let resp = restored
        .post(
            "/api/v1/learners",
            &json!({"name": "恢复后学员", "kind": "student"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_everything() {
    let app = crate::helpers::spawn_app().await;
    let (w, number) = learner_with_everything(&app).await;
    let l = &w.l;
    let files = tempfile::tempdir().unwrap();
    let postgres = app.backend == "postgres";
    if postgres
        && std::process::Command::new("pg_dump")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipping the PostgreSQL restore drill: pg_dump is not installed");
        return;
    }
    let backup_file = files.path().join(if postgres {
        "skillpath.dump"
    } else {
        "skillpath.db"
    });

    // The backup, while learners are being written.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = steady_writes(&app, &l.staff, stop.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let settings = (*app.state.settings).clone();
    let (db, path) = (app.state.db.clone(), backup_file.clone());
    let checked = tokio::task::spawn_blocking(move || backup::backup(&settings, &db, &path))
        .await
        .unwrap()
        .expect("the backup");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(
        written > 3,
        "only {written} learners were written around the backup"
    );
    assert!(checked.learners >= 1 && checked.sealed_values_open);
    // A backup never overwrites.
    let (settings, db, path) = (
        (*app.state.settings).clone(),
        app.state.db.clone(),
        backup_file.clone(),
    );
    assert!(
        tokio::task::spawn_blocking(move || backup::backup(&settings, &db, &path))
            .await
            .unwrap()
            .is_err()
    );

    // Restored into a fresh place.
    let scratch = if postgres {
        crate::helpers::scratch_postgres("skillpath_restored")
    } else {
        None
    };
    let target = match &scratch {
        Some(db) => DatabaseUrl::Postgres(db.url.clone()),
        None => DatabaseUrl::Sqlite(files.path().join("restored.db")),
    };
    // Under another key: refused, nothing replaced.
    let wrong = settings_for(
        &app,
        target.clone(),
        "another data key that is long enough to use",
    );
    let (input, refused) = (backup_file.clone(), wrong.clone());
    let error = tokio::task::spawn_blocking(move || backup::restore(&refused, &input))
        .await
        .unwrap()
        .expect_err("a backup under another key");
    assert!(
        format!("{error:#}").contains("SKILLPATH_DATA_KEY"),
        "{error:#}"
    );
    let right = settings_for(&app, target.clone(), &app.data_key);
    let (input, settings) = (backup_file.clone(), right.clone());
    let restored_check = tokio::task::spawn_blocking(move || backup::restore(&settings, &input))
        .await
        .unwrap()
        .expect("the restore");
    assert_eq!(restored_check.migration, checked.migration);

    let url = match &target {
        DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let restored = spawn_app_with(&[
        ("DATABASE_URL", url.as_str()),
        ("SKILLPATH_DATA_KEY", app.data_key.as_str()),
    ])
    .await;
    everything_is_there(&restored, l.id, l.certificate, &number, &app.data_key).await;

    // A restore over a database in use is refused (SQLite: the running server holds it).
    if !postgres {
        let (input, settings) = (backup_file.clone(), right.clone());
        let error = tokio::task::spawn_blocking(move || backup::restore(&settings, &input))
            .await
            .unwrap()
            .expect_err("a database in use");
        assert!(format!("{error:#}").contains("in use"), "{error:#}");
    }
    // A file that is not a backup is refused.
    let junk = files.path().join("junk");
    std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
    let settings = right.clone();
    assert!(
        tokio::task::spawn_blocking(move || backup::restore(&settings, &junk))
            .await
            .unwrap()
            .is_err()
    );

    restored.server.stop(true).await;
    drop(restored);
    drop(scratch);
}

#[tokio::test]
async fn the_secrets_are_exported_for_a_safe_and_never_overwritten() {
    let app = crate::helpers::spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    let out = files.path().join("secrets.env");
    let settings = (*app.state.settings).clone();
    backup::export_secrets(&settings, &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    // As base64 of the bytes (exact, and safe to source), read back as the same secrets.
    let assigned = assignments(&text);
    let again = Settings::from_lookup(|name| assigned.get(name).cloned()).unwrap();
    assert_eq!(again.data_key.unwrap().expose(), app.data_key.as_bytes());
    assert_eq!(
        again.jwt_secret.unwrap().expose(),
        app.jwt_secret.as_bytes()
    );
    assert!(
        assigned["SKILLPATH_DATA_KEY"].starts_with("base64:"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(
        backup::export_secrets(&settings, &out).is_err(),
        "never overwritten"
    );
}

/// Secrets the service generated into files (the SQLite default) come out as assignments that,
/// set in the environment of another deployment, are the same secrets.
#[tokio::test]
async fn generated_secrets_are_exported_as_the_same_secrets_for_the_environment() {
    let files = tempfile::tempdir().unwrap();
    let database = files.path().join("skillpath.db");
    let mut settings = Settings::from_lookup(|name| {
        (name == "DATABASE_URL").then(|| database.to_string_lossy().into_owned())
    })
    .unwrap();
    settings.data_key = None;
    settings.jwt_secret = None;
    let generated: Vec<Secret> = ["data-key", "jwt-secret"]
        .iter()
        .map(|file| {
            skillpath::secrets::configured_or_stored(None, &settings.secret_file(file), "X")
                .unwrap()
        })
        .collect();
    let out = files.path().join("secrets.env");
    backup::export_secrets(&settings, &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let assigned = assignments(&text);
    let elsewhere = Settings::from_lookup(|name| assigned.get(name).cloned()).unwrap();
    assert_eq!(
        elsewhere.data_key.unwrap().expose(),
        generated[0].expose(),
        "{text}"
    );
    assert_eq!(
        elsewhere.jwt_secret.unwrap().expose(),
        generated[1].expose()
    );
}

/// The `NAME=value` lines of an exported secrets file.
fn assignments(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
