//! College staff read one of their learners' progress from the pages; another college's staff
//! read it as not found, and other roles cannot open it.

use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};
use crate::milestones::{student_with, verify};
use crate::pages::Browser;

#[tokio::test]
async fn staff_read_a_learners_progress_and_outsiders_do_not() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-02-29").await;
    verify(&app, &learner).await;
    let path = format!("/learners/{}", learner.id);

    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    let page = staff.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>王芳</h1>"));
    assert!(
        page.body.contains("2026年2月28日"),
        "技师 opens on the anniversary"
    );
    assert!(
        !page.body.contains("href=\"/certificates/new\""),
        "nothing of the learner's own"
    );
    assert_eq!(staff.get("/learners/999999").await.status, 404);

    let other = app
        .create_institution(&learner.admin, "另一所技师学院", "technician_college")
        .await;
    app.account(
        &learner.admin,
        "other@c.cn",
        "college_staff",
        json!({"institution_id": other}),
    )
    .await;
    let mut outsider = Browser::new(&app);
    assert_eq!(outsider.log_in("other@c.cn", PASSWORD).await.status, 303);
    assert_eq!(outsider.get(&path).await.status, 404);
    let mut wang = Browser::new(&app);
    assert_eq!(wang.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(wang.get(&path).await.status, 403);
}
