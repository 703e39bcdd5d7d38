//! The outbox and the in-app inbox: notices written with the change that causes them, once.

use serde_json::{json, Value};
use skillpath::domain::LearnerId;

use crate::helpers::{assert_problem, spawn_app};
use crate::milestones::{student, verify};

#[tokio::test]
async fn a_verified_certificate_reaches_the_inbox_with_what_it_opens() {
    let app = spawn_app().await;
    let l = student(&app).await;
    // With an email address the same notices also wait in the outbox for the mail worker.
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"email": "wang.fang@example.cn"}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    verify(&app, &l).await;

    let inbox: Value = app
        .get("/api/v1/me/notifications", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    let items = inbox["items"].as_array().unwrap();
    let titles: Vec<&str> = items
        .iter()
        .map(|i| i["title"]["zh-CN"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|t| t.starts_with("证书已核验")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("可以申请了") && t.contains("技师")),
        "{titles:?}"
    );
    assert_eq!(inbox["unread_count"].as_i64().unwrap(), items.len() as i64);
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()),
        "newest first"
    );
    let certificate = items
        .iter()
        .find(|i| i["category"] == "certificate")
        .unwrap();
    assert!(certificate["body"]["en"]
        .as_str()
        .unwrap()
        .contains("Y310000000000024300012"));

    let db = app.state.db.clone();
    let learner = l.id;
    let pending = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        skillpath::db::notifications::pending_email_count(&mut conn, LearnerId(learner)).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        pending,
        items.len() as i64,
        "one email per notice, waiting for the worker"
    );

    // Read one, then all.
    let first = items[0]["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!("/api/v1/me/notifications/{first}/read"),
            &json!({}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let inbox: Value = app
        .get("/api/v1/me/notifications?limit=1", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        inbox["unread_count"].as_i64().unwrap(),
        items.len() as i64 - 1
    );
    assert!(inbox["items"][0]["read_at"].is_string());
    assert!(inbox["next_cursor"].is_string());
    assert_eq!(
        app.post("/api/v1/me/notifications/read-all", &json!({}), Some(&l.me))
            .await
            .status(),
        204
    );
    let inbox: Value = app
        .get("/api/v1/me/notifications", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["unread_count"], 0);

    // Nobody else reads or marks them: staff have an inbox of their own.
    let staff_inbox: Value = app
        .get("/api/v1/me/notifications", Some(&l.staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff_inbox["items"], json!([]));
    assert_eq!(staff_inbox["unread_count"], 0);
    let other = app
        .create_learner(&l.admin, json!({"name": "别人", "kind": "student"}))
        .await;
    let other = app
        .account(
            &l.admin,
            "other@x.cn",
            "learner",
            json!({"learner_id": other}),
        )
        .await;
    assert_problem(
        app.post(
            &format!("/api/v1/me/notifications/{first}/read"),
            &json!({}),
            Some(&other),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let theirs: Value = app
        .get("/api/v1/me/notifications", Some(&other))
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_same_event_produces_one_notice() {
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let before: Value = app
        .get("/api/v1/me/notifications?limit=200", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    let count = before["items"].as_array().unwrap().len();
    assert!(count >= 2);

    let db = app.state.db.clone();
    let (learner, certificate) = (l.id, l.certificate);
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        let notice = skillpath::notify::Notice {
            recipient: skillpath::notify::Recipient::Learner(LearnerId(learner)),
            email: None,
            event_key: format!("certificate:{certificate}:verify"),
            category: skillpath::notify::Category::Certificate,
            kind: skillpath::notify::NoticeKind::CertificateVerified,
            message: skillpath::notify::messages::certificate_message(
                skillpath::domain::Decision::Verify,
                "X",
                "高级工",
                "Senior Worker",
                "",
            ),
            due_at: None,
            secret: None,
        };
        // Produced again (a retried request, a second replica): nothing new.
        skillpath::notify::produce(&mut conn, &notice, skillpath::db::now()).unwrap();
        skillpath::notify::produce(&mut conn, &notice, skillpath::db::now()).unwrap();
        // Recomputing with nothing changed records no event and so no notice.
        skillpath::services::eligibility::recompute_all(
            &db,
            skillpath::domain::today_in_shanghai(),
        )
        .unwrap();
    })
    .await
    .unwrap();
    let after: Value = app
        .get("/api/v1/me/notifications?limit=200", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["items"].as_array().unwrap().len(), count);
}

#[tokio::test]
async fn email_can_be_muted_per_category_but_the_inbox_cannot() {
    let app = spawn_app().await;
    let l = student(&app).await;
    let prefs: Value = app
        .get("/api/v1/me/notification-preferences", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prefs["milestone"], json!({"inbox": true, "email": true}));
    assert_eq!(
        prefs["quiet_hours"],
        json!({"start": "22:00", "end": "08:00"})
    );

    let mut muted = prefs.clone();
    muted["milestone"]["inbox"] = json!(false);
    let resp = app
        .put("/api/v1/me/notification-preferences", &muted, Some(&l.me))
        .await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "milestone.inbox"
    );

    let mut muted = prefs.clone();
    muted["milestone"]["email"] = json!(false);
    let resp = app
        .put("/api/v1/me/notification-preferences", &muted, Some(&l.me))
        .await;
    assert_eq!(resp.status(), 200);
    let saved: Value = app
        .get("/api/v1/me/notification-preferences", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["milestone"]["email"], false);

    // With milestone email muted, verifying queues an email for the certificate only.
    let resp = app
        .patch(
            &format!("/api/v1/learners/{}", l.id),
            &json!({"email": "wang.fang@example.cn"}),
            Some(&l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    verify(&app, &l).await;
    let inbox: Value = app
        .get("/api/v1/me/notifications", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox["items"].as_array().unwrap().len() >= 2,
        "the inbox still gets every notice"
    );
    let db = app.state.db.clone();
    let learner = l.id;
    let pending = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        skillpath::db::notifications::pending_email_count(&mut conn, LearnerId(learner)).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(pending, 1, "only the certificate's email");
    assert_problem(
        app.get("/api/v1/me/notification-preferences", Some(&l.staff))
            .await,
        403,
        "forbidden",
    )
    .await;
}
