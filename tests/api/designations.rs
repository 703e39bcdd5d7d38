//! The designation lifecycle of policy 六 through the API: an institution's application from its
//! draft to designation, evaluation, rectification and de-designation, with every step kept, its
//! staff told, impossible steps refused, and a learner's milestones following the period.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

const RULE: &str = "sh489.technician_after_senior_worker";

pub struct College {
    pub admin: String,
    pub staff: String,
    pub id: i64,
}

pub async fn college(app: &TestApp) -> College {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let id = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let staff = app
        .account(
            &admin,
            "staff@c.cn",
            "college_staff",
            json!({"institution_id": id}),
        )
        .await;
    College { admin, staff, id }
}

pub fn application(separate_departments: bool) -> Value {
    json!({
        "goals": "在校生高级工、职工技师",
        "industry_need": "服务本市智能制造产业",
        "partnership_evidence": "与三家企业签订校企合作协议",
        "separate_departments": separate_departments,
        "organisation_evidence": "培训部与评价部分设",
        "facilities_evidence": "实训中心 5000 平方米",
        "yearly_training_volume": 260,
        "volume_evidence": "2025 年高级工以上培训 260 人次",
        "projects": [{"occupation_code": "6-18-02-04", "name": "电工"}]
    })
}

pub async fn partner(
    app: &TestApp,
    c: &College,
    name: &str,
    kind: &str,
    started_on: &str,
) -> Value {
    let resp = app
        .post(
            &format!("/api/v1/institutions/{}/partnerships", c.id),
            &json!({"partner_name": name, "partner_kind": kind, "started_on": started_on}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn step(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.post(&format!("{path}/steps"), &body, Some(token)).await
}

pub async fn stepped(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = step(app, token, path, body.clone()).await;
    assert_eq!(resp.status(), 200, "{body}");
    resp.json().await.unwrap()
}

/// A student of the college: enrolled 2026-09-01, with a verified 高级工 of 2026-10-10.
async fn student(app: &TestApp, c: &College) -> i64 {
    let program = app
        .create_program(&c.staff, c.id, "电气", "6-18-02-04")
        .await;
    let id = app
        .create_learner(&c.staff, json!({"name": "李明", "kind": "student"}))
        .await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{id}/enrollments"),
            &json!({"program_id": program, "start_date": "2026-09-01", "end_date": "2029-06-30"}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .post(
            &format!("/api/v1/learners/{id}/certificates"),
            &json!({"number": "Y310000000000026300012", "kind": "skill_level", "level": "senior_worker",
                    "occupation_code": "6-18-02-04", "issuer": "某评价机构", "issued_on": "2026-10-10"}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let certificate = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let evaluator = app.evaluator_token(&c.admin, "eva@x.cn").await;
    let resp = app
        .post(
            &format!("/api/v1/certificates/{certificate}/verification"),
            &json!({"decision": "verify", "reason": "查询一致"}),
            Some(&evaluator),
        )
        .await;
    assert_eq!(resp.status(), 200);
    id
}

async fn rule_status(app: &TestApp, token: &str, learner: i64) -> String {
    let body = app
        .get_json(
            &format!("/api/v1/learners/{learner}/milestones?as_of=2026-12-01"),
            token,
        )
        .await;
    body["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["rule_id"] == RULE)
        .map(|m| m["status"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_institution_goes_from_application_to_designation_and_from_rectification_to_de_designation(
) {
    let app = spawn_app().await;
    let c = college(&app).await;
    let learner = student(&app, &c).await;
    assert_eq!(rule_status(&app, &c.staff, learner).await, "not_applicable");
    let applications = format!("/api/v1/institutions/{}/designation-applications", c.id);

    // The draft, then its conditions: 考培分离 and three stable partner enterprises.
    let resp = app
        .post(&applications, &application(false), Some(&c.staff))
        .await;
    assert_eq!(resp.status(), 201);
    let draft: Value = resp.json().await.unwrap();
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["open_steps"], json!(["submit", "withdraw"]));
    let path = format!("{applications}/{}", draft["id"]);
    let resp = app
        .post(&applications, &application(true), Some(&c.staff))
        .await;
    assert_problem(resp, 409, "application_open").await;
    let submit = json!({"step": "submit", "decided_on": "2026-01-05"});
    let problem = assert_problem(
        step(&app, &c.staff, &path, submit.clone()).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    // The staff submit on the day they do it; only an administrator records an earlier,
    // paper submission (as below).
    assert_eq!(
        fields,
        ["decided_on", "separate_departments", "partnerships"]
    );
    let resp = app.put(&path, &application(true), Some(&c.staff)).await;
    assert_eq!(resp.status(), 200);
    partner(&app, &c, "甲公司", "enterprise", "2024-01-01").await;
    partner(&app, &c, "乙公司", "enterprise", "2024-03-01").await;
    partner(&app, &c, "某职业学院", "college", "2023-01-01").await;
    // Begun less than twelve months before the submission: not yet stable.
    partner(&app, &c, "丙公司", "enterprise", "2025-06-01").await;
    // The same partner twice is one partner.
    partner(&app, &c, "甲 公司", "enterprise", "2024-02-01").await;
    let problem = assert_problem(
        step(&app, &c.admin, &path, submit.clone()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "partnerships");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("2 recorded"));
    partner(&app, &c, "丁公司", "enterprise", "2024-06-01").await;
    let submitted = stepped(&app, &c.admin, &path, submit).await;
    assert_eq!(submitted["state"], "preliminary_review");
    assert_eq!(
        submitted["awaiting"],
        json!(["district_education", "district_hr"])
    );
    let resp = app.put(&path, &application(true), Some(&c.staff)).await;
    assert_problem(resp, 409, "application_submitted").await;

    // The bodies' decisions are recorded by administrators, in order, each for its body.
    let review = |body: &str, name: &str, on: &str| {
        json!({"step": "preliminary_review", "body": body, "body_name": name, "approved": true,
               "decided_on": on, "document_ref": "〔2026〕1号"})
    };
    let resp = step(
        &app,
        &c.staff,
        &path,
        review("district_hr", "浦东新区人社局", "2026-01-20"),
    )
    .await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = step(
        &app,
        &c.admin,
        &path,
        review("superior_department", "某局", "2026-01-20"),
    )
    .await;
    assert_problem(resp, 409, "body_not_required").await;
    let after = stepped(
        &app,
        &c.admin,
        &path,
        review("district_hr", "浦东新区人社局", "2026-01-20"),
    )
    .await;
    assert_eq!(after["awaiting"], json!(["district_education"]));
    let resp = step(
        &app,
        &c.admin,
        &path,
        review("district_education", "浦东新区教育局", "2026-01-19"),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "decided_on");
    let after = stepped(
        &app,
        &c.admin,
        &path,
        review("district_education", "浦东新区教育局", "2026-01-25"),
    )
    .await;
    assert_eq!(after["state"], "city_education_consent");
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "designate", "batch": "第三批", "decided_on": "2026-01-26"}),
    )
    .await;
    assert_problem(resp, 409, "transition_refused").await;
    stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "city_education_consent", "body_name": "市教委", "approved": true, "decided_on": "2026-02-10"}),
    )
    .await;
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "expert_review", "approved": true, "decided_on": "2026-02-28",
               "notice_from": "2026-03-01", "notice_until": "2026-03-03"}),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "notice_until");
    let noticed = stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "expert_review", "approved": true, "decided_on": "2026-02-28",
               "notice_from": "2026-03-01", "notice_until": "2026-03-09"}),
    )
    .await;
    assert_eq!(noticed["state"], "public_notice");
    stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "objection", "received_on": "2026-03-05", "upheld": false,
               "reason": "经核实不成立", "decided_on": "2026-03-08"}),
    )
    .await;
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "designate", "batch": "第三批", "decided_on": "2026-03-09"}),
    )
    .await;
    assert_problem(resp, 409, "notice_running").await;
    let designated = stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "designate", "batch": "第三批", "decided_on": "2026-03-20"}),
    )
    .await;
    assert_eq!(designated["state"], "designated");
    assert_eq!(designated["designation"]["designated_from"], "2026-03-20");
    assert_eq!(designated["designation"]["designated_until"], Value::Null);
    // The learner rules read the period at once: the student enrolled after the designation.
    assert_eq!(rule_status(&app, &c.staff, learner).await, "upcoming");

    // Evaluation: short → rectification with a deadline; still short → 摘牌.
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "evaluate", "year": 2026, "meets": false, "reason": "培训量不足", "decided_on": "2026-06-30"}),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "rectification_due");
    let rectifying = stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "evaluate", "year": 2026, "meets": false, "reason": "培训量不足",
               "rectification_due": "2026-08-15", "decided_on": "2026-06-30"}),
    )
    .await;
    assert_eq!(rectifying["state"], "rectification");
    assert_eq!(rectifying["rectification_due"], "2026-08-15");
    let designation = rectifying["designation"]["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!(
                "/api/v1/institutions/{}/designations/{designation}/end",
                c.id
            ),
            &json!({"designated_until": "2026-08-31", "reason": "摘牌"}),
            Some(&c.admin),
        )
        .await;
    assert_problem(resp, 409, "designation_managed").await;
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "re_evaluate", "meets": false, "reason": "仍不达标", "decided_on": "2026-08-01"}),
    )
    .await;
    assert_problem(resp, 409, "rectification_running").await;
    let resp = step(
        &app,
        &c.admin,
        &path,
        json!({"step": "re_evaluate", "meets": false, "decided_on": "2026-08-31"}),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let ended = stepped(
        &app,
        &c.admin,
        &path,
        json!({"step": "re_evaluate", "meets": false, "reason": "整改仍不达标", "decided_on": "2026-08-31"}),
    )
    .await;
    assert_eq!(ended["state"], "de_designated");
    assert_eq!(ended["open_steps"], json!([]));
    assert_eq!(ended["designation"]["designated_until"], "2026-08-31");
    assert_eq!(ended["designation"]["end_reason"], "整改仍不达标");
    // The period ended before the student enrolled.
    app.jobs_settled().await;
    assert_eq!(rule_status(&app, &c.staff, learner).await, "not_applicable");

    // The history: every step with its body, decision, reason and date.
    let history: Vec<(String, String, String)> = ended["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["to_state"].as_str().unwrap().to_owned(),
                s["decided_on"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("submit", "preliminary_review", "2026-01-05"),
        ("preliminary_review", "preliminary_review", "2026-01-20"),
        ("preliminary_review", "city_education_consent", "2026-01-25"),
        ("city_education_consent", "expert_review", "2026-02-10"),
        ("expert_review", "public_notice", "2026-02-28"),
        ("objection", "public_notice", "2026-03-08"),
        ("designate", "designated", "2026-03-20"),
        ("evaluate", "rectification", "2026-06-30"),
        ("re_evaluate", "de_designated", "2026-08-31"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(history, expected);
    let steps = ended["steps"].as_array().unwrap();
    assert_eq!(steps[1]["body"], "district_hr");
    assert_eq!(steps[1]["body_name"], "浦东新区人社局");
    assert_eq!(steps[1]["decision"], "approved");
    assert_eq!(steps[5]["decision"], "dismissed");
    assert_eq!(steps[5]["details"]["received_on"], "2026-03-05");
    assert_eq!(steps[7]["details"]["rectification_due"], "2026-08-15");
    assert_eq!(steps[8]["reason"], "整改仍不达标");

    // Each step reached the staff: in the inbox and by email.
    let inbox = app.inbox(&c.staff).await;
    let told = inbox
        .iter()
        .filter(|m| m["category"] == "institution")
        .count();
    assert_eq!(told, 9, "{inbox:?}");
    // An inbox row and an email row for each of the nine steps.
    assert_eq!(app.outbox_count(&c.admin, "application_step").await, 18);

    // A new application may start once the last one is over; the staff may withdraw it.
    let resp = app
        .post(&applications, &application(true), Some(&c.staff))
        .await;
    assert_eq!(resp.status(), 201);
    let second: Value = resp.json().await.unwrap();
    let withdrawn = stepped(
        &app,
        &c.staff,
        &format!("{applications}/{}", second["id"]),
        json!({"step": "withdraw", "reason": "明年再申报"}),
    )
    .await;
    assert_eq!(withdrawn["state"], "withdrawn");
    let list = app.get_json(&applications, &c.staff).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn applications_are_their_institutions_and_administrators_only() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let applications = format!("/api/v1/institutions/{}/designation-applications", c.id);
    let resp = app
        .post(&applications, &application(true), Some(&c.staff))
        .await;
    let draft: Value = resp.json().await.unwrap();
    let path = format!("{applications}/{}", draft["id"]);
    let other = app
        .create_institution(&c.admin, "另一所学校", "secondary_vocational")
        .await;
    let stranger = app
        .account(
            &c.admin,
            "other@c.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    let evaluator = app.evaluator_token(&c.admin, "eva@x.cn").await;
    for (token, status) in [(&stranger, 404), (&evaluator, 403)] {
        let resp = app.get(&path, Some(token)).await;
        assert_eq!(resp.status(), status);
        let resp = app.get(&applications, Some(token)).await;
        assert_eq!(resp.status(), status);
        let resp = step(&app, token, &path, json!({"step": "withdraw"})).await;
        assert_eq!(resp.status(), status);
        let resp = app
            .get(
                &format!("/api/v1/institutions/{}/partnerships", c.id),
                Some(token),
            )
            .await;
        assert_eq!(resp.status(), status);
    }
    // Another institution's id in the path does not reach this application.
    let resp = app
        .get(
            &format!(
                "/api/v1/institutions/{other}/designation-applications/{}",
                draft["id"]
            ),
            Some(&c.admin),
        )
        .await;
    assert_problem(resp, 404, "not_found").await;
    let fetched = app.get_json(&path, &c.admin).await;
    assert_eq!(fetched["state"], "draft");

    // Facts a step does not take are refused, naming the field.
    let resp = step(
        &app,
        &c.staff,
        &path,
        json!({"step": "submit", "approved": true}),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "approved");
    let resp = step(&app, &c.staff, &path, json!({"step": "approve"})).await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "step");
    let resp = step(
        &app,
        &c.staff,
        &path,
        json!({"step": "withdraw", "decided_on": "2999-01-01"}),
    )
    .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "decided_on");
    let fetched = app.get_json(&path, &c.admin).await;
    assert_eq!(fetched["steps"], json!([]));
}

#[tokio::test]
async fn two_bodies_decisions_sent_at_once_are_taken_one_after_the_other() {
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
    for round in 0..4 {
        let resp = app
            .post(&applications, &application(true), Some(&c.staff))
            .await;
        assert_eq!(resp.status(), 201, "round {round}");
        let draft: Value = resp.json().await.unwrap();
        let path = format!("{applications}/{}", draft["id"]);
        stepped(&app, &c.staff, &path, json!({"step": "submit"})).await;
        let review = |body: &str| json!({"step": "preliminary_review", "body": body, "body_name": "某区", "approved": true});
        let (a, b) = tokio::join!(
            step(&app, &c.admin, &path, review("district_hr")),
            step(&app, &c.admin, &path, review("district_education")),
        );
        assert_eq!(
            (a.status().as_u16(), b.status().as_u16()),
            (200, 200),
            "round {round}"
        );
        let after = app.get_json(&path, &c.admin).await;
        assert_eq!(
            after["state"], "city_education_consent",
            "round {round}: {after}"
        );
        assert_eq!(after["steps"].as_array().unwrap().len(), 3);
        stepped(&app, &c.staff, &path, json!({"step": "withdraw"})).await;
    }
}
