//! Moving a deployment from its SQLite file to PostgreSQL (`skillpath move-to-postgres`): refused
//! while the file is in use, then a copy of it moved into a new PostgreSQL database, where a
//! server finds every learner, certificate, decision, milestone, share and audit entry, opens
//! the identity numbers and takes new writes; a second move into the same database is refused.

use skillpath::config::DatabaseUrl;
use skillpath::services::{backup, move_database};

use crate::backup::everything_is_there;
use crate::helpers::{scratch_postgres, spawn_app_with};

/// Runs the move off the async runtime, as the command does.
async fn move_to(
    settings: &skillpath::config::Settings,
    target: &str,
) -> anyhow::Result<move_database::Moved> {
    let (settings, target) = (settings.clone(), target.to_owned());
    tokio::task::spawn_blocking(move || move_database::to_postgres(&settings, &target))
        .await
        .unwrap()
}
use crate::personal_data::learner_with_everything;

#[tokio::test]
async fn a_sqlite_deployment_moves_to_postgres_with_everything() {
    let Some(scratch) = scratch_postgres("skillpath_moved") else {
        eprintln!("skipped: moving to PostgreSQL needs TEST_DATABASE_URL");
        return;
    };
    let target = scratch.url.clone();
    let files = tempfile::tempdir().unwrap();
    let live = files.path().join("skillpath.db");
    let app = spawn_app_with(&[("DATABASE_URL", &live.to_string_lossy())]).await;
    assert_eq!(app.state.db.backend_name(), "sqlite");
    let (w, number) = learner_with_everything(&app).await;

    // The live file: refused (a write after the copy would be lost).
    let settings = (*app.state.settings).clone();
    let error = move_to(&settings, &target)
        .await
        .expect_err("the file is in use");
    assert!(format!("{error:#}").contains("in use"), "{error:#}");

    // A stopped deployment's file (here: a backup of it, which nothing holds).
    let copy = files.path().join("stopped.db");
    let (s, db, c) = (settings.clone(), app.state.db.clone(), copy.clone());
    tokio::task::spawn_blocking(move || backup::backup(&s, &db, &c))
        .await
        .unwrap()
        .unwrap();
    let mut from_copy = settings.clone();
    from_copy.database = DatabaseUrl::Sqlite(copy);
    let moved = move_to(&from_copy, &target).await.expect("the move");
    assert!(moved.rows["learners"] >= 1, "{:?}", moved.rows);
    assert!(moved.rows["audit_log"] >= 1);
    assert!(moved.rows["rule_parameters"] >= 1);

    // Again into the same database: refused, nothing changed.
    let error = move_to(&from_copy, &target)
        .await
        .expect_err("the target is not empty");
    assert!(format!("{error:#}").contains("already holds"), "{error:#}");

    let on_postgres = spawn_app_with(&[
        ("DATABASE_URL", target.as_str()),
        ("SKILLPATH_DATA_KEY", app.data_key.as_str()),
        ("SKILLPATH_JWT_SECRET", app.jwt_secret.as_str()),
    ])
    .await;
    assert_eq!(on_postgres.state.db.backend_name(), "postgres");
    everything_is_there(
        &on_postgres,
        w.l.id,
        w.l.certificate,
        &number,
        &app.data_key,
    )
    .await;
    // Sessions carry over: the same JWT secret, the same accounts.
    let me = on_postgres.get_json("/api/v1/me", &w.l.me).await;
    assert_eq!(me["role"], "learner", "{me}");

    on_postgres.server.stop(true).await;
    drop(on_postgres);
    drop(scratch);
}
