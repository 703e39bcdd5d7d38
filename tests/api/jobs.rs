//! The durable job queue: work a change makes for later is written with the change, survives
//! the process, is retried when it fails, and is taken over when its runner died.

use chrono::NaiveDateTime;
use serde_json::{json, Value};
use skillpath::db::jobs::{self, JobRow, NewJob};
use skillpath::services::jobs::{run_one, Job, JobKind, MAX_ATTEMPTS};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::milestones::{student, verify};

const RULE: &str = "sh489.technician_after_senior_worker";

async fn all_jobs(app: &TestApp) -> Vec<JobRow> {
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || jobs::recent(&mut db.get().unwrap(), 100).unwrap())
        .await
        .unwrap()
}

async fn run_due(app: &TestApp) -> Option<skillpath::services::jobs::Ran> {
    let cx = app.state.job_context();
    tokio::task::spawn_blocking(move || run_one(&cx).unwrap())
        .await
        .unwrap()
}

async fn rule_events(app: &TestApp, token: &str, learner: i64) -> Vec<Value> {
    let events: Value = app
        .get(
            &format!("/api/v1/learners/{learner}/milestone-events?limit=200"),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule_id"] == RULE)
        .cloned()
        .collect()
}

/// The college of `student()` and its designation.
async fn the_designation(app: &TestApp, admin: &str) -> (i64, i64) {
    let page = app.get_json("/api/v1/institutions?limit=200", admin).await;
    let college = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "上海某技师学院")
        .unwrap()
        .clone();
    (
        college["id"].as_i64().unwrap(),
        college["designations"][0]["id"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_designation_change_reaches_stored_milestones_through_a_stored_job() {
    // No runner in the serving process: the job waits in the table, as it would across a
    // restart, until a runner (here, the test) claims it.
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let before = rule_events(&app, &l.staff, l.id).await;
    assert_eq!(before.last().unwrap()["event"], "newly_met", "{before:?}");

    // The designation ended before the learner enrolled: she was never a student of a
    // new-type technician college.
    let (college, designation) = the_designation(&app, &l.admin).await;
    let resp = app
        .post(
            &format!("/api/v1/institutions/{college}/designations/{designation}/end"),
            &json!({"designated_until": "2022-01-01", "reason": "摘牌"}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let queued = all_jobs(&app).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        (queued[0].kind.as_str(), queued[0].status.as_str()),
        ("recompute_all", "pending")
    );
    // One job waits for all the changes of the setup (the occupation, the designation, its end).
    // Nothing has moved yet.
    assert_eq!(rule_events(&app, &l.staff, l.id).await.len(), before.len());

    let ran = run_due(&app).await.expect("a job was due");
    assert_eq!(ran.kind, Some(JobKind::RecomputeAll));
    assert!(ran.outcome.is_ok(), "{ran:?}");
    let after = rule_events(&app, &l.staff, l.id).await;
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after.last().unwrap()["event"], "lost");
    let done = all_jobs(&app).await;
    assert_eq!(done[0].status.as_str(), "done");
    assert!(done[0].finished_at.is_some());
    assert!(run_due(&app).await.is_none(), "nothing left");
}

#[tokio::test]
async fn waiting_jobs_of_the_same_work_coalesce() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let db = app.state.db.clone();
    let count = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        for reason in ["parameter value added", "occupation added"] {
            skillpath::services::jobs::enqueue(
                &mut conn,
                &Job::RecomputeAll {
                    reason: reason.into(),
                },
            )
            .unwrap();
        }
        for cohort_id in [1, 2, 1] {
            skillpath::services::jobs::enqueue(
                &mut conn,
                &Job::RefreshCohort {
                    cohort_id: skillpath::domain::CohortId(cohort_id),
                },
            )
            .unwrap();
        }
        jobs::recent(&mut conn, 100).unwrap().len()
    })
    .await
    .unwrap();
    assert_eq!(count, 3, "one recomputation and one refresh per cohort");
    // Once one is running, a new change queues another: the running one may have read the
    // data before the change.
    let ran = run_due(&app).await.unwrap();
    assert!(ran.outcome.is_ok());
    let db = app.state.db.clone();
    let count = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        skillpath::services::jobs::enqueue(
            &mut conn,
            &Job::RecomputeAll {
                reason: "again".into(),
            },
        )
        .unwrap();
        jobs::recent(&mut conn, 100).unwrap().len()
    })
    .await
    .unwrap();
    assert_eq!(count, 4);
}

/// A job row as a runner would find it, due long ago.
struct Raw {
    kind: &'static str,
    payload: &'static str,
    key: &'static str,
    status: &'static str,
    attempts: i32,
}

async fn insert(app: &TestApp, rows: Vec<Raw>) {
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        let long_ago =
            NaiveDateTime::parse_from_str("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        for r in rows {
            jobs::enqueue(
                &mut conn,
                &NewJob {
                    kind: r.kind,
                    payload: r.payload,
                    dedupe_key: r.key,
                    status: r.status.parse().unwrap(),
                    attempts: r.attempts,
                    due_at: long_ago,
                    created_at: long_ago,
                },
            )
            .unwrap();
        }
    })
    .await
    .unwrap();
}

/// A cohort refresh with `payload` (its key the payload itself).
fn refresh(payload: &'static str, status: &'static str, attempts: i32) -> Raw {
    Raw {
        kind: "refresh_cohort",
        payload,
        key: payload,
        status,
        attempts,
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_later_then_given_up() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    insert(&app, vec![refresh("not json", "pending", 0)]).await;
    let ran = run_due(&app).await.unwrap();
    assert!(ran.outcome.unwrap_err().contains("payload"));
    let row = all_jobs(&app).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(row.last_error.unwrap().contains("payload"));
    assert!(row.due_at > skillpath::db::now(), "due again later");
    assert!(run_due(&app).await.is_none(), "not before its time");

    insert(
        &app,
        vec![refresh("still not json", "pending", MAX_ATTEMPTS - 1)],
    )
    .await;
    run_due(&app).await.unwrap();
    let row = all_jobs(&app).await.remove(0);
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("failed", MAX_ATTEMPTS)
    );
}

#[tokio::test]
async fn a_job_whose_runner_died_is_taken_over_when_its_lease_runs_out() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    // Claimed, and its lease (unset here: long past) has run out.
    insert(
        &app,
        vec![Raw {
            kind: "refresh_cohort",
            payload: r#"{"kind":"refresh_cohort","cohort_id":7}"#,
            key: "refresh_cohort:7",
            status: "running",
            attempts: 1,
        }],
    )
    .await;
    let ran = run_due(&app).await.expect("taken over");
    assert!(ran.outcome.is_ok(), "{ran:?}");
    let row = all_jobs(&app).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("done", 2));
}

#[tokio::test]
async fn the_serving_process_runs_jobs_itself_by_default() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let started = std::time::Instant::now();
    loop {
        let rows = all_jobs(&app).await;
        if rows.iter().any(|r| r.status.as_str() == "done") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_runner_whose_lease_ran_out_cannot_settle_a_job_taken_over() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    insert(
        &app,
        vec![refresh(
            r#"{"kind":"refresh_cohort","cohort_id":9}"#,
            "pending",
            0,
        )],
    )
    .await;
    let db = app.state.db.clone();
    let (first, second, late, current) = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let first_lease = t("2026-01-01 01:00:00");
        let first = jobs::claim_due(&mut conn, t("2026-01-01 00:30:00"), first_lease)
            .unwrap()
            .unwrap();
        // The first runner's lease runs out; a second runner takes the job over.
        let second_lease = t("2026-01-01 02:00:00");
        let second = jobs::claim_due(&mut conn, t("2026-01-01 01:30:00"), second_lease)
            .unwrap()
            .unwrap();
        let late = jobs::settle(
            &mut conn,
            first.id,
            first_lease,
            jobs::Outcome::Done,
            t("2026-01-01 01:40:00"),
        )
        .unwrap();
        let current = jobs::recent(&mut conn, 1).unwrap().remove(0);
        (first, second, late, current)
    })
    .await
    .unwrap();
    assert_eq!(first.id, second.id);
    assert!(!late, "the first runner no longer holds it");
    assert_eq!((current.status.as_str(), current.attempts), ("running", 2));
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_or_claimed_too_often_fails_for_good() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    insert(
        &app,
        vec![Raw {
            kind: "from_a_newer_release",
            payload: "{}",
            key: "new",
            status: "pending",
            attempts: 0,
        }],
    )
    .await;
    let ran = run_due(&app).await.unwrap();
    assert_eq!(ran.kind, None);
    let row = all_jobs(&app).await.remove(0);
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));

    // A job whose runner stopped every time (its lease ran out while "running").
    insert(
        &app,
        vec![refresh(
            r#"{"kind":"refresh_cohort","cohort_id":3}"#,
            "running",
            MAX_ATTEMPTS,
        )],
    )
    .await;
    let ran = run_due(&app).await.unwrap();
    assert!(ran.outcome.unwrap_err().contains("given up"));
    let row = all_jobs(&app).await.remove(0);
    assert_eq!(row.status.as_str(), "failed");
}

#[tokio::test]
async fn the_daily_run_is_queued_once_a_day_and_the_queue_is_on_metrics() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let db = app.state.db.clone();
    let day = skillpath::domain::today_in_shanghai();
    let count = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        let daily = Job::DailyRecompute { day };
        skillpath::services::jobs::enqueue_once(&mut conn, &daily).unwrap();
        skillpath::services::jobs::enqueue_once(&mut conn, &daily).unwrap();
        jobs::recent(&mut conn, 100).unwrap().len()
    })
    .await
    .unwrap();
    assert_eq!(count, 1);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"skillpath_jobs{kind="daily_recompute",state="due"} 1"#),
        "{metrics}"
    );
    // Run, then queued again the same day: still one.
    assert!(run_due(&app).await.unwrap().outcome.is_ok());
    let db = app.state.db.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        skillpath::services::jobs::enqueue_once(&mut conn, &Job::DailyRecompute { day }).unwrap();
        jobs::recent(&mut conn, 100).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status.as_str(), "done");
    // What the alerts read: when the nightly run last succeeded (now), the oldest due notice
    // (none), the signing key's age (none made yet: 0).
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    let value = |name: &str| -> i64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
            .parse()
            .unwrap()
    };
    let succeeded =
        value(r#"skillpath_job_last_success_timestamp_seconds{kind="daily_recompute"}"#);
    assert!(
        (chrono::Utc::now().timestamp() - succeeded).abs() < 120,
        "{succeeded}"
    );
    assert_eq!(
        value(r#"skillpath_notification_oldest_due_seconds{channel="email"}"#),
        0
    );
    assert!(value("skillpath_signing_key_created_timestamp_seconds") >= 0);
}

#[tokio::test]
async fn a_failed_job_gives_way_to_the_same_work_already_waiting() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    // Claimable (running, its lease gone) and failing; the same key also waits as pending.
    let same_work = |status| Raw {
        kind: "refresh_cohort",
        payload: "broken",
        key: "refresh_cohort:5",
        status,
        attempts: 1,
    };
    insert(&app, vec![same_work("running"), same_work("pending")]).await;
    let ran = run_due(&app).await.unwrap();
    assert!(ran.outcome.is_err());
    let rows = all_jobs(&app).await;
    let first = rows.iter().find(|r| r.id == ran.id).unwrap();
    assert_eq!(first.status.as_str(), "superseded", "{rows:?}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.status.as_str() == "pending")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_import_answers_before_its_invitations_which_a_job_sends_once() {
    let app = spawn_app_with(&[("SKILLPATH_JOBS_IN_SERVE", "false")]).await;
    let (admin, staff, program) = crate::cohort_upload::college(&app).await;
    let cohort: Value = app
        .post(
            "/api/v1/cohorts",
            &json!({"program_id": program, "name": "2024级", "intake_year": 2024}),
            Some(&staff),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/cohorts/{}/enrollments/import", cohort["id"]);
    let file = format!(
        "name,id_number,email,start_date,end_date\n李雷,,lilei@x.cn,2024-09-01,2027-06-30\n\
韩梅梅,,hmm@x.cn,2024-09-01,2027-06-30\n无邮箱,{},,2024-09-01,2027-06-30\n",
        crate::helpers::nth_id_number(1)
    );
    let resp = app
        .put_csv(&path, file.as_bytes().to_vec(), "text/csv", &staff)
        .await;
    assert_eq!(resp.status(), 200);
    let invitations = async || app.outbox_count(&admin, "invitation").await;
    // The import answered without writing a link: a job waits to send them.
    assert_eq!(invitations().await, 0);
    let queued = all_jobs(&app).await;
    let invite = queued
        .iter()
        .find(|j| j.kind == "invite_enrolled")
        .expect("the invitations are queued");
    let job: Job = serde_json::from_str(&invite.payload).unwrap();
    while let Some(ran) = run_due(&app).await {
        assert!(ran.outcome.is_ok(), "{ran:?}");
    }
    assert_eq!(invitations().await, 2, "the two learners with an address");

    // The same job again (a retry after a failure part-way) invites nobody twice.
    let db = app.state.db.clone();
    let again = job.clone();
    tokio::task::spawn_blocking(move || {
        skillpath::services::jobs::enqueue(&mut db.get().unwrap(), &again).unwrap()
    })
    .await
    .unwrap();
    let ran = run_due(&app).await.expect("queued again");
    assert_eq!(
        ran.outcome.as_deref(),
        Ok(format!("cohort {}: 0 invited", cohort["id"]).as_str())
    );
    assert_eq!(invitations().await, 2);

    // A second import of the same rows enrolls nobody, and queues no invitations.
    let resp = app
        .put_csv(&path, file.as_bytes().to_vec(), "text/csv", &staff)
        .await;
    assert_eq!(resp.status(), 200);
    let pending: Vec<JobRow> = all_jobs(&app)
        .await
        .into_iter()
        .filter(|j| j.kind == "invite_enrolled" && j.status.as_str() == "pending")
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
    while run_due(&app).await.is_some() {}

    // An import whose importer is disabled before its invitations go out: none is sent in
    // their name.
    let more = format!("{file}新同学,,new@x.cn,2024-09-01,2027-06-30\n");
    let resp = app
        .put_csv(&path, more.into_bytes(), "text/csv", &staff)
        .await;
    assert_eq!(resp.status(), 200);
    let me = app.get_json("/api/v1/me", &staff).await;
    app.disable_account(&admin, me["id"].as_i64().unwrap())
        .await;
    let ran = run_due(&app).await.expect("the new import's invitations");
    assert_eq!(ran.kind, Some(JobKind::InviteEnrolled));
    assert!(
        ran.outcome
            .as_ref()
            .is_ok_and(|o| o.contains("none invited")),
        "{ran:?}"
    );
    assert_eq!(invitations().await, 2);
}
