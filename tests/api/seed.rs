//! `skillpath seed`: synthetic learners with histories the engine can work on, repeatable.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn seeding_writes_histories_the_engine_uses_and_can_run_twice() {
    let app = spawn_app().await;
    let db = app.state.db.clone();
    let (first, second, recomputed) = tokio::task::spawn_blocking(move || {
        let first = skillpath::services::seed::seed(&db, 300, 7, false).unwrap();
        // A second run continues the serial numbers: emails and certificate numbers stay unique.
        let second = skillpath::services::seed::seed(&db, 200, 7, true).unwrap();
        let recomputed = skillpath::services::eligibility::recompute_all(
            &db,
            skillpath::domain::today_in_shanghai(),
        )
        .unwrap();
        (first, second, recomputed)
    })
    .await
    .unwrap();
    assert_eq!(first.learners, 300);
    assert_eq!(second.learners, 200);
    assert!(
        first.institutions >= 22 && first.programs >= 36,
        "{first:?}"
    );
    // About 45 % students (all enrolled), 1.3 certificates and 1 employment spell per learner.
    assert!((100..=250).contains(&first.enrollments), "{first:?}");
    assert!((250..=550).contains(&first.certificates), "{first:?}");
    assert!((150..=500).contains(&first.employments), "{first:?}");
    assert_eq!(recomputed.learners, 500);
    assert!(recomputed.events > 100, "{recomputed:?}");

    let admin = app.admin_token().await;
    let page: Value = app
        .get("/api/v1/learners?limit=200", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 200);
    // A seeded learner with no education occupations has none, not a code "[]".
    for learner in page["items"].as_array().unwrap() {
        for code in learner["education_occupation_codes"].as_array().unwrap() {
            assert!(
                skillpath::domain::OccupationCode::parse(code.as_str().unwrap()).is_ok(),
                "{learner}"
            );
        }
    }
    let certificates: Value = app
        .get("/api/v1/certificates?status=pending&limit=5", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(!certificates["items"].as_array().unwrap().is_empty());

    // With accounts: the second run's learners (serials 301–500) can log in and see their progress.
    let session = app
        .login(
            "learner400@seed.example",
            skillpath::services::seed::SEEDED_PASSWORD,
        )
        .await;
    let token = session["access_token"].as_str().unwrap();
    let progress = app.get("/api/v1/me/progress", Some(token)).await;
    assert_eq!(progress.status(), 200);
    let progress: Value = progress.json().await.unwrap();
    assert!(progress["milestones"].is_array(), "{progress}");
    assert_eq!(
        app.post(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "learner100@seed.example", "password": skillpath::services::seed::SEEDED_PASSWORD}),
            None
        )
        .await
        .status(),
        401,
        "the first run made no accounts"
    );
}
