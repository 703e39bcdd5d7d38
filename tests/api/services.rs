//! Use cases called as functions, without HTTP: what a job, the command line or a second front
//! end does. Each runs in a write transaction over the test database, as the handlers do.

use skillpath::auth::AuthUser;
use skillpath::db::jobs::{self, JobStatus};
use skillpath::db::{self, occupations::OccupationRow, DbConnection};
use skillpath::domain::{EmailAddress, InstitutionKind, Role};
use skillpath::error::AppError;
use skillpath::services::{accounts, institutions};

use crate::helpers::{spawn_app_with, TestApp, ADMIN_EMAIL};

/// Runs `work` in one write transaction, as the administrator the harness created.
async fn as_admin<T: Send + 'static>(
    app: &TestApp,
    work: impl FnOnce(&mut DbConnection, &AuthUser) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let database = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = database.get().unwrap();
        let admin = db::users::find_by_email(&mut conn, ADMIN_EMAIL)
            .unwrap()
            .unwrap();
        let caller = AuthUser {
            id: admin.id,
            email: admin.email,
            role: Role::Admin,
            institution_id: None,
            learner_id: None,
        };
        db::write_transaction(&mut conn, |conn| work(conn, &caller))
    })
    .await
    .unwrap()
}

fn electrician(now: chrono::NaiveDateTime) -> OccupationRow {
    OccupationRow {
        code: "6-18-02-04".into(),
        name: "电工".into(),
        high_skill_catalog: true,
        technician_catalog: true,
        priority_industry: false,
        source: "test".into(),
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn an_institution_is_built_through_its_use_cases_and_queues_its_recomputation() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let built = as_admin(&app, institutions_then_cohort).await.unwrap();
    let (cohort_name, waiting) = built;
    assert_eq!(cohort_name, "2026级电气1班");
    assert!(
        waiting
            .iter()
            .any(|(kind, status)| kind == "recompute_all" && *status == JobStatus::Pending),
        "the designation queued a recomputation: {waiting:?}"
    );
}

fn institutions_then_cohort(
    conn: &mut DbConnection,
    admin: &AuthUser,
) -> Result<(String, Vec<(String, JobStatus)>), AppError> {
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    skillpath::services::imports::occupations::add_occupation(
        conn,
        admin.id,
        &electrician(db::now()),
    )?;
    let college = institutions::create_institution(
        conn,
        admin.id,
        "上海市某技师学院",
        InstitutionKind::TechnicianCollege,
        false,
    )?;
    institutions::add_designation(
        conn,
        admin.id,
        college.id,
        "2022年第一批",
        date("2022-03-01"),
        None,
    )?;
    let program =
        institutions::create_program(conn, admin.id, college.id, "电气自动化", "6-18-02-04", &[])?;
    let (cohort, institution) =
        institutions::create_cohort(conn, admin, program.id, "2026级电气1班", 2026)?;
    assert_eq!(institution, college.id);
    let waiting = jobs::recent(conn, 10)?
        .into_iter()
        .map(|j| (j.kind, j.status))
        .collect();
    Ok((cohort.name, waiting))
}

#[tokio::test]
async fn a_refused_use_case_names_its_field_and_changes_nothing() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let college = as_admin(&app, |conn, admin| {
        institutions::create_institution(
            conn,
            admin.id,
            "某技工学校",
            InstitutionKind::TechnicalSchool,
            false,
        )
    })
    .await
    .unwrap();
    let id = college.id;
    // An overlapping designation is a conflict; the first one stays the only one.
    let overlap = as_admin(&app, move |conn, admin| {
        institutions::add_designation(conn, admin.id, id, "第一批", date("2022-03-01"), None)?;
        institutions::add_designation(conn, admin.id, id, "第二批", date("2024-01-01"), None)
    })
    .await;
    assert!(
        matches!(
            &overlap,
            Err(AppError::Conflict {
                code: "designation_overlap",
                ..
            })
        ),
        "{overlap:?}"
    );
    let stored = as_admin(&app, move |conn, _| {
        Ok(db::institutions::designations_of(conn, id)?)
    })
    .await
    .unwrap();
    assert!(
        stored.is_empty(),
        "the refused transaction rolled back: {stored:?}"
    );
    // A program whose occupation is not in the catalog names the field.
    let program = as_admin(&app, move |conn, admin| {
        institutions::create_program(conn, admin.id, id, "数控", "9-99-99-99", &[])
    })
    .await;
    match program {
        Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "occupation_code"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    // HR staff belong to an enterprise: an account bound to a school is refused, none is stored.
    let account = as_admin(&app, move |conn, admin| {
        accounts::create(
            conn,
            admin.id,
            &accounts::NewAccount {
                email: EmailAddress::parse("hr@example.cn").unwrap(),
                password_hash: "not used".into(),
                role: Role::EmployerHr,
                institution_id: Some(id),
                learner_id: None,
            },
        )
    })
    .await;
    match account {
        Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "institution_id"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let found = as_admin(&app, |conn, _| {
        Ok(db::users::find_by_email(conn, "hr@example.cn")?)
    })
    .await
    .unwrap();
    assert!(found.is_none());
}
