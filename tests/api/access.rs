//! Getting in without an administrator: a password reset and an invitation, each a one-time
//! link that arrives by email (a real SMTP conversation) and opens a page of the web face.

use std::time::Duration;

use serde_json::json;

use crate::delivery::{mail_app, plain_text, wait_until, with_subject};
use crate::helpers::{assert_problem, TestApp, PASSWORD};
use crate::pages::Browser;
use crate::smtp::SmtpServer;

/// The one link of `path` (`/reset/`, `/welcome/`) in the newest email with this subject.
async fn emailed_link(smtp: &SmtpServer, subject: &str, path: &str) -> String {
    wait_until(subject, Duration::from_secs(10), async || {
        !with_subject(smtp, subject).is_empty()
    })
    .await;
    let text = plain_text(&with_subject(smtp, subject).pop().unwrap().data);
    let start = text
        .find(path)
        .unwrap_or_else(|| panic!("a link in {text}"));
    let end = text[start..]
        .find(|c: char| c.is_whitespace())
        .map_or(text.len(), |e| start + e);
    text[start..end].to_owned()
}

/// Once its email is sent, the database holds the link's token nowhere: not in the outbox (its
/// sealed copy is cleared), not in the links (only the hash).
async fn assert_no_usable_link_is_stored(app: &TestApp, link: &str) {
    use diesel::prelude::*;
    use skillpath::db::schema::{account_links, notification_outbox};
    let token = link.rsplit('/').next().unwrap().to_owned();
    let read = async || {
        app.state
            .db
            .read(move |conn| {
                let secrets: Vec<Option<String>> = notification_outbox::table
                    .filter(notification_outbox::kind.eq("password_reset"))
                    .select(notification_outbox::secret)
                    .load(conn)?;
                let hashes: Vec<String> = account_links::table
                    .select(account_links::token_hash)
                    .load(conn)?;
                Ok::<_, skillpath::error::AppError>((secrets, hashes))
            })
            .await
            .unwrap()
    };
    // The worker settles the row just after the server took the message.
    wait_until(
        "the sent row's secret cleared",
        Duration::from_secs(10),
        async || {
            let (secrets, _) = read().await;
            !secrets.is_empty() && secrets.iter().all(Option::is_none)
        },
    )
    .await;
    let (_, hashes) = read().await;
    assert!(hashes.iter().all(|h| h.len() == 64 && !h.contains(&token)));
}

/// A college, its staff, a program, and a learner with an address (not yet enrolled).
async fn college_with_learner(app: &TestApp, email: &str) -> (String, i64, i64) {
    let (_, staff, program) = crate::cohort_upload::college(app).await;
    let learner = app
        .create_learner(
            &staff,
            json!({"name": "王芳", "kind": "student", "hukou": "other", "email": email}),
        )
        .await;
    (staff, program, learner)
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_its_link_once_and_every_old_session_ends() {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        json!({"email": "hr@e.cn", "password": PASSWORD, "role": "evaluator"}),
    )
    .await;
    let api_session = app.login("hr@e.cn", PASSWORD).await;
    let mut old = Browser::new(&app);
    assert_eq!(old.log_in("hr@e.cn", PASSWORD).await.status, 303);

    // Asking for a known and an unknown address reads alike.
    let mut visitor = Browser::new(&app);
    let mut ask = async |email: &str| {
        let form = visitor.get("/forgot").await;
        assert_eq!(form.status, 200);
        let csrf = form.hidden("csrf");
        visitor
            .post("/forgot", &[("email", email), ("csrf", &csrf)])
            .await
    };
    let known = ask("HR@e.cn").await;
    let unknown = ask("nobody@e.cn").await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert!(known.body.contains("id=\"link-sent\""));
    assert_eq!(known.body, unknown.body);

    let link = emailed_link(&smtp, "Skillpath: 重设您的 Skillpath 密码", "/reset/").await;
    assert_no_usable_link_is_stored(&app, &link).await;
    assert!(smtp
        .received()
        .iter()
        .all(|m| !m.rcpt_to.iter().any(|r| r.contains("nobody@e.cn"))));
    // A mail scanner opening the link uses nothing: the form comes back as often as asked.
    let mut owner = Browser::new(&app);
    for _ in 0..2 {
        let form = owner.get(&link).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("hr@e.cn"));
    }
    let form = owner.get(&link).await;
    let csrf = form.hidden("csrf");
    let new_password = "a brand new passphrase";
    let differ = owner
        .post(
            &link,
            &[
                ("password", new_password),
                ("confirm", "something else entirely"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(differ.status, 422);
    assert!(differ.body.contains("id=\"confirm-error\""));
    let csrf = differ.hidden("csrf");
    let done = owner
        .post(
            &link,
            &[
                ("password", new_password),
                ("confirm", new_password),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((done.status, done.location()), (303, "/"), "{}", done.body);
    assert!(owner.cookies.contains_key("sp_session"));

    // The earlier page session and the API's refresh token ended; the old password is gone.
    assert_eq!(old.get("/evaluations").await.location(), "/login");
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": api_session["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(refresh.status(), 401);
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "hr@e.cn", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 401);
    app.login("hr@e.cn", new_password).await;

    // The link works once.
    let again = Browser::new(&app).get(&link).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("id=\"link-invalid\""));
    let mut late = Browser::new(&app);
    let csrf = late.get("/forgot").await.hidden("csrf");
    let reused = late
        .post(
            &link,
            &[
                ("password", "yet another passphrase"),
                ("confirm", "yet another passphrase"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(reused.status, 410);
    app.login("hr@e.cn", new_password).await;
}

#[tokio::test]
async fn the_api_accepts_reset_requests_alike_and_limits_them_per_address() {
    let app = crate::helpers::spawn_app().await;
    for email in ["admin@skillpath.test", "nobody@example.cn"] {
        let resp = app
            .post(
                "/api/v1/auth/password-reset",
                &json!({"email": email}),
                None,
            )
            .await;
        assert_eq!(resp.status(), 202);
    }
    let bad = app
        .post(
            "/api/v1/auth/password-reset",
            &json!({"email": "not an address"}),
            None,
        )
        .await;
    let problem = assert_problem(bad, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "email");
    // Five requests for one address in an hour, then 429: nobody's mailbox can be flooded.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = app
            .post(
                "/api/v1/auth/password-reset",
                &json!({"email": "flood@example.cn"}),
                None,
            )
            .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 202, 202, 202, 429]);
}

#[tokio::test]
async fn an_enrolled_learner_is_invited_once_and_activates_their_account_from_the_link() {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let (staff, program, learner) = college_with_learner(&app, "wangfang@example.org").await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{learner}/enrollments"),
            &json!({"program_id": program, "start_date": "2022-09-01", "end_date": "2025-06-30"}),
            Some(&staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let link = emailed_link(&smtp, "Skillpath: 开通您的 Skillpath 账户", "/welcome/").await;
    let invitation = with_subject(&smtp, "Skillpath: 开通您的 Skillpath 账户").remove(0);
    assert_eq!(invitation.rcpt_to, ["wangfang@example.org"]);
    assert!(invitation.header("List-Unsubscribe").is_none());

    let mut learner_browser = Browser::new(&app);
    let form = learner_browser.get(&link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("wangfang@example.org"));
    let short = learner_browser
        .post(
            &link,
            &[
                ("password", "short"),
                ("confirm", "short"),
                ("csrf", &form.hidden("csrf")),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("id=\"password-error\""));
    let chosen = "王芳的技能等级证书登录密码";
    let done = learner_browser
        .post(
            &link,
            &[
                ("password", chosen),
                ("confirm", chosen),
                ("csrf", &short.hidden("csrf")),
            ],
        )
        .await;
    assert_eq!((done.status, done.location()), (303, "/"), "{}", done.body);
    let progress = learner_browser.get("/progress").await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    let me = app.login("wangfang@example.org", chosen).await;
    let account = app
        .get_json("/api/v1/me", me["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        (account["role"].as_str(), account["learner_id"].as_i64()),
        (Some("learner"), Some(learner))
    );

    // Used: the link no longer works, and staff are told the account is active.
    assert_eq!(Browser::new(&app).get(&link).await.status, 410);
    let resp = app
        .post(
            &format!("/api/v1/learners/{learner}/invitation"),
            &json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["result"],
        "already_active"
    );
    assert_eq!(
        with_subject(&smtp, "Skillpath: 开通您的 Skillpath 账户").len(),
        1
    );
}

#[tokio::test]
async fn staff_invite_again_which_voids_the_first_link_and_other_colleges_cannot_invite() {
    let smtp = SmtpServer::start().await;
    let app = mail_app(&smtp, &[]).await;
    let (staff, _, learner) = college_with_learner(&app, "li@example.org").await;
    let invite = async |token: &str| {
        app.post(
            &format!("/api/v1/learners/{learner}/invitation"),
            &json!({}),
            Some(token),
        )
        .await
    };
    let resp = invite(&staff).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["result"],
        "sent"
    );
    let first = emailed_link(&smtp, "Skillpath: 开通您的 Skillpath 账户", "/welcome/").await;
    assert_eq!(invite(&staff).await.status(), 200);
    wait_until(
        "the second invitation",
        Duration::from_secs(10),
        async || with_subject(&smtp, "Skillpath: 开通您的 Skillpath 账户").len() == 2,
    )
    .await;
    let second = emailed_link(&smtp, "Skillpath: 开通您的 Skillpath 账户", "/welcome/").await;
    assert_ne!(first, second);
    assert_eq!(Browser::new(&app).get(&first).await.status, 410);
    assert_eq!(Browser::new(&app).get(&second).await.status, 200);

    // Staff of another college, HR and the learner's peers cannot reach her.
    let admin = app.admin_token().await;
    let other = app
        .create_institution(&admin, "另一所学院", "technician_college")
        .await;
    let stranger = app
        .account(
            &admin,
            "other@c.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    assert_problem(invite(&stranger).await, 404, "not_found").await;
    let evaluator = app.evaluator_token(&admin, "ev@c.cn").await;
    assert_problem(invite(&evaluator).await, 403, "forbidden").await;
    // A learner without an address cannot be invited; staff are told so.
    let silent = app
        .create_learner(
            &staff,
            json!({"name": "李雷", "kind": "student", "hukou": "other"}),
        )
        .await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{silent}/invitation"),
            &json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["result"],
        "no_email"
    );
}
