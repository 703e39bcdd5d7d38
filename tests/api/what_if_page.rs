//! A learner asks "what if I pass 技师 on …" from the pages: the milestones that would change,
//! each with its state now and supposed; nothing is stored.

use crate::helpers::{spawn_app, PASSWORD};
use crate::milestones::{student_with, verify};
use crate::pages::Browser;

#[tokio::test]
async fn a_learner_supposes_passing_technician_and_reads_what_would_change() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    verify(&app, &learner).await;
    let mut wang = Browser::new(&app);
    assert_eq!(wang.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let progress = wang.get("/progress").await;
    assert!(progress.body.contains("href=\"/what-if\""));
    let form = wang.get("/what-if").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"issued_on\">"));

    let bad = wang
        .get("/what-if?level=&occupation_code=6-18&issued_on=")
        .await;
    assert_eq!(bad.status, 422);
    for id in ["level-error", "occupation-error", "issued-error"] {
        assert!(
            bad.body.contains(&format!("id=\"{id}\"")),
            "{id}: {}",
            bad.body
        );
    }
    assert!(
        bad.body.contains("value=\"6-18\""),
        "what was typed is kept"
    );

    let supposed = wang
        .get("/what-if?level=technician&occupation_code=6-18-02-04&issued_on=2027-06-30")
        .await;
    assert_eq!(supposed.status, 200, "{}", supposed.body);
    assert!(supposed.body.contains("2027年6月30日"), "{}", supposed.body);
    assert!(
        supposed.body.contains("class=\"muted before\""),
        "{}",
        supposed.body
    );
    assert!(
        supposed.body.contains("高级技师"),
        "the next level comes into view"
    );
    // Nothing was stored: the learner's certificates are as they were.
    let certificates = app
        .get_json(
            &format!("/api/v1/learners/{}/certificates", learner.id),
            &learner.me,
        )
        .await;
    let listed = certificates
        .as_array()
        .or(certificates["items"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(listed, 1, "{certificates}");

    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    assert_eq!(staff.get("/what-if").await.status, 403);
}
