//! Learners, their facts and history, enrollments, employment and awards.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, id_number, spawn_app};

#[tokio::test]
async fn identity_numbers_are_checked_masked_and_never_returned() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let number = "11010519491231002X";
    let resp = app
        .post(
            "/api/v1/learners",
            &json!({"name": "王芳", "kind": "student", "id_number": number}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(number) && !text.contains("19491231002"),
        "{text}"
    );
    let learner: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(learner["id_number_masked"], "**************002X");
    assert_eq!(learner["birth_date"], "1949-12-31");

    // The same person twice (lower-case x too) is a conflict; a bad check digit is invalid.
    let resp = app
        .post(
            "/api/v1/learners",
            &json!({"name": "王芳", "kind": "student", "id_number": "11010519491231002x"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "learner_exists").await;
    let resp = app
        .post(
            "/api/v1/learners",
            &json!({"name": "某", "kind": "student", "id_number": "110105194912310021"}),
            Some(&admin),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "id_number");
    assert!(!body.to_string().contains("110105194912310021"));

    // Nothing in the audit log holds the number in clear.
    let audit = app
        .get("/api/v1/audit?entity_type=learner", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("**************002X"));
    assert!(!audit.contains("19491231002"), "{audit}");
}

#[tokio::test]
async fn kind_changes_keep_their_history() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_learner(
            &admin,
            json!({"name": "李雷", "kind": "student", "kind_effective_from": "2022-09-01"}),
        )
        .await;
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"kind": "employee", "kind_effective_from": "2022-01-01"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "kind_effective_from"
    );
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"kind": "employee", "kind_effective_from": "2025-07-01"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let learner: Value = resp.json().await.unwrap();
    assert_eq!(learner["kind"], "employee");
    let history: Vec<(&str, &str)> = learner["kind_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap(),
                h["effective_from"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [("student", "2022-09-01"), ("employee", "2025-07-01")]
    );
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"kind": "astronaut"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "kind"
    );
}

#[tokio::test]
async fn a_learner_edits_only_their_own_contact_and_residence_facts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_learner(&admin, json!({"name": "韩梅梅", "kind": "employee"}))
        .await;
    let me = app
        .account(&admin, "hmm@x.cn", "learner", json!({"learner_id": id}))
        .await;
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"hukou": "other", "residence_permit_since": "2019-03-01", "social_insurance_since": "2019-04-01",
                    "income_tax_in_shanghai": true, "preferred_language": "en"}),
            Some(&me),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let learner: Value = resp.json().await.unwrap();
    assert_eq!(learner["hukou"], "other");
    assert_eq!(learner["preferred_language"], "en");
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"name": "别人", "kind": "social"}),
            Some(&me),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    // Clearing a fact is explicit.
    let learner: Value = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"hukou": null}),
            Some(&me),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(learner["hukou"], Value::Null);
    assert_eq!(learner["residence_permit_since"], "2019-03-01");
    let resp = app
        .patch(
            &format!("/api/v1/learners/{id}"),
            &json!({"social_insurance_since": "2999-01-01"}),
            Some(&me),
        )
        .await;
    assert_problem(resp, 422, "validation_failed").await;
}

#[tokio::test]
async fn enrollments_follow_their_status_rules() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let college = app
        .create_institution(&admin, "某技师学院", "technician_college")
        .await;
    let program = app
        .create_program(&admin, college, "电气", "6-18-02-04")
        .await;
    let id = app
        .create_learner(&admin, json!({"name": "学生甲", "kind": "student"}))
        .await;
    let path = format!("/api/v1/learners/{id}/enrollments");
    let resp = app
        .post(
            &path,
            &json!({"program_id": program, "start_date": "2024-09-01", "end_date": "2024-06-30"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "end_date"
    );
    let resp = app
        .post(
            &path,
            &json!({"program_id": 9999, "start_date": "2024-09-01", "end_date": "2027-06-30"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 404, "not_found").await;
    let resp = app
        .post(&path, &json!({"program_id": program, "start_date": "2024-09-01", "end_date": "2027-06-30", "class_type": "technician_class"}), Some(&admin))
        .await;
    assert_eq!(resp.status(), 201);
    let enrollment: Value = resp.json().await.unwrap();
    assert_eq!(enrollment["status"], "enrolled");
    let resp = app
        .post(
            &path,
            &json!({"program_id": program, "start_date": "2024-09-01", "end_date": "2027-06-30"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "enrollment_exists").await;

    let one = format!("{path}/{}", enrollment["id"]);
    let graduated: Value = app
        .patch(
            &one,
            &json!({"status": "graduated", "end_date": "2027-06-28"}),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(graduated["status"], "graduated");
    assert_eq!(graduated["end_date"], "2027-06-28");
    assert_problem(
        app.patch(&one, &json!({"status": "withdrawn"}), Some(&admin))
            .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        app.patch(&one, &json!({"status": "enrolled"}), Some(&admin))
            .await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn overlapping_employment_spells_are_allowed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let id = app
        .create_learner(&admin, json!({"name": "职工乙", "kind": "employee"}))
        .await;
    let path = format!("/api/v1/learners/{id}/employments");
    for (employer, start) in [("甲公司", "2020-01-01"), ("乙公司", "2021-06-01")] {
        let resp = app
            .post(&path, &json!({"employer_name": employer, "occupation_code": "6-18-02-04", "post_title": "电工", "start_date": start, "frontline": true}), Some(&admin))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let spells: Value = app.get(&path, Some(&admin)).await.json().await.unwrap();
    assert_eq!(spells.as_array().unwrap().len(), 2);
    let first = spells[0]["id"].as_i64().unwrap();
    let resp = app
        .patch(
            &format!("{path}/{first}"),
            &json!({"end_date": "2019-01-01"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 422, "validation_failed").await;
    let ended: Value = app
        .patch(
            &format!("{path}/{first}"),
            &json!({"end_date": "2022-12-31"}),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["end_date"], "2022-12-31");
    let resp = app
        .post(&path, &json!({"employer_name": "丙", "occupation_code": "6-18-02-04", "post_title": "x", "start_date": "2023-01-01", "end_date": "2022-01-01"}), Some(&admin))
        .await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "end_date"
    );

    let awards = format!("/api/v1/learners/{id}/awards");
    let resp = app.post(&awards, &json!({"kind": "national_competition_medal", "title": "全国技能大赛铜牌", "awarded_on": "2023-10-01"}), Some(&admin)).await;
    assert_eq!(resp.status(), 201);
    let resp = app
        .post(
            &awards,
            &json!({"kind": "gold", "title": "x", "awarded_on": "2023-10-01"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 422, "validation_failed").await;
    let listed: Value = app.get(&awards, Some(&admin)).await.json().await.unwrap();
    assert_eq!(listed[0]["kind"], "national_competition_medal");
}

#[tokio::test]
async fn learners_are_listed_with_staff_filters() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let college = app
        .create_institution(&admin, "某技师学院", "technician_college")
        .await;
    let staff = app
        .account(
            &admin,
            "s@c.cn",
            "college_staff",
            json!({"institution_id": college}),
        )
        .await;
    for (i, name) in ["张三", "张四", "李五"].iter().enumerate() {
        app.create_learner(&staff, json!({"name": name, "kind": if i == 2 { "social" } else { "student" }, "id_number": id_number(&format!("3101042005010100{i}"))})).await;
    }
    app.create_learner(&admin, json!({"name": "张外", "kind": "student"}))
        .await;
    let page: Value = app
        .get("/api/v1/learners?name_prefix=张", Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["张三", "张四"],
        "staff see only their institution's learners"
    );
    let page: Value = app
        .get("/api/v1/learners?kind=social", Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let page: Value = app
        .get(
            &format!("/api/v1/learners?institution_id={college}&limit=2"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    let page: Value = app
        .get("/api/v1/learners?name_prefix=张", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3); // Every learner of a page carries its own kind history (loaded for the page at once).
    let page: Value = app
        .get("/api/v1/learners", Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    for learner in page["items"].as_array().unwrap() {
        let history = learner["kind_history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "{learner}");
        assert_eq!(history[0]["kind"], learner["kind"], "{learner}");
    }
}
