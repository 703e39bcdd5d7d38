//! Cohorts and bulk enrollment from CSV files as colleges export them.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, nth_id_number, spawn_app, TestApp};

const SAMPLE: &str = include_str!("../data/cohort_sample.csv");

struct College {
    admin: String,
    staff: String,
    institution: i64,
    program: i64,
}

async fn college(app: &TestApp) -> College {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let institution = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let staff = app
        .account(
            &admin,
            "staff@college.cn",
            "college_staff",
            json!({"institution_id": institution}),
        )
        .await;
    let program = app
        .create_program(&staff, institution, "电气自动化", "6-18-02-04")
        .await;
    College {
        admin,
        staff,
        institution,
        program,
    }
}

/// The token of a staff member of another college, which the first college's staff must not reach.
async fn second_college_staff(app: &TestApp, c: &College) -> String {
    let other = app
        .create_institution(&c.admin, "另一所学院", "technician_college")
        .await;
    app.account(
        &c.admin,
        "staff@other.cn",
        "college_staff",
        json!({"institution_id": other}),
    )
    .await
}

async fn cohort(app: &TestApp, c: &College, name: &str) -> i64 {
    let resp = app
        .post(
            "/api/v1/cohorts",
            &json!({"program_id": c.program, "name": name, "intake_year": 2024}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn import(
    app: &TestApp,
    token: &str,
    cohort: i64,
    body: Vec<u8>,
    query: &str,
) -> reqwest::Response {
    app.put_csv(
        &format!("/api/v1/cohorts/{cohort}/enrollments/import{query}"),
        body,
        "text/csv",
        token,
    )
    .await
}

async fn learner_count(app: &TestApp, admin: &str) -> usize {
    let mut count = 0;
    let mut cursor = String::new();
    loop {
        let page: Value = app
            .get_json(
                &format!("/api/v1/learners?limit=200&cursor={cursor}"),
                admin,
            )
            .await;
        count += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return count,
        }
    }
}

/// A cohort file of `rows` learners in the export layout of a college's student system.
fn cohort_file(rows: u32) -> String {
    let mut out = String::from("姓名,身份证号,邮箱,入学日期,毕业日期,班级类型,户籍\n");
    for i in 0..rows {
        out.push_str(&format!(
            "学员{i},{},s{i}@college.cn,2024-09-01,2027-06-30,技师班,外省市\n",
            nth_id_number(i)
        ));
    }
    out
}

#[tokio::test]
async fn the_sample_file_imports_and_a_second_import_creates_nothing() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let id = cohort(&app, &c, "2024级电气1班").await;
    let resp = import(&app, &c.staff, id, SAMPLE.as_bytes().to_vec(), "").await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["rows_read"], 3);
    assert_eq!(report["created"], 3);
    assert_eq!(report["learners_created"], 3);
    assert_eq!(report["rejected_count"], 0);

    let learners: Value = app
        .get_json(&format!("/api/v1/learners?cohort_id={id}"), &c.staff)
        .await;
    let items = learners["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["name"], "王芳");
    assert_eq!(items[0]["id_number_masked"], "**************002X");
    assert_eq!(items[0]["hukou"], "other");
    assert_eq!(items[1]["email"], "li.lei@example.cn");
    assert_eq!(items[2]["kind"], "employee");
    let enrollments: Value = app
        .get_json(
            &format!("/api/v1/learners/{}/enrollments", items[0]["id"]),
            &c.staff,
        )
        .await;
    assert_eq!(enrollments[0]["class_type"], "technician_class");
    assert_eq!(enrollments[0]["cohort_id"], id);
    let third: Value = app
        .get_json(
            &format!("/api/v1/learners/{}/enrollments", items[2]["id"]),
            &c.staff,
        )
        .await;
    assert_eq!(third[0]["full_time"], false);
    assert_eq!(third[0]["class_type"], "apprenticeship");

    let again: Value = import(&app, &c.staff, id, SAMPLE.as_bytes().to_vec(), "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        (
            again["learners_created"].as_u64(),
            again["learners_matched"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(learner_count(&app, &c.admin).await, 3);
}

#[tokio::test]
async fn a_thousand_rows_in_utf8_and_in_gbk() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let file = cohort_file(1000);

    let utf8 = cohort(&app, &c, "UTF-8 班").await;
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(file.as_bytes());
    let report: Value = import(&app, &c.staff, utf8, with_bom, "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (report["rows_read"].as_u64(), report["created"].as_u64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(report["encoding"], "UTF-8");

    // The same learners exported from Excel on Chinese Windows, for another intake of the program.
    let gbk_cohort = cohort(&app, &c, "GBK 班").await;
    let gbk_file = file.replace("2024-09-01", "2025-09-01");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&gbk_file);
    assert!(!unmappable);
    let report: Value = import(&app, &c.staff, gbk_cohort, gbk.into_owned(), "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["encoding"], "gb18030");
    assert_eq!(
        (
            report["created"].as_u64(),
            report["learners_matched"].as_u64(),
            report["learners_created"].as_u64()
        ),
        (Some(1000), Some(1000), Some(0))
    );
    assert_eq!(learner_count(&app, &c.admin).await, 1000);
    let first: Value = app
        .get_json("/api/v1/learners?name_prefix=学员999", &c.staff)
        .await;
    assert_eq!(first["items"][0]["name"], "学员999");
}

#[tokio::test]
async fn a_file_with_mistakes_is_reported_row_by_row_and_stores_nothing() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let id = cohort(&app, &c, "有错的班").await;
    let file = format!(
        "name,id_number,email,start_date,end_date,kind\n\
         好人,{},good@x.cn,2024-09-01,2027-06-30,student\n\
         错号,110105194912310021,,2024-09-01,2027-06-30,student\n\
         无标识,,,2024-09-01,2027-06-30,student\n\
         日期反,,d@x.cn,2024-09-01,2023-06-30,student\n\
         ,,noname@x.cn,2024-09-01,2027-06-30,alien\n\
         好人二,,good2@x.cn,2024/09/01,2027/06/30,在职职工\n",
        nth_id_number(7)
    );
    let resp = import(&app, &c.staff, id, file.clone().into_bytes(), "").await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    let rejected: Vec<(u64, &str)> = problem["report"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "id_number"),
            (4, "id_number"),
            (5, "end_date"),
            (6, "name"),
            (6, "kind")
        ]
    );
    assert_eq!(problem["report"]["rows_read"], 6);
    assert_eq!(problem["report"]["rejected_count"], 4, "rows, not problems");
    assert_eq!(problem["report"]["created"], 0, "nothing was stored");
    assert_eq!(problem["report"]["learners_created"], 0);
    assert_eq!(
        learner_count(&app, &c.admin).await,
        0,
        "all-or-nothing: nothing stored"
    );

    let report: Value = import(&app, &c.staff, id, file.into_bytes(), "?partial=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["committed"], true);
    assert_eq!(report["created"], 2);
    assert_eq!(report["rejected_count"], 4);
    assert_eq!(learner_count(&app, &c.admin).await, 2);

    let resp = import(&app, &c.staff, id, b"name,email\nx,y@z.cn\n".to_vec(), "").await;
    let body = assert_problem(resp, 400, "invalid_csv").await;
    assert_eq!(body["errors"][0]["field"], "start_date");
}

#[tokio::test]
async fn existing_learners_are_matched_by_identity_number_then_email() {
    let app = spawn_app().await;
    let c = college(&app).await;
    // Learners the college registered itself: within its scope.
    let by_id = app
        .create_learner(
            &c.staff,
            json!({"name": "已在册", "kind": "student", "id_number": nth_id_number(1)}),
        )
        .await;
    let by_email = app
        .create_learner(
            &c.staff,
            json!({"name": "有邮箱", "kind": "student", "email": "known@x.cn"}),
        )
        .await;
    app.create_learner(&c.staff, json!({"name": "他人", "kind": "student", "id_number": nth_id_number(2), "email": "taken@x.cn"})).await;
    let id = cohort(&app, &c, "匹配班").await;
    let file = format!(
        "姓名,身份证号,邮箱,入学日期,毕业日期\n已在册,{},,2024-09-01,2027-06-30\n有邮箱,,KNOWN@x.cn,2024-09-01,2027-06-30\n冒用,{},taken@x.cn,2024-09-01,2027-06-30\n",
        nth_id_number(1),
        nth_id_number(3)
    );
    let report: Value = import(&app, &c.staff, id, file.into_bytes(), "?partial=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            report["learners_matched"].as_u64(),
            report["learners_created"].as_u64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(report["rejected"][0]["line"], 4);
    assert_eq!(report["rejected"][0]["field"], "email");
    // Matched rows carry nothing the import silently drops: the identity number given for the
    // learner matched by email (who has none on record) is reported, not applied.
    let warnings: Vec<(u64, &str)> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["line"].as_u64().unwrap(), w["field"].as_str().unwrap()))
        .collect();
    assert_eq!(warnings, [], "{report}");
    for learner in [by_id, by_email] {
        let enrollments: Value = app
            .get_json(&format!("/api/v1/learners/{learner}/enrollments"), &c.staff)
            .await;
        assert_eq!(
            enrollments[0]["cohort_id"], id,
            "the college now sees learner {learner} through the enrollment"
        );
    }
}

#[tokio::test]
async fn only_the_cohorts_own_college_imports() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let id = cohort(&app, &c, "本校班").await;
    let other = app
        .create_institution(&c.admin, "别的学院", "technician_college")
        .await;
    let other_staff = app
        .account(
            &c.admin,
            "other@college.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    let enterprise = app
        .create_institution(&c.admin, "某企业", "enterprise")
        .await;
    let hr = app
        .account(
            &c.admin,
            "hr@e.cn",
            "employer_hr",
            json!({"institution_id": enterprise}),
        )
        .await;
    assert_problem(
        import(&app, &other_staff, id, SAMPLE.as_bytes().to_vec(), "").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        import(&app, &hr, id, SAMPLE.as_bytes().to_vec(), "").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/cohorts/{id}"), Some(&other_staff))
            .await,
        404,
        "not_found",
    )
    .await;
    let listed: Value = app.get_json("/api/v1/cohorts", &other_staff).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
    let resp = app
        .post(
            "/api/v1/cohorts",
            &json!({"program_id": c.program, "name": "偷建", "intake_year": 2024}),
            Some(&other_staff),
        )
        .await;
    assert_problem(resp, 404, "not_found").await;
    assert_eq!(learner_count(&app, &c.admin).await, 0);
    let _ = c.institution;
}

/// Staff of college A import a file naming college B's learner (by email, by identity number):
/// the rows are refused with words that do not say the person exists, nothing of B's learner
/// reaches A, and the attempt is in the audit log.
#[tokio::test]
async fn an_import_cannot_reach_another_colleges_learner() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let staff_b = second_college_staff(&app, &c).await;
    let theirs = app
        .create_learner(
            &staff_b,
            json!({"name": "乙校学生", "kind": "student", "email": "b-student@x.cn", "id_number": nth_id_number(40)}),
        )
        .await;
    let id = cohort(&app, &c, "探测班").await;
    let file = format!(
        "name,id_number,email,start_date,end_date\n\
         随便,,b-student@x.cn,2024-09-01,2027-06-30\n\
         随便二,{},,2024-09-01,2027-06-30\n\
         新人,,new@x.cn,2024-09-01,2027-06-30\n",
        nth_id_number(40)
    );
    let report: Value = import(&app, &c.staff, id, file.into_bytes(), "?partial=true")
        .await
        .json()
        .await
        .unwrap();
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{report}");
    for r in rejected {
        assert_eq!(r["field"], "row", "which identifier matched is not said");
        let message = r["message"].as_str().unwrap();
        assert!(
            !message.contains("exist") && !message.contains("another"),
            "{message}"
        );
    }
    assert_eq!(rejected[0]["message"], rejected[1]["message"]);
    assert_eq!(report["learners_created"], 1);
    assert_eq!(report["learners_matched"], 0);
    assert_eq!(
        app.get(&format!("/api/v1/learners/{theirs}"), Some(&c.staff))
            .await
            .status(),
        404
    );
    // A single registration is refused alike, whether the email or the identity number matched.
    let by_email = app
        .post(
            "/api/v1/learners",
            &json!({"name": "x", "kind": "student", "email": "b-student@x.cn"}),
            Some(&c.staff),
        )
        .await;
    let by_email = assert_problem(by_email, 409, "not_registrable").await;
    let by_number = app
        .post(
            "/api/v1/learners",
            &json!({"name": "x", "kind": "student", "id_number": nth_id_number(40)}),
            Some(&c.staff),
        )
        .await;
    let by_number = assert_problem(by_number, 409, "not_registrable").await;
    assert_eq!(by_email["detail"], by_number["detail"]);
    // The administrator sees every refused attempt.
    let audit: Value = app
        .get_json(
            &format!("/api/v1/audit?entity_type=learner&entity_id={theirs}&limit=200"),
            &c.admin,
        )
        .await;
    let refused: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "scope_refused")
        .collect();
    // One for the import (both rows reached the same person), one for each registration.
    assert_eq!(refused.len(), 3, "{audit}");
    let expected = json!(theirs.to_string());
    assert!(refused.iter().all(|e| e["entity_id"] == expected));
}

/// A row matched to a learner of the college that differs from the stored record (another name,
/// an identity number the record lacks) is enrolled, and every difference is reported.
#[tokio::test]
async fn an_import_reports_what_it_did_not_apply_to_a_matched_learner() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let known = app
        .create_learner(
            &c.staff,
            json!({"name": "王芳", "kind": "student", "email": "wf@x.cn"}),
        )
        .await;
    let id = cohort(&app, &c, "核对班").await;
    let file = format!(
        "name,id_number,email,hukou,start_date,end_date\n李四,{},wf@x.cn,shanghai,2024-09-01,2027-06-30\n",
        nth_id_number(41)
    );
    let report: Value = import(&app, &c.staff, id, file.into_bytes(), "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["learners_matched"], 1);
    assert_eq!(report["created"], 1, "the enrollment is stored");
    let fields: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(w["line"], 2);
            w["field"].as_str().unwrap()
        })
        .collect();
    assert_eq!(fields, ["name", "id_number", "hukou"], "{report}");
    let stored: Value = app
        .get_json(&format!("/api/v1/learners/{known}"), &c.staff)
        .await;
    assert_eq!(stored["name"], "王芳", "nothing of the record was changed");
}

/// Refusals are bounded: a file made to fail looks nobody up, and an account that collects its
/// hour's refusals gets 429 before anything else is matched.
#[tokio::test]
async fn probing_who_is_on_record_is_bounded() {
    let app = spawn_app().await;
    let c = college(&app).await;
    let staff_b = second_college_staff(&app, &c).await;
    for i in 0..25 {
        app.create_learner(
            &staff_b,
            json!({"name": format!("乙{i}"), "kind": "student", "email": format!("b{i}@x.cn")}),
        )
        .await;
    }
    let id = cohort(&app, &c, "探测班").await;
    let rows = |range: std::ops::Range<usize>| -> String {
        range
            .map(|i| format!("某{i},,b{i}@x.cn,2024-09-01,2027-06-30\n"))
            .collect()
    };
    // All-or-nothing with one bad row: refused for that row alone; no one was looked up.
    let file = format!(
        "name,id_number,email,start_date,end_date\n{}坏行,,bad@x.cn,2024-09-01,2023-06-30\n",
        rows(0..20)
    );
    let problem = assert_problem(
        import(&app, &c.staff, id, file.into_bytes(), "").await,
        422,
        "import_rejected",
    )
    .await;
    let rejected = problem["report"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{problem}");
    assert_eq!(rejected[0]["field"], "end_date");
    // With ?partial=true: ten refusals, reported.
    let file = |range| format!("name,id_number,email,start_date,end_date\n{}", rows(range));
    let report: Value = import(
        &app,
        &c.staff,
        id,
        file(0..10).into_bytes(),
        "?partial=true",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(report["rejected_count"], 10);
    // Fifteen more would exceed the ten left of the hour's twenty: the import stops, telling none.
    assert_problem(
        import(
            &app,
            &c.staff,
            id,
            file(10..25).into_bytes(),
            "?partial=true",
        )
        .await,
        429,
        "too_many_requests",
    )
    .await;
    // Ten more fit, and use the allowance up.
    let report: Value = import(
        &app,
        &c.staff,
        id,
        file(10..20).into_bytes(),
        "?partial=true",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(report["rejected_count"], 10);
    // Now a registration that would be refused answers 429; one that reaches nobody is served.
    let register = |email: &str| json!({"name": "x", "kind": "student", "email": email});
    assert_problem(
        app.post("/api/v1/learners", &register("b20@x.cn"), Some(&c.staff))
            .await,
        429,
        "too_many_requests",
    )
    .await;
    assert_eq!(
        app.post("/api/v1/learners", &register("fresh@x.cn"), Some(&c.staff))
            .await
            .status(),
        201
    );
}
