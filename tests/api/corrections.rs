//! Correction requests (PIPL Art. 46), end to end on both backends: refused at once when they
//! cannot be applied, seen and decided by the institution that recorded the fact, accepted (the
//! fact changes, milestones recomputed) or refused (with a reason), the learner told either way.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::personal_data::count_rows;
use crate::shares::world;

async fn ask(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/me/corrections", &body, Some(token)).await
}

async fn decide(app: &TestApp, token: &str, id: &Value, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/corrections/{id}/decision"),
        &body,
        Some(token),
    )
    .await
}

async fn technician_status(app: &TestApp, token: &str, learner: i64) -> String {
    let body = app
        .get_json(&format!("/api/v1/learners/{learner}/milestones"), token)
        .await;
    body["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["rule_id"] == "sh489.technician_after_senior_worker")
        .map(|m| m["status"].as_str().unwrap().to_owned())
        .unwrap()
}

#[tokio::test]
async fn a_learner_asks_for_corrections_staff_accept_one_and_refuse_another() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let l = &w.l;
    let enrollments = app
        .get_json(&format!("/api/v1/learners/{}/enrollments", l.id), &l.staff)
        .await;
    let enrollment = enrollments[0]["id"].as_i64().unwrap();

    // Refused at once, the field named, nothing stored.
    for (body, field) in [
        (
            json!({"record": "learner", "changes": {"email": "a@b.cn"}, "reason": "x"}),
            "changes.email",
        ),
        (
            json!({"record": "learner", "changes": {"id_number": "x"}, "reason": "x"}),
            "changes.id_number",
        ),
        (
            json!({"record": "learner", "changes": {"name": " "}, "reason": "x"}),
            "name",
        ),
        (
            json!({"record": "learner", "changes": {}, "reason": "x"}),
            "changes",
        ),
        (
            json!({"record": "learner", "changes": {"name": "王芳芳"}, "reason": " "}),
            "reason",
        ),
        (
            json!({"record": "enrollment", "changes": {"full_time": false}, "reason": "x"}),
            "record_id",
        ),
        (
            json!({"record": "enrollment", "record_id": enrollment, "changes": {"end_date": "2020-01-01"}, "reason": "x"}),
            "changes.end_date",
        ),
        (
            json!({"record": "enrollment", "record_id": enrollment, "changes": {"program_id": 1}, "reason": "x"}),
            "changes",
        ),
        (
            json!({"record": "enrollment", "record_id": enrollment, "changes": {"end_date": null}, "reason": "x"}),
            "changes.end_date",
        ),
    ] {
        let problem = assert_problem(ask(&app, &l.me, body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_problem(
        ask(&app, &l.me, json!({"record": "enrollment", "record_id": 999999, "changes": {"full_time": false}, "reason": "x"})).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        ask(
            &app,
            &l.staff,
            json!({"record": "learner", "changes": {"name": "x"}, "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        count_rows(&app, "correction_requests", "learner_id", l.id),
        0
    );

    // Three requests: the name, the enrollment's end, its full-time flag.
    let resp = ask(&app, &l.me, json!({"record": "learner", "changes": {"name": "王芳芳"}, "reason": "户口本上的姓名是王芳芳"})).await;
    assert_eq!(resp.status(), 201);
    let name: Value = resp.json().await.unwrap();
    assert_eq!(name["status"], "pending");
    assert_eq!(name["current_values"], json!({"name": "王芳"}));
    let resp = ask(
        &app,
        &l.me,
        json!({"record": "enrollment", "record_id": enrollment,
        "changes": {"end_date": "2024-06-01"}, "reason": "我于2024年6月1日退学"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let ended: Value = resp.json().await.unwrap();
    assert_eq!(ended["current_values"], json!({"end_date": "2025-06-30"}));
    let resp = ask(
        &app,
        &l.me,
        json!({"record": "enrollment", "record_id": enrollment,
        "changes": {"full_time": false}, "reason": "我是业余班"}),
    )
    .await;
    let part_time: Value = resp.json().await.unwrap();
    assert_eq!(part_time["institution_id"], ended["institution_id"]);

    // The college's staff see them; HR of an enterprise and staff of another college do not.
    let pending = app
        .get_json("/api/v1/corrections?status=pending", &l.staff)
        .await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);
    let hr = app.get_json("/api/v1/corrections", &w.hr_a).await;
    assert!(hr["items"].as_array().unwrap().is_empty());
    let other = app
        .create_institution(&l.admin, "另一技师学院", "technician_college")
        .await;
    let stranger = app
        .account(
            &l.admin,
            "staff@other.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    assert_problem(
        decide(&app, &stranger, &name["id"], json!({"decision": "accept"})).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        decide(&app, &l.me, &name["id"], json!({"decision": "accept"})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/corrections", Some(&l.me)).await,
        403,
        "forbidden",
    )
    .await;

    // Accepted: the fact changes, audited, the learner told.
    assert_eq!(technician_status(&app, &l.staff, l.id).await, "met");
    let resp = decide(&app, &l.staff, &name["id"], json!({"decision": "accept"})).await;
    assert_eq!(resp.status(), 200);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    let learner = app
        .get_json(&format!("/api/v1/learners/{}", l.id), &l.staff)
        .await;
    assert_eq!(learner["name"], "王芳芳");
    assert_problem(
        decide(
            &app,
            &l.staff,
            &name["id"],
            json!({"decision": "refuse", "reason": "x"}),
        )
        .await,
        409,
        "already_decided",
    )
    .await;
    // The enrollment ended before the certificate: the milestones are computed again.
    let resp = decide(
        &app,
        &l.staff,
        &ended["id"],
        json!({"decision": "accept", "reason": "学籍档案核实"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let enrollment_now = app
        .get_json(&format!("/api/v1/learners/{}/enrollments", l.id), &l.staff)
        .await;
    assert_eq!(enrollment_now[0]["end_date"], "2024-06-01");
    assert_ne!(technician_status(&app, &l.staff, l.id).await, "met");

    // Refused: a reason is required; nothing changes.
    assert_problem(
        decide(
            &app,
            &l.staff,
            &part_time["id"],
            json!({"decision": "refuse"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let resp = decide(
        &app,
        &l.staff,
        &part_time["id"],
        json!({"decision": "refuse", "reason": "学籍档案记载为全日制"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let refused: Value = resp.json().await.unwrap();
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["decision_reason"], "学籍档案记载为全日制");
    let enrollment_now = app
        .get_json(&format!("/api/v1/learners/{}/enrollments", l.id), &l.staff)
        .await;
    assert_eq!(enrollment_now[0]["full_time"], true);

    // The learner is told either way, and sees where each stands.
    let inbox = app.inbox(&l.me).await;
    let titles: Vec<&str> = inbox
        .iter()
        .map(|m| m["title"]["zh-CN"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles.iter().filter(|t| **t == "更正申请已接受").count(),
        2,
        "{titles:?}"
    );
    assert_eq!(
        titles.iter().filter(|t| **t == "更正申请未被接受").count(),
        1,
        "{titles:?}"
    );
    assert!(inbox.iter().any(|m| m["body"]["zh-CN"]
        .as_str()
        .unwrap()
        .contains("学籍档案记载为全日制")));
    let mine = app.get_json("/api/v1/me/corrections", &l.me).await;
    let statuses: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["refused", "accepted", "accepted"]);
    // Audited: the request and each decision (by the fields, never their values).
    let audit = app
        .get_json(
            "/api/v1/audit?entity_type=correction_request&limit=100",
            &l.admin,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "request_correction")
            .count(),
        3
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "accept_correction")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "refuse_correction")
            .count(),
        1
    );
    assert!(
        !audit.to_string().contains("王芳芳"),
        "no value in the audit"
    );
}

#[tokio::test]
async fn an_employment_spell_is_corrected_by_its_employers_hr() {
    let app = crate::helpers::spawn_app().await;
    let w = world(&app).await;
    let l = &w.l;
    let resp = app
        .post(
            &format!("/api/v1/learners/{}/employments", l.id),
            &json!({"employer_name": "甲制造有限公司", "employer_institution_id": w.enterprise_a,
                "occupation_code": "6-18-02-04", "post_title": "电工", "start_date": "2025-07-01",
                "frontline": true}),
            Some(&l.admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let spell: Value = resp.json().await.unwrap();
    let problem = assert_problem(
        ask(
            &app,
            &l.me,
            json!({"record": "employment", "record_id": spell["id"],
            "changes": {"occupation_code": "9-99-99-99"}, "reason": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "changes.occupation_code");
    let resp = ask(&app, &l.me, json!({"record": "employment", "record_id": spell["id"],
        "changes": {"post_title": "维修电工班组长", "start_date": "2025-06-15"}, "reason": "劳动合同为准"}))
    .await;
    assert_eq!(resp.status(), 201);
    let asked: Value = resp.json().await.unwrap();
    assert_eq!(
        asked["institution_id"], w.enterprise_a,
        "the employer decides"
    );
    // The college does not decide on the employer's record; its HR does.
    assert_problem(
        decide(&app, &l.staff, &asked["id"], json!({"decision": "accept"})).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        decide(&app, &w.hr_b, &asked["id"], json!({"decision": "accept"})).await,
        404,
        "not_found",
    )
    .await;
    let resp = decide(&app, &w.hr_a, &asked["id"], json!({"decision": "accept"})).await;
    assert_eq!(resp.status(), 200);
    let spells = app
        .get_json(&format!("/api/v1/learners/{}/employments", l.id), &w.hr_a)
        .await;
    assert_eq!(spells[0]["post_title"], "维修电工班组长");
    assert_eq!(spells[0]["start_date"], "2025-06-15");
    // The spell's own audit entry: in the decider's name, naming the request and the fields.
    let audit = app
        .get_json(
            &format!(
                "/api/v1/audit?entity_type=employment&entity_id={}&limit=10",
                spell["id"]
            ),
            &l.admin,
        )
        .await;
    let corrected = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "update")
        .expect("the correction is audited on the spell");
    assert_eq!(corrected["summary"]["correction_request"], asked["id"]);
    assert_eq!(
        corrected["summary"]["fields"],
        json!(["post_title", "start_date"])
    );
    assert!(!audit.to_string().contains("维修电工班组长"), "{audit}");
}
