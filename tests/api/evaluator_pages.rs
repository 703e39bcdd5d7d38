//! An evaluator revokes a verified certificate from the pages: looked up by its number (as
//! typed, spaces and all), revoked with a reason, which is required.

use crate::helpers::{spawn_app, PASSWORD};
use crate::milestones::{student_with, verify};
use crate::pages::Browser;

#[tokio::test]
async fn an_evaluator_finds_a_verified_certificate_by_number_and_revokes_it_with_a_reason() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let mut evaluator = Browser::new(&app);
    assert_eq!(evaluator.log_in("eva@x.cn", PASSWORD).await.status, 303);

    // Still pending: found, but not revocable.
    let pending = evaluator
        .get("/evaluations?number=Y310000000000024300012")
        .await;
    assert_eq!(pending.status, 200);
    assert!(
        pending.body.contains("只有已核验的证书可以撤销"),
        "{}",
        pending.body
    );
    verify(&app, &learner).await;

    let unknown = evaluator.get("/evaluations?number=Y999").await;
    assert!(unknown.body.contains("没有这个编号的证书"));
    let found = evaluator
        .get("/evaluations?number=y310%20000%20000%20000%20024%20300%20012")
        .await;
    assert_eq!(found.status, 200);
    let card = format!("id=\"found-{}\"", learner.certificate);
    assert!(found.body.contains(&card), "{}", found.body);
    assert!(found.body.contains("撤销此证书"));
    let csrf = found.hidden("csrf");
    let path = format!("/evaluations/{}", learner.certificate);
    let number = "y310 000 000 000 024 300 012";

    let forged = evaluator
        .post(
            &path,
            &[
                ("csrf", "forged"),
                ("decision", "revoke"),
                ("reason", "伪造"),
                ("number", number),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let no_reason = evaluator
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("decision", "revoke"),
                ("reason", ""),
                ("number", number),
            ],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason
        .body
        .contains(&format!("id=\"refusal-{}\"", learner.certificate)));
    assert!(
        no_reason.body.contains(&card),
        "the found certificate is shown again"
    );
    let status = async || {
        let path = format!("/api/v1/certificates/{}", learner.certificate);
        app.get_json(&path, &learner.admin).await["status"].clone()
    };
    assert_eq!(status().await, "verified");
    let done = evaluator
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("decision", "revoke"),
                ("reason", "发证机构通知证书作废"),
                ("number", number),
            ],
        )
        .await;
    assert_eq!((done.status, done.location()), (303, "/evaluations?done=1"));
    assert_eq!(status().await, "revoked");
    let inbox = app.inbox(&learner.me).await;
    assert!(
        inbox
            .iter()
            .any(|m| m["title"]["zh-CN"].as_str().unwrap_or("").contains("撤销")),
        "{inbox:?}"
    );

    // A learner cannot reach the page.
    let mut wang = Browser::new(&app);
    assert_eq!(wang.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(
        wang.get("/evaluations?number=Y310000000000024300012")
            .await
            .status,
        403
    );
}
