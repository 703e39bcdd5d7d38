//! The pages in a real browser: headless Chromium at a phone's size, driven through WebDriver.
//! Skipped, with one line saying so, where no browser is installed (`.ci/run` installs one).
//! With `SKILLPATH_SCREENSHOTS=<dir>` the tests also save their screenshots there (the README's
//! come from `SKILLPATH_SCREENSHOTS=docs/screenshots cargo test --test api browser`).

use crate::helpers::{spawn_app, PASSWORD};
use crate::milestones::{student_with, verify};
use crate::webdriver::{Browser, Driver};

/// A phone's viewport (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

async fn driver() -> Option<Driver> {
    match Driver::start().await {
        Ok(driver) => Some(driver),
        Err(why) => {
            eprintln!("skipping the browser test: {why} (install chromium and chromium-driver)");
            None
        }
    }
}

async fn keep_screenshot(browser: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("SKILLPATH_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::path::Path::new(&dir).join(format!("{name}.png"));
        std::fs::write(path, browser.screenshot().await).unwrap();
    }
}

/// Logs in through the login page and waits for the first page of the account's role.
async fn log_in(browser: &Browser, app: &crate::helpers::TestApp, email: &str, lands_on: &str) {
    browser.goto(&app.url("/login")).await;
    browser.wait_for_text("密码").await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_path(lands_on).await;
}

/// The page fits the phone: nothing wider than the window.
async fn assert_fits(browser: &Browser) {
    let fits = browser
        .script("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(fits, serde_json::json!(true), "the page scrolls sideways");
}

#[tokio::test]
async fn a_learner_logs_in_on_a_phone_and_sees_technician_open_on_the_anniversary() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    // 高级工 issued on 29 February 2024: 技师 opens on 28 February 2026.
    let learner = student_with(&app, "2024-02-29").await;
    verify(&app, &learner).await;
    let browser = driver.browser(PHONE.0, PHONE.1).await;

    browser.goto(&app.url("/")).await;
    browser.wait_for_path("/login").await;
    browser.wait_for_text("密码").await;
    assert_fits(&browser).await;
    keep_screenshot(&browser, "login").await;
    browser.type_into("#email", "wang@x.cn").await;
    browser
        .type_into("#password", "a wrong password here")
        .await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("邮箱或密码不正确").await;

    browser.type_into("#password", PASSWORD).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_path("/progress").await;
    let text = browser.wait_for_text("我的进度").await;
    assert!(text.contains("技师"), "{text}");
    assert!(text.contains("2026年2月28日"), "{text}");
    assert_fits(&browser).await;
    keep_screenshot(&browser, "progress").await;

    // The reasons open with a tap.
    browser.click("li.milestone details summary").await;
    browser.wait_for_text("政策依据").await;

    // A share for any enterprise, its code and QR code shown once.
    browser.goto(&app.url("/shares")).await;
    browser.wait_for_text("新建共享").await;
    browser.type_into("#purpose", "技师岗位津贴审核").await;
    browser.click("#consent").await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("共享已创建").await;
    let qr = browser
        .script("return document.querySelector('.qr svg') !== null;")
        .await;
    assert_eq!(qr, serde_json::json!(true), "a QR code");
    assert_fits(&browser).await;
    keep_screenshot(&browser, "share").await;

    browser.click("form.logout button").await;
    browser.wait_for_path("/login").await;
    browser.goto(&app.url("/progress")).await;
    browser.wait_for_path("/login").await;
    browser.close().await;
}

#[tokio::test]
async fn an_evaluator_verifies_a_certificate_from_the_queue_on_a_phone() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-06-28").await;
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "eva@x.cn", "/evaluations").await;
    browser.wait_for_text("王芳 · 高级工").await;
    assert_fits(&browser).await;
    keep_screenshot(&browser, "evaluations").await;
    let card = format!("#certificate-{}", learner.certificate);
    browser
        .type_into(&format!("{card} textarea"), "已在全国联网系统查询一致")
        .await;
    browser.click(&format!("{card} button[type=submit]")).await;
    browser.wait_for_text("已记录决定").await;
    let status = app
        .get_json(
            &format!("/api/v1/certificates/{}", learner.certificate),
            &learner.admin,
        )
        .await["status"]
        .clone();
    assert_eq!(status, "verified");
    browser.close().await;
}

#[tokio::test]
async fn hr_enters_a_code_on_a_phone_then_sees_the_share_revoked() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let w = crate::shares::world(&app).await;
    let created = crate::shares::share(
        &app,
        &w.l.me,
        serde_json::json!({"purpose": "技师岗位津贴审核", "enterprise_id": w.enterprise_a}),
    )
    .await;
    let code = created["code"].as_str().unwrap().to_owned();
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "hr@a.cn", "/verify").await;
    // Typed as people type it: lower case, spaces for dashes.
    browser
        .type_into("#code", &code.to_lowercase().replace('-', " "))
        .await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("技师岗位津贴审核").await;
    assert_fits(&browser).await;
    keep_screenshot(&browser, "verify").await;

    let id = created["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!("/api/v1/me/shares/{id}/revoke"),
            &serde_json::json!({}),
            Some(&w.l.me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("学员已撤销该共享").await;
    browser.close().await;
    let _ = (w.hr_a, w.hr_b);
}

#[tokio::test]
async fn hr_scans_a_photo_of_the_qr_code_a_learner_shows() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let w = crate::shares::world(&app).await;
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "wang@x.cn", "/progress").await;
    browser.goto(&app.url("/shares")).await;
    browser.wait_for_text("新建共享").await;
    browser.type_into("#purpose", "技能津贴扫码").await;
    browser.click("#consent").await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("共享已创建").await;
    // What HR's phone would photograph: the QR code as the learner's screen shows it.
    let files = tempfile::tempdir().unwrap();
    let photo = files.path().join("qr.png");
    std::fs::write(&photo, browser.element_screenshot(".qr").await).unwrap();
    // A picture without a QR code is refused with a word, and nothing is submitted.
    let blank = files.path().join("blank.png");
    std::fs::write(&blank, browser.element_screenshot("h1").await).unwrap();
    browser.click("form.logout button").await;
    browser.wait_for_path("/login").await;

    log_in(&browser, &app, "hr@a.cn", "/verify").await;
    browser.wait_for_text("扫码核验").await;
    browser
        .type_into("#scan-photo", blank.to_str().unwrap())
        .await;
    browser.wait_for_text("没有可识别的二维码").await;
    browser
        .type_into("#scan-photo", photo.to_str().unwrap())
        .await;
    let text = browser.wait_for_text("用途：技能津贴扫码").await;
    assert!(text.contains("高级工"), "{text}");
    browser.close().await;
    let _ = (w.hr_a, w.hr_b, w.enterprise_a);
}

#[tokio::test]
async fn staff_upload_a_cohort_file_with_a_bad_row_on_a_phone_then_a_good_one() {
    use crate::cohort_upload::{cohort_of_a_college, learners_of, BAD, GOOD};
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let (admin, cohort) = cohort_of_a_college(&app).await;
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("bad.csv");
    let good = files.path().join("good.csv");
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(&good, GOOD).unwrap();
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "staff@c.cn", "/cohorts").await;
    browser.click(&format!("a[href='/cohorts/{cohort}']")).await;
    browser.wait_for_text("上传班级名单").await;

    browser.type_into("#csv", bad.to_str().unwrap()).await;
    browser.click("#import-form button[type=submit]").await;
    let text = browser.wait_for_text("未导入任何内容").await;
    assert!(text.contains("start_date"), "{text}");
    assert_eq!(learners_of(&app, &admin, cohort).await, 0, "nothing stored");
    assert_fits(&browser).await;
    keep_screenshot(&browser, "upload").await;

    browser.type_into("#csv", good.to_str().unwrap()).await;
    browser.click("#import-form button[type=submit]").await;
    browser.wait_for_text("已导入").await;
    assert_eq!(learners_of(&app, &admin, cohort).await, 2);
    browser.click("#import-result a").await;
    browser.wait_for_text("韩梅梅").await;
    browser.close().await;
}

#[tokio::test]
async fn the_last_progress_page_stays_readable_offline_marked_with_its_time_until_logout() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let learner = student_with(&app, "2024-02-29").await;
    verify(&app, &learner).await;
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "wang@x.cn", "/progress").await;
    // Installable: a manifest with icons, and a service worker in control once it is active.
    let manifest: serde_json::Value = reqwest::get(app.url("/manifest.webmanifest"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert!(manifest["icons"].as_array().unwrap().len() >= 2);
    browser
        .wait_for_script(
            "a service worker controls the page",
            "return navigator.serviceWorker.ready.then(function () { return true; });",
        )
        .await;
    browser.goto(&app.url("/progress")).await;
    browser.wait_for_text("我的进度").await;
    browser
        .wait_for_script(
            "the progress page is kept",
            "return caches.open('skillpath-pages-v1').then(function (c) { return c.match('/progress'); }).then(function (r) { return !!r; });",
        )
        .await;

    // Logging out forgets the copy: the next person on this phone sees nothing of it.
    browser.click("form.logout button").await;
    browser.wait_for_path("/login").await;
    browser
        .wait_for_script(
            "the kept page is forgotten",
            "return caches.open('skillpath-pages-v1').then(function (c) { return c.match('/progress'); }).then(function (r) { return !r; });",
        )
        .await;

    // Back in, the page is kept again; then the server is out of reach (as when the phone is
    // offline), and the last progress page still reads, marked with when it was fetched.
    browser.type_into("#email", "wang@x.cn").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_path("/progress").await;
    browser.wait_for_text("我的进度").await;
    browser
        .wait_for_script(
            "the progress page is kept again",
            "return caches.open('skillpath-pages-v1').then(function (c) { return c.match('/progress'); }).then(function (r) { return !!r; });",
        )
        .await;
    app.server.stop(false).await;
    browser.goto(&app.url("/progress")).await;
    let text = browser.wait_for_text("当前离线").await;
    assert!(text.contains("获取的进度"), "{text}");
    assert!(
        text.contains("2026年2月28日"),
        "the milestones still read: {text}"
    );
    assert_fits(&browser).await;
    keep_screenshot(&browser, "offline").await;
    browser.close().await;
}

#[tokio::test]
async fn staff_follow_their_application_and_targets_on_a_phone() {
    let Some(driver) = driver().await else {
        return;
    };
    use crate::designations::{application, college, partner, stepped};
    use serde_json::json;
    let app = spawn_app().await;
    let c = college(&app).await;
    for (name, from) in [
        ("甲公司", "2023-01-01"),
        ("乙公司", "2023-06-01"),
        ("丙公司", "2024-01-01"),
    ] {
        partner(&app, &c, name, "enterprise", from).await;
    }
    let applications = format!("/api/v1/institutions/{}/designation-applications", c.id);
    let draft = app
        .post(&applications, &application(true), Some(&c.staff))
        .await;
    let draft: serde_json::Value = draft.json().await.unwrap();
    let path = format!("{applications}/{}", draft["id"]);
    stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "submit", "decided_on": "2026-01-05"}),
    )
    .await;
    stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "preliminary_review", "body": "district_hr",
        "body_name": "浦东新区人社局", "approved": true, "decided_on": "2026-01-20"}),
    )
    .await;
    let resp = app
        .post(
            &format!("/api/v1/institutions/{}/training-deliveries", c.id),
            &json!({"delivered_on": "2025-06-30", "kind": "training", "occupation_code": "6-18-02-04",
                    "level": "senior_worker", "person_times": 120}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);

    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "staff@c.cn", "/cohorts").await;
    browser
        .click(&format!("a[href='/institutions/{}']", c.id))
        .await;
    browser
        .wait_for_path(&format!("/institutions/{}", c.id))
        .await;
    let text = browser.wait_for_text("初审中").await;
    assert!(text.contains("浦东新区人社局"), "{text}");
    assert!(
        text.contains("区教育部门"),
        "the body still awaited: {text}"
    );
    assert!(text.contains("高级工以上培训量"), "{text}");
    let bars = browser
        .script("return document.querySelectorAll('svg.chart rect').length;")
        .await;
    assert_eq!(bars, json!(4 * 5), "a bar per target and year");
    assert_fits(&browser).await;
    keep_screenshot(&browser, "institution").await;
    browser.close().await;
}

#[tokio::test]
async fn a_learner_subscribes_to_their_calendar_and_asks_to_delete_their_account_on_a_phone() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = spawn_app().await;
    let learner = student_with(&app, "2025-06-28").await;
    verify(&app, &learner).await;
    let browser = driver.browser(PHONE.0, PHONE.1).await;
    log_in(&browser, &app, "wang@x.cn", "/progress").await;
    browser.click("a[href='/my-data']").await;
    browser.wait_for_text("下载我的数据").await;
    assert_fits(&browser).await;
    browser.click("#calendar-on").await;
    let text = browser.wait_for_text("只显示这一次").await;
    assert!(text.contains("/api/v1/calendar/"), "{text}");
    assert!(text.contains("日历订阅已开启"), "{text}");
    assert_fits(&browser).await;
    keep_screenshot(&browser, "my-data").await;
    // Asking to delete needs the box ticked (the browser itself does not stop the form).
    browser.click("#deletion-ask").await;
    browser.wait_for_text("请勾选确认").await;
    browser.click("#deletion-confirm").await;
    browser.click("#deletion-ask").await;
    browser.wait_for_text("已安排删除账户").await;
    browser.click("#deletion-cancel").await;
    browser.wait_for_text("已取消删除账户").await;
    browser.close().await;
}
