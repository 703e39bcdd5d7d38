//! HR staff list what learners shared with their enterprise; other enterprises' HR see none of
//! it, and other roles cannot open the page.

use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};
use crate::pages::Browser;
use crate::shares::{share, world};

#[tokio::test]
async fn hr_list_the_shares_addressed_to_their_enterprise_only() {
    let app = spawn_app().await;
    let w = world(&app).await;
    share(
        &app,
        &w.l.me,
        json!({"purpose": "技师岗位津贴审核", "enterprise_id": w.enterprise_a}),
    )
    .await;
    // A share for any enterprise is not "addressed" to A: it is listed nowhere.
    share(&app, &w.l.me, json!({"purpose": "求职"})).await;

    let mut hr_a = Browser::new(&app);
    assert_eq!(hr_a.log_in("hr@a.cn", PASSWORD).await.status, 303);
    assert!(hr_a
        .get("/verify")
        .await
        .body
        .contains("href=\"/shared-with-us\""));
    let listed = hr_a.get("/shared-with-us").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains("技师岗位津贴审核"));
    assert!(
        listed.body.contains("王*"),
        "the name masked as a share shows it"
    );
    assert!(!listed.body.contains("王芳"));
    assert!(!listed.body.contains("求职"));
    assert!(listed.body.contains("share-active"));

    let mut hr_b = Browser::new(&app);
    assert_eq!(hr_b.log_in("hr@b.cn", PASSWORD).await.status, 303);
    let other = hr_b.get("/shared-with-us").await;
    assert_eq!(other.status, 200);
    assert!(!other.body.contains("技师岗位津贴审核"));

    let mut wang = Browser::new(&app);
    assert_eq!(wang.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(wang.get("/shared-with-us").await.status, 403);
    let _ = (w.hr_a, w.hr_b);
}
