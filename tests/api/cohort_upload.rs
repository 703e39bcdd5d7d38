//! College staff upload a cohort file from the cohort page (as its script posts it): a file
//! with a bad row is reported row by row and stores nothing; a good one is imported, and its
//! learners with an address are invited to activate their accounts.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::pages::Browser;

pub const BAD: &str = "name,email,start_date,end_date\n李雷,lilei@x.cn,2024-09-01,2027-06-30\n韩梅梅,hmm@x.cn,not a date,2027-06-30\n";
pub const GOOD: &str = "name,email,start_date,end_date\n李雷,lilei@x.cn,2024-09-01,2027-06-30\n韩梅梅,hmm@x.cn,2024-09-01,2027-06-30\n";

/// A technician college with its staff account (`staff@c.cn`) and an electrician program: the
/// admin's token, the staff's token, and the program.
pub async fn college(app: &TestApp) -> (String, String, i64) {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let college = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let staff = app
        .account(
            &admin,
            "staff@c.cn",
            "college_staff",
            json!({"institution_id": college}),
        )
        .await;
    let program = app
        .create_program(&staff, college, "电气", "6-18-02-04")
        .await;
    (admin, staff, program)
}

/// The college of [`college`], and a cohort of its program.
pub async fn cohort_of_a_college(app: &TestApp) -> (String, i64) {
    let (admin, staff, program) = college(app).await;
    let resp = app
        .post(
            "/api/v1/cohorts",
            &json!({"program_id": program, "name": "2024级电气1班", "intake_year": 2024}),
            Some(&staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let cohort = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    (admin, cohort)
}

pub async fn learners_of(app: &TestApp, admin: &str, cohort: i64) -> usize {
    app.get_json(&format!("/api/v1/learners?cohort_id={cohort}"), admin)
        .await["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn staff_upload_a_file_with_a_bad_row_see_the_report_and_nothing_is_stored_then_a_good_one() {
    let app = spawn_app().await;
    let (admin, cohort) = cohort_of_a_college(&app).await;
    let mut staff = Browser::new(&app);
    assert_eq!(staff.log_in("staff@c.cn", PASSWORD).await.status, 303);
    let page = staff.get(&format!("/cohorts/{cohort}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<label for=\"csv\">"));
    assert!(page.body.contains("/upload.js\" defer></script>"));
    let csrf = page.attribute("data-csrf");
    let path = format!("/cohorts/{cohort}/import");

    // Without the session's token (another site's request): refused, nothing read.
    let forged = staff.post_csv(&path, GOOD, Some("forged")).await;
    assert_eq!(forged.status, 403);
    assert_eq!(staff.post_csv(&path, GOOD, None).await.status, 403);
    assert_eq!(learners_of(&app, &admin, cohort).await, 0);

    let bad = staff.post_csv(&path, BAD, Some(&csrf)).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"import-result\""));
    assert!(bad.body.contains("未导入任何内容"), "{}", bad.body);
    assert!(
        bad.body.contains("<td>3</td><td>start_date</td>"),
        "{}",
        bad.body
    );
    assert_eq!(learners_of(&app, &admin, cohort).await, 0, "nothing stored");

    let missing = staff
        .post_csv(&path, "name,start_date\n李雷,2024-09-01\n", Some(&csrf))
        .await;
    assert_eq!(missing.status, 422);
    assert!(
        missing.body.contains("文件缺少必需的列"),
        "{}",
        missing.body
    );

    let good = staff.post_csv(&path, GOOD, Some(&csrf)).await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains("已导入"), "{}", good.body);
    assert_eq!(learners_of(&app, &admin, cohort).await, 2);
    let shown = staff.get(&format!("/cohorts/{cohort}")).await;
    assert!(shown.body.contains("韩梅梅"));

    // Each new learner with an address is invited to activate an account, once (by a durable
    // job the import queues).
    app.jobs_settled().await;
    assert_eq!(app.outbox_count(&admin, "invitation").await, 2);
    assert_eq!(staff.post_csv(&path, GOOD, Some(&csrf)).await.status, 200);
    app.jobs_settled().await;
    assert_eq!(
        app.outbox_count(&admin, "invitation").await,
        2,
        "a second import invites nobody again"
    );

    // Staff send an invitation again from the page (voiding the first link); the page says so.
    let learners = app
        .get_json(&format!("/api/v1/learners?cohort_id={cohort}"), &admin)
        .await;
    let li = learners["items"][0]["id"].as_i64().unwrap();
    let invite = format!("/cohorts/{cohort}/learners/{li}/invite");
    assert_eq!(staff.post(&invite, &[("csrf", "forged")]).await.status, 403);
    let sent = staff.post(&invite, &[("csrf", &csrf)]).await;
    assert_eq!(
        (sent.status, sent.location()),
        (303, format!("/cohorts/{cohort}?invited=sent").as_str())
    );
    let told = staff.get(sent.location()).await;
    assert!(told.body.contains("已发送开通邀请"), "{}", told.body);

    // Staff of another college, and an evaluator, cannot upload into it.
    let other = app
        .create_institution(&admin, "另一所学院", "technician_college")
        .await;
    app.account(
        &admin,
        "other@c.cn",
        "college_staff",
        json!({"institution_id": other}),
    )
    .await;
    let mut outsider = Browser::new(&app);
    assert_eq!(outsider.log_in("other@c.cn", PASSWORD).await.status, 303);
    let own = outsider.get("/cohorts").await;
    let token = own.hidden("csrf");
    assert_eq!(
        outsider.post_csv(&path, GOOD, Some(&token)).await.status,
        404
    );
}
