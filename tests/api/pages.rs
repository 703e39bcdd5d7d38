//! The web pages, through HTTP as a browser sends it: cookies, forms with their CSRF tokens,
//! redirects followed by hand so that each step is seen.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::milestones::{student_with, verify};

/// A browser without a cookie jar of its own: it keeps the cookies it is given by name.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first attribute `name="…"` on the page.
    pub fn attribute(&self, name: &str) -> String {
        let marker = format!("{name}=\"");
        let start = self.body.find(&marker).expect("the attribute") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    /// The value of a hidden input named `name`.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).expect("the hidden input") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    pub async fn run(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if cookie.is_empty() {
            request
        } else {
            request.header(COOKIE, cookie)
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if set.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    /// A `GET` that must succeed, answering the body's bytes (a download).
    pub async fn get_bytes(&mut self, path: &str) -> Vec<u8> {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = self
            .client
            .get(self.app.url(path))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.run(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(self.app.url(path)).form(form);
        self.run(request).await
    }

    /// Posts a CSV file as the cohort page's script does, with `csrf` in its header.
    pub async fn post_csv(&mut self, path: &str, csv: &str, csrf: Option<&str>) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header("content-type", "text/csv")
            .body(csv.to_owned());
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        self.run(request).await
    }

    /// Opens the HR page with a code filled in (as the learner's link does), then submits it.
    async fn verify(&mut self, code: &str) -> Page {
        let form = self.get(&format!("/verify?code={code}")).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(
            form.body.contains(&format!("value=\"{code}\"")),
            "the code is filled in"
        );
        let csrf = form.hidden("csrf");
        self.post("/verify", &[("csrf", &csrf), ("code", code)])
            .await
    }

    /// Logs in through the form; the answer to the form's submission.
    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.hidden("csrf");
        self.post(
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }
}

#[tokio::test]
async fn a_stranger_is_shown_the_login_page_served_safely() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let door = browser.get("/").await;
    assert_eq!((door.status, door.location()), (303, "/login"));
    let login = browser.get("/login").await;
    assert_eq!(login.status, 200);
    let header = |name: &str| {
        login
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    assert!(header("content-security-policy").contains("script-src 'self'"));
    assert!(!header("content-security-policy").contains("unsafe-inline"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "no-store");
    assert!(login.body.contains("<label for=\"email\">邮箱</label>"));
    assert!(browser.cookies.contains_key("sp_login"));
    // The stylesheet it links is served by its content hash, for a year.
    let start = login.body.find("/static/").unwrap();
    let end = login.body[start..].find('"').unwrap() + start;
    let stylesheet = login.body[start..end].to_owned();
    let css = browser.get(&stylesheet).await;
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(css.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let stale = browser.get("/static/000000000000/app.css").await;
    assert_eq!(stale.status, 404);
    // A form that cannot be read answers as a page too.
    let unreadable = browser.post("/login", &[("email", "a@b.cn")]).await;
    assert_eq!(unreadable.status, 400);
    assert!(unreadable.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(unreadable.body.contains("请求有误"), "{}", unreadable.body);
    // English when the browser asks for it.
    let english = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<label for=\"email\">Email</label>"));
}

#[tokio::test]
async fn a_learner_logs_in_reads_their_progress_in_either_language_and_logs_out() {
    let app = spawn_app().await;
    // 高级工 issued on 29 February 2024: 技师 opens on its anniversary, 28 February 2026.
    let learner = student_with(&app, "2024-02-29").await;
    verify(&app, &learner).await;
    let mut browser = Browser::new(&app);

    let wrong = browser.log_in("wang@x.cn", "not the password at all").await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("邮箱或密码不正确"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"wang@x.cn\""),
        "what was typed is kept"
    );
    assert!(!browser.cookies.contains_key("sp_session"));

    let signed_in = browser.log_in("wang@x.cn", PASSWORD).await;
    assert_eq!((signed_in.status, signed_in.location()), (303, "/"));
    let set_cookie = signed_in
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sp_session="))
        .expect("a session cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));

    let door = browser.get("/").await;
    assert_eq!((door.status, door.location()), (303, "/progress"));
    let progress = browser.get("/progress").await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    assert!(progress.body.contains("王芳"));
    assert!(progress.body.contains("技师"), "{}", progress.body);
    assert!(progress.body.contains("现在可以申请"));
    assert!(progress.body.contains("2026年2月28日"), "{}", progress.body);
    assert!(progress.body.contains("已核验"));

    let switched = browser.get("/language?set=en&back=/progress").await;
    assert_eq!((switched.status, switched.location()), (303, "/progress"));
    let english = browser.get("/progress").await;
    assert!(english.body.contains("My progress"));
    assert!(english.body.contains("Open now"));
    assert!(english.body.contains("28 Feb 2026"), "{}", english.body);
    // The switch goes back only to this site.
    for away in [
        "//evil.example/",
        "/%09/evil.example/",
        "/%0d%0a/evil.example",
        "/\\evil.example",
    ] {
        let answer = browser.get(&format!("/language?set=en&back={away}")).await;
        assert_eq!(answer.location(), "/", "{away}");
    }

    // Logging out needs the session's token; with it, the session ends for good.
    let session = browser.cookies["sp_session"].clone();
    let forged = browser.post("/logout", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    let csrf = english.hidden("csrf");
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/login"));
    assert!(!browser.cookies.contains_key("sp_session"));
    browser.cookies.insert("sp_session".into(), session);
    let after = browser.get("/progress").await;
    assert_eq!((after.status, after.location()), (303, "/login"));
}

#[tokio::test]
async fn a_login_without_its_form_token_starts_no_session() {
    let app = spawn_app().await;
    student_with(&app, "2024-06-28").await;
    let mut browser = Browser::new(&app);
    let _ = browser.get("/login").await;
    let forged = browser
        .post(
            "/login",
            &[
                ("email", "wang@x.cn"),
                ("password", PASSWORD),
                ("csrf", "guessed"),
            ],
        )
        .await;
    assert_eq!(forged.status, 422);
    assert!(!browser.cookies.contains_key("sp_session"));
    // Nor from another site that has no form cookie at all.
    let mut stranger = Browser::new(&app);
    let blind = stranger
        .post(
            "/login",
            &[("email", "wang@x.cn"), ("password", PASSWORD), ("csrf", "")],
        )
        .await;
    assert_eq!(blind.status, 422);
    assert!(!stranger.cookies.contains_key("sp_session"));
}

#[tokio::test]
async fn a_new_password_ends_the_page_sessions_and_staff_cannot_read_a_learners_page() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(browser.get("/progress").await.status, 200);
    let resp = app
        .post(
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "another long password"}),
            Some(&learner.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let after = browser.get("/progress").await;
    assert_eq!((after.status, after.location()), (303, "/login"));

    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    let home = staff.get("/").await;
    assert_eq!((home.status, home.location()), (303, "/cohorts"));
    let progress = staff.get("/progress").await;
    assert_eq!(progress.status, 403);
}

#[tokio::test]
async fn an_evaluator_decides_from_the_queue_and_a_refused_decision_keeps_what_was_typed() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let mut evaluator = Browser::new(&app);
    assert_eq!(evaluator.log_in("eva@x.cn", PASSWORD).await.status, 303);
    let door = evaluator.get("/").await;
    assert_eq!((door.status, door.location()), (303, "/evaluations"));
    let queue = evaluator.get("/evaluations").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("王芳 · 高级工"), "{}", queue.body);
    let action = format!("/evaluations/{}", learner.certificate);
    assert!(queue.body.contains(&format!("action=\"{action}\"")));
    let csrf = queue.hidden("csrf");

    // Rejecting without a reason is refused at the certificate, the choice kept.
    let refused = evaluator
        .post(
            &action,
            &[("csrf", &csrf), ("decision", "reject"), ("reason", "  ")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("驳回或撤销须填写理由"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"reject\" checked"));
    // Without the session's token nothing is decided.
    let forged = evaluator
        .post(
            &action,
            &[("csrf", "forged"), ("decision", "verify"), ("reason", "")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let status = app
        .get_json(
            &format!("/api/v1/certificates/{}", learner.certificate),
            &learner.admin,
        )
        .await["status"]
        .clone();
    assert_eq!(status, "pending");

    let verified = evaluator
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("decision", "verify"),
                ("reason", "查询一致"),
            ],
        )
        .await;
    assert_eq!(
        (verified.status, verified.location()),
        (303, "/evaluations?done=1")
    );
    let after = evaluator.get("/evaluations?done=1").await;
    assert!(after.body.contains("已记录决定"));
    assert!(!after.body.contains("王芳 · 高级工"));
    let status = app
        .get_json(
            &format!("/api/v1/certificates/{}", learner.certificate),
            &learner.admin,
        )
        .await["status"]
        .clone();
    assert_eq!(status, "verified");
    // Deciding it again is a conflict shown on the page, not an error page.
    let again = evaluator
        .post(
            &action,
            &[("csrf", &csrf), ("decision", "verify"), ("reason", "")],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("该证书已由他人处理"), "{}", again.body);

    // A learner has no queue.
    let mut learner_browser = Browser::new(&app);
    assert_eq!(
        learner_browser.log_in("wang@x.cn", PASSWORD).await.status,
        303
    );
    assert_eq!(learner_browser.get("/evaluations").await.status, 403);
}

#[tokio::test]
async fn hr_opens_a_share_link_logs_in_reads_the_records_then_sees_the_share_revoked() {
    let app = spawn_app().await;
    let w = crate::shares::world(&app).await;
    let created = crate::shares::share(
        &app,
        &w.l.me,
        json!({"purpose": "技师岗位津贴审核", "enterprise_id": w.enterprise_a}),
    )
    .await;
    let code = created["code"].as_str().unwrap().to_owned();
    let link = created["link"].as_str().unwrap().to_owned();
    let path = link[link.find("/verify").expect("a page link")..].to_owned();
    assert!(path.starts_with("/verify?code="), "{link}");

    // The link, opened without a session, leads through the login page and back.
    let mut hr = Browser::new(&app);
    let opened = hr.get(&path).await;
    assert_eq!(opened.status, 303);
    assert!(
        opened
            .location()
            .starts_with("/login?next=/verify%3Fcode%3D"),
        "{}",
        opened.location()
    );
    let form = hr.get(opened.location()).await;
    let next = form.hidden("next");
    assert_eq!(next, path.replace('&', "&amp;"));
    let csrf = form.hidden("csrf");
    let signed_in = hr
        .post(
            "/login",
            &[
                ("email", "hr@a.cn"),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", &path),
            ],
        )
        .await;
    assert_eq!(
        (signed_in.status, signed_in.location()),
        (303, path.as_str())
    );
    // Opening the link looks nothing up by itself: the form, filled in, is submitted.
    let opened = hr.get(&path).await;
    assert_eq!(opened.status, 200);
    assert!(!opened.body.contains("技师岗位津贴审核"));
    let shown = hr.verify(&code).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("技师岗位津贴审核"));
    assert!(shown.body.contains("高级工"));
    assert!(shown.body.contains("已核验"));
    assert!(!shown.body.contains("王芳"), "the name is masked");
    // Typed by hand, in lower case, it is the same code.
    let typed = hr.verify(&code.to_lowercase()).await;
    assert_eq!(typed.status, 200);
    // Without the session's token nothing is looked up.
    let forged = hr
        .post("/verify", &[("csrf", "forged"), ("code", &code)])
        .await;
    assert_eq!(forged.status, 403);

    // A guess reads as unknown; HR of another enterprise cannot use the code.
    let guess = hr.verify("AAAA-BBBB-CCCC-DDDD").await;
    assert_eq!(guess.status, 404);
    assert!(guess.body.contains("找不到该共享码"));
    let mut other = Browser::new(&app);
    assert_eq!(other.log_in("hr@b.cn", PASSWORD).await.status, 303);
    assert_eq!(other.verify(&code).await.status, 404);

    // Revoked by the learner: the page says so.
    let id = created["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!("/api/v1/me/shares/{id}/revoke"),
            &json!({}),
            Some(&w.l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let revoked = hr.verify(&code).await;
    assert_eq!(revoked.status, 410);
    assert!(revoked.body.contains("学员已撤销该共享"));
    // A learner has no such page; a login never leads off the site.
    let mut learner = Browser::new(&app);
    assert_eq!(learner.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(learner.get("/verify").await.status, 403);
    for away in ["//evil.example/", "/%09/evil.example/"] {
        let form = learner.get(&format!("/login?next={away}")).await;
        assert_eq!(
            form.location(),
            "/",
            "a logged-in visitor goes to a local path only"
        );
    }
    let _ = w.hr_b;
}

#[tokio::test]
async fn a_learner_reads_the_inbox_and_marks_it_read() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    verify(&app, &learner).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    let unread = |page: &Page| {
        let start = page.body.find("id=\"unread-count\">").unwrap() + "id=\"unread-count\">".len();
        let end = page.body[start..].find('<').unwrap() + start;
        page.body[start..end].parse::<i64>().unwrap()
    };
    assert!(unread(&inbox) >= 1, "{}", inbox.body);
    assert!(inbox.body.contains("证书"), "{}", inbox.body);
    let forged = browser.post("/inbox/read", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    let csrf = inbox.hidden("csrf");
    let read = browser.post("/inbox/read", &[("csrf", &csrf)]).await;
    assert_eq!((read.status, read.location()), (303, "/inbox"));
    assert_eq!(unread(&browser.get("/inbox").await), 0);
    // The API sees the same inbox.
    let api = app.get_json("/api/v1/me/notifications", &learner.me).await;
    assert_eq!(api["unread_count"], 0);
}

#[tokio::test]
async fn a_learner_sets_notification_preferences_and_a_bad_time_is_refused_at_its_field() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let form = browser.get("/preferences").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form
        .body
        .contains("name=\"email_milestone\" value=\"on\" checked"));
    let csrf = form.hidden("csrf");
    let refused = browser
        .post(
            "/preferences",
            &[
                ("csrf", &csrf),
                ("email_certificate", "on"),
                ("quiet_start", "25:99"),
                ("quiet_end", "08:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("id=\"quiet-start-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"25:99\""),
        "what was typed is kept"
    );
    assert!(
        !refused
            .body
            .contains("name=\"email_milestone\" value=\"on\" checked"),
        "what was chosen is kept"
    );
    let stored = app
        .get_json("/api/v1/me/notification-preferences", &learner.me)
        .await;
    assert_eq!(stored["milestone"]["email"], true, "nothing was saved");

    let saved = browser
        .post(
            "/preferences",
            &[
                ("csrf", &csrf),
                ("email_certificate", "on"),
                ("inbox_share", "on"),
                ("quiet_start", "23:00"),
                ("quiet_end", "07:30"),
            ],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location()),
        (303, "/preferences?saved=1")
    );
    let stored = app
        .get_json("/api/v1/me/notification-preferences", &learner.me)
        .await;
    assert_eq!(stored["milestone"]["email"], false);
    assert_eq!(stored["certificate"]["email"], true);
    assert_eq!(
        stored["milestone"]["inbox"], true,
        "the inbox copy stays on"
    );
    assert_eq!(stored["quiet_hours"]["start"], "23:00");
    let forged = browser.post("/preferences", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn a_learner_shares_with_a_qr_code_hr_looks_and_the_learner_sees_it_then_revokes() {
    let app = spawn_app().await;
    let w = crate::shares::world(&app).await;
    let mut learner = Browser::new(&app);
    assert_eq!(learner.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let page = learner.get("/shares").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("甲制造有限公司"),
        "enterprises are offered"
    );
    let csrf = page.hidden("csrf");
    let enterprise = w.enterprise_a.to_string();

    let refused = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("enterprise", &enterprise),
                ("days", "999"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("有效天数须为 1 至 180"));
    assert!(
        refused.body.contains("value=\"入职核验\""),
        "what was typed is kept"
    );
    let none = learner
        .post(
            "/shares",
            &[("csrf", &csrf), ("purpose", " "), ("days", "30")],
        )
        .await;
    assert_eq!(none.status, 422);

    // Without ticking the consent: refused, with a word on it.
    let unticked = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("enterprise", &enterprise),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(unticked.status, 422);
    assert!(unticked.body.contains("勾选同意"), "{}", unticked.body);
    assert!(
        page.body.contains("我单独同意"),
        "the consent text is shown"
    );
    let made = learner
        .post(
            "/shares",
            &[
                ("csrf", &csrf),
                ("purpose", "入职核验"),
                ("enterprise", &enterprise),
                ("days", "30"),
                ("consent", crate::shares::CONSENT),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(made.body.contains("<svg"), "a QR code");
    let start = made.body.find("id=\"share-code\">").unwrap() + "id=\"share-code\">".len();
    let end = made.body[start..].find('<').unwrap() + start;
    let code = made.body[start..end].to_owned();
    assert!(made.body.contains(&format!("/verify?code={code}")));

    // HR of that enterprise looks; the learner sees who looked.
    let mut hr = Browser::new(&app);
    assert_eq!(hr.log_in("hr@a.cn", PASSWORD).await.status, 303);
    let looked = hr.verify(&code).await;
    assert_eq!(looked.status, 200, "{}", looked.body);
    let mine = learner.get("/shares").await;
    assert!(mine.body.contains("hr@a.cn"), "{}", mine.body);
    assert!(mine.body.contains("有效"));

    // Revoked from the page: HR reads it as revoked.
    let action_start = mine.body.find("action=\"/shares/").unwrap() + "action=\"".len();
    let action_end = mine.body[action_start..].find('"').unwrap() + action_start;
    let action = mine.body[action_start..action_end].to_owned();
    assert_eq!(
        learner.post(&action, &[("csrf", "forged")]).await.status,
        403
    );
    let revoked = learner.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!((revoked.status, revoked.location()), (303, "/shares"));
    assert!(learner.get("/shares").await.body.contains("已撤销"));
    assert_eq!(hr.verify(&code).await.status, 410);
    let _ = (w.hr_a, w.hr_b);
}

#[tokio::test]
async fn a_learner_registers_a_certificate_and_refusals_are_shown_at_their_fields() {
    let app = spawn_app().await;
    student_with(&app, "2024-06-28").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.log_in("wang@x.cn", PASSWORD).await.status, 303);
    let form = browser.get("/certificates/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden("csrf");
    let refused = browser
        .post(
            "/certificates",
            &[
                ("csrf", &csrf),
                ("number", ""),
                ("kind", "skill_level"),
                ("level", "technician"),
                ("occupation_code", "6-18-02-04"),
                ("issuer", "某评价机构"),
                ("issued_on", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("id=\"number-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("id=\"issued-error\""));
    assert!(!refused.body.contains("id=\"issuer-error\""));
    assert!(
        refused.body.contains("value=\"某评价机构\""),
        "what was typed is kept"
    );
    assert!(refused.body.contains("value=\"technician\" selected"));

    let fields = [
        ("csrf", csrf.as_str()),
        ("number", "Y310000000000026500034"),
        ("kind", "skill_level"),
        ("level", "technician"),
        ("occupation_code", "6-18-02-04"),
        ("issuer", "某评价机构"),
        ("issued_on", "2026-06-30"),
    ];
    let registered = browser.post("/certificates", &fields).await;
    assert_eq!(
        (registered.status, registered.location()),
        (303, "/progress"),
        "{}",
        registered.body
    );
    let progress = browser.get("/progress").await;
    assert!(progress.body.contains("待核验"), "{}", progress.body);
    let again = browser.post("/certificates", &fields).await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("该证书编号已登记"), "{}", again.body);
    assert_eq!(
        browser
            .post("/certificates", &[("csrf", "forged")])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn an_account_keeps_at_most_ten_page_sessions() {
    let app = spawn_app().await;
    student_with(&app, "2024-06-28").await;
    let mut first = Browser::new(&app);
    assert_eq!(first.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(first.get("/progress").await.status, 200);
    let mut later = Vec::new();
    for _ in 0..10 {
        let mut browser = Browser::new(&app);
        assert_eq!(browser.log_in("wang@x.cn", PASSWORD).await.status, 303);
        later.push(browser);
    }
    let ended = first.get("/progress").await;
    assert_eq!(
        (ended.status, ended.location()),
        (303, "/login"),
        "the oldest ended"
    );
    for browser in &mut later {
        assert_eq!(browser.get("/progress").await.status, 200);
    }
}

#[tokio::test]
async fn staff_read_their_cohorts_learners_narrowed_by_where_they_stand() {
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let me = app.get_json("/api/v1/me", &learner.staff).await;
    let college = me["institution_id"].as_i64().unwrap();
    let programs = app
        .get_json(
            &format!("/api/v1/institutions/{college}/programs"),
            &learner.staff,
        )
        .await;
    let program = programs[0]["id"].as_i64().unwrap();
    let resp = app
        .post(
            "/api/v1/cohorts",
            &json!({"program_id": program, "name": "2024级电气1班", "intake_year": 2024}),
            Some(&learner.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let cohort = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .put_csv(
            &format!("/api/v1/cohorts/{cohort}/enrollments/import"),
            "name,email,start_date,end_date\n李雷,lilei@x.cn,2024-09-01,2027-06-30\n"
                .as_bytes()
                .to_vec(),
            "text/csv",
            &learner.staff,
        )
        .await;
    assert_eq!(resp.status(), 200);

    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    let cohorts = staff.get("/cohorts").await;
    assert_eq!(cohorts.status, 200, "{}", cohorts.body);
    assert!(cohorts
        .body
        .contains(&format!("href=\"/cohorts/{cohort}\"")));
    let page = staff.get(&format!("/cohorts/{cohort}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("李雷"));
    assert!(!page.body.contains("王芳"), "only the cohort's learners");
    let open = staff.get(&format!("/cohorts/{cohort}?status=met")).await;
    assert!(
        !open.body.contains("李雷"),
        "a new student can apply for nothing yet"
    );
    assert!(open.body.contains("aria-current=\"page\""));

    // Staff of another college, and learners, do not reach it.
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
    assert_eq!(
        outsider.get(&format!("/cohorts/{cohort}")).await.status,
        404
    );
    let mut wang = Browser::new(&app);
    assert_eq!(wang.log_in("wang@x.cn", PASSWORD).await.status, 303);
    assert_eq!(wang.get("/cohorts").await.status, 403);
}
