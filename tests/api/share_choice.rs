//! A learner chooses, on the share page, which verified certificates and met milestones a share
//! shows; HR sees exactly those. Ticking nothing shares nothing and is refused.

use serde_json::Value;

use crate::helpers::{spawn_app, PASSWORD};
use crate::pages::Browser;
use crate::shares::world;

#[tokio::test]
async fn a_learner_shares_only_the_certificate_ticked_and_hr_sees_only_it() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut learner = Browser::new(&app);
    assert_eq!(learner.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let page = learner.get("/shares").await;
    assert_eq!(page.status, 200);
    let certificate = w.l.certificate.to_string();
    assert!(page.body.contains(&format!(
        "name=\"certificate\" value=\"{certificate}\" checked"
    )));
    assert!(
        page.body.contains("name=\"milestone\" value=\""),
        "met milestones are offered"
    );
    let csrf = page.hidden("csrf");

    let nothing = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("days", "30"),
                ("chosen", "1"),
                ("consent", crate::shares::CONSENT),
            ],
        )
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.body);
    assert!(nothing.body.contains("至少选择一项"));
    let forged = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("days", "30"),
                ("chosen", "1"),
                ("consent", crate::shares::CONSENT),
                ("certificate", "not a number"),
            ],
        )
        .await;
    assert_eq!(forged.status, 422);

    let made = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("days", "30"),
                ("chosen", "1"),
                ("consent", crate::shares::CONSENT),
                ("certificate", &certificate),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let start = made.body.find("id=\"share-code\">").unwrap() + "id=\"share-code\">".len();
    let end = made.body[start..].find('<').unwrap() + start;
    let code = &made.body[start..end];
    let seen: Value = app
        .get_json(&format!("/api/v1/verifications/{code}"), &w.hr_a)
        .await;
    let certificates = seen["certificates"].as_array().unwrap();
    assert_eq!(certificates.len(), 1, "{seen}");
    assert_eq!(certificates[0]["id"].as_i64(), Some(w.l.certificate));
    assert!(seen["milestones"].as_array().unwrap().is_empty(), "{seen}");
    let _ = w.hr_b;
}
