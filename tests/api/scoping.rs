//! Who sees what: every record endpoint, called by an actor of another institution and by a
//! learner reaching for another learner, answers 404 — exactly as for a record that does not
//! exist — while the record's own institution, employer and learner get through.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

struct World {
    admin: String,
    staff_a: String,
    staff_b: String,
    hr_e: String,
    hr_f: String,
    evaluator: String,
    learner_a: String,
    learner_b: String,
    college_a: i64,
    program_a: i64,
    cohort_a: i64,
    la: i64,
    lb: i64,
    enrollment: i64,
    employment: i64,
    certificate: i64,
}

async fn id_of(resp: reqwest::Response) -> i64 {
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let college_a = app
        .create_institution(&admin, "A 学院", "technician_college")
        .await;
    let college_b = app
        .create_institution(&admin, "B 学院", "technician_college")
        .await;
    let enterprise_e = app.create_institution(&admin, "E 企业", "enterprise").await;
    let enterprise_f = app.create_institution(&admin, "F 企业", "enterprise").await;
    let staff_a = app
        .account(
            &admin,
            "a@a.cn",
            "college_staff",
            json!({"institution_id": college_a}),
        )
        .await;
    let staff_b = app
        .account(
            &admin,
            "b@b.cn",
            "college_staff",
            json!({"institution_id": college_b}),
        )
        .await;
    let hr_e = app
        .account(
            &admin,
            "hr@e.cn",
            "employer_hr",
            json!({"institution_id": enterprise_e}),
        )
        .await;
    let hr_f = app
        .account(
            &admin,
            "hr@f.cn",
            "employer_hr",
            json!({"institution_id": enterprise_f}),
        )
        .await;
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    let program_a = app
        .create_program(&staff_a, college_a, "电气", "6-18-02-04")
        .await;
    app.create_program(&staff_b, college_b, "电气", "6-18-02-04")
        .await;
    let cohort_a = id_of(
        app.post(
            "/api/v1/cohorts",
            &json!({"program_id": program_a, "name": "A1", "intake_year": 2024}),
            Some(&staff_a),
        )
        .await,
    )
    .await;
    let la = app
        .create_learner(&staff_a, json!({"name": "甲", "kind": "student"}))
        .await;
    let lb = app
        .create_learner(&staff_b, json!({"name": "乙", "kind": "student"}))
        .await;
    let enrollment = id_of(
        app.post(
            &format!("/api/v1/learners/{la}/enrollments"),
            &json!({"program_id": program_a, "start_date": "2024-09-01", "end_date": "2027-06-30"}),
            Some(&staff_a),
        )
        .await,
    )
    .await;
    let employment = id_of(
        app.post(
            &format!("/api/v1/learners/{la}/employments"),
            &json!({"employer_name": "E 企业", "employer_institution_id": enterprise_e, "occupation_code": "6-18-02-04", "post_title": "电工", "start_date": "2025-07-01"}),
            Some(&admin),
        )
        .await,
    )
    .await;
    let certificate = id_of(
        app.post(
            &format!("/api/v1/learners/{la}/certificates"),
            &json!({"number": "CERT-A", "kind": "skill_level", "level": "senior_worker", "occupation_code": "6-18-02-04", "issuer": "x", "issued_on": "2025-06-30"}),
            Some(&staff_a),
        )
        .await,
    )
    .await;
    let learner_a = app
        .account(&admin, "la@x.cn", "learner", json!({"learner_id": la}))
        .await;
    let learner_b = app
        .account(&admin, "lb@x.cn", "learner", json!({"learner_id": lb}))
        .await;
    World {
        admin,
        staff_a,
        staff_b,
        hr_e,
        hr_f,
        evaluator,
        learner_a,
        learner_b,
        college_a,
        program_a,
        cohort_a,
        la,
        lb,
        enrollment,
        employment,
        certificate,
    }
}

enum Call {
    Get(String),
    Post(String, Value),
    Patch(String, Value),
    Csv(String),
}

async fn status(app: &TestApp, token: &str, call: &Call) -> u16 {
    let resp = match call {
        Call::Get(path) => app.get(path, Some(token)).await,
        Call::Post(path, body) => app.post(path, body, Some(token)).await,
        Call::Patch(path, body) => app.patch(path, body, Some(token)).await,
        Call::Csv(path) => {
            app.put_csv(
                path,
                "姓名,邮箱,入学日期,毕业日期\n丙,c@x.cn,2024-09-01,2027-06-30\n"
                    .as_bytes()
                    .to_vec(),
                "text/csv",
                token,
            )
            .await
        }
    };
    resp.status().as_u16()
}

fn describe(call: &Call) -> String {
    match call {
        Call::Get(p) => format!("GET {p}"),
        Call::Post(p, _) => format!("POST {p}"),
        Call::Patch(p, _) => format!("PATCH {p}"),
        Call::Csv(p) => format!("POST (csv) {p}"),
    }
}

/// Every call on a learner's record, for the learner and sub-record ids given.
fn record_calls(
    la: i64,
    enrollment: i64,
    employment: i64,
    certificate: i64,
    program: i64,
) -> Vec<Call> {
    let cert = json!({"number": "CERT-X", "kind": "skill_level", "level": "technician", "occupation_code": "6-18-02-04", "issuer": "x", "issued_on": "2025-06-30"});
    let job = json!({"employer_name": "x", "occupation_code": "6-18-02-04", "post_title": "x", "start_date": "2025-01-01"});
    vec![
        Call::Get(format!("/api/v1/learners/{la}")),
        Call::Patch(
            format!("/api/v1/learners/{la}"),
            json!({"preferred_language": "en"}),
        ),
        Call::Get(format!("/api/v1/learners/{la}/enrollments")),
        Call::Post(
            format!("/api/v1/learners/{la}/enrollments"),
            json!({"program_id": program, "start_date": "2025-09-01", "end_date": "2028-06-30"}),
        ),
        Call::Patch(
            format!("/api/v1/learners/{la}/enrollments/{enrollment}"),
            json!({"status": "withdrawn"}),
        ),
        Call::Get(format!("/api/v1/learners/{la}/employments")),
        Call::Post(format!("/api/v1/learners/{la}/employments"), job),
        Call::Patch(
            format!("/api/v1/learners/{la}/employments/{employment}"),
            json!({"end_date": "2025-12-31"}),
        ),
        Call::Get(format!("/api/v1/learners/{la}/awards")),
        Call::Post(
            format!("/api/v1/learners/{la}/awards"),
            json!({"kind": "other", "title": "x", "awarded_on": "2025-01-01"}),
        ),
        Call::Get(format!("/api/v1/learners/{la}/certificates")),
        Call::Post(format!("/api/v1/learners/{la}/certificates"), cert),
        Call::Get(format!("/api/v1/certificates/{certificate}")),
    ]
}

fn institution_calls(college: i64, program: i64, cohort: i64) -> Vec<Call> {
    vec![
        Call::Get(format!("/api/v1/institutions/{college}")),
        Call::Get(format!("/api/v1/institutions/{college}/programs")),
        Call::Post(
            format!("/api/v1/institutions/{college}/programs"),
            json!({"name": "偷", "occupation_code": "6-18-02-04"}),
        ),
        Call::Get(format!("/api/v1/programs/{program}")),
        Call::Get(format!("/api/v1/cohorts/{cohort}")),
        Call::Post(
            "/api/v1/cohorts".into(),
            json!({"program_id": program, "name": "偷", "intake_year": 2024}),
        ),
        Call::Csv(format!("/api/v1/cohorts/{cohort}/enrollments/import")),
    ]
}

/// An outsider's answer must not depend on whether the record exists: the same as for an id
/// that names nothing, and never a success. Reads are always 404; a write the role may never
/// make anywhere may be 403.
async fn assert_outsider(app: &TestApp, who: &str, token: &str, real: &[Call], ghost: &[Call]) {
    for (call, ghost_call) in real.iter().zip(ghost) {
        let got = status(app, token, call).await;
        let for_nothing = status(app, token, ghost_call).await;
        assert_eq!(
            got,
            for_nothing,
            "{who}: {} answered {got}, but {for_nothing} for a record that does not exist",
            describe(call)
        );
        match call {
            Call::Get(_) => assert_eq!(got, 404, "{who}: {}", describe(call)),
            _ => assert!(
                got == 404 || got == 403,
                "{who}: {} answered {got}",
                describe(call)
            ),
        }
    }
}

#[tokio::test]
async fn outsiders_get_404_for_every_record_of_another_tenant() {
    let app = spawn_app().await;
    let w = world(&app).await;
    const NONE: i64 = 999_999;
    let real = record_calls(w.la, w.enrollment, w.employment, w.certificate, w.program_a);
    let ghost = record_calls(NONE, NONE, NONE, NONE, w.program_a);
    // Learner records: another college, another enterprise, another learner, an evaluator.
    for (who, token) in [
        ("staff of B", &w.staff_b),
        ("HR of F", &w.hr_f),
        ("learner B", &w.learner_b),
    ] {
        assert_outsider(&app, who, token, &real, &ghost).await;
    }
    // Evaluators read certificates (to decide them), nothing else of the record.
    assert_outsider(&app, "evaluator", &w.evaluator, &real[..10], &ghost[..10]).await;

    // Institution data: another college, an enterprise, a learner.
    let real = institution_calls(w.college_a, w.program_a, w.cohort_a);
    let ghost = institution_calls(NONE, NONE, NONE);
    for (who, token) in [
        ("staff of B", &w.staff_b),
        ("HR of E", &w.hr_e),
        ("learner A", &w.learner_a),
    ] {
        assert_outsider(&app, who, token, &real, &ghost).await;
    }

    // Nothing above changed anything.
    let la = w.la;
    let learner: Value = app
        .get_json(&format!("/api/v1/learners/{la}"), &w.admin)
        .await;
    assert_eq!(learner["preferred_language"], "zh-CN");
    let employments: Value = app
        .get_json(&format!("/api/v1/learners/{la}/employments"), &w.admin)
        .await;
    assert_eq!(employments.as_array().unwrap().len(), 1);
    assert_eq!(employments[0]["end_date"], Value::Null);
    let enrollments: Value = app
        .get_json(&format!("/api/v1/learners/{la}/enrollments"), &w.admin)
        .await;
    assert_eq!(enrollments.as_array().unwrap().len(), 1);
    assert_eq!(enrollments[0]["status"], "enrolled");
    let certificates: Value = app
        .get_json(&format!("/api/v1/learners/{la}/certificates"), &w.admin)
        .await;
    assert_eq!(certificates.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn insiders_get_through() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let la = w.la;
    for (who, token) in [
        ("staff of A", &w.staff_a),
        ("HR of E (employer)", &w.hr_e),
        ("learner A", &w.learner_a),
        ("admin", &w.admin),
    ] {
        for path in [
            format!("/api/v1/learners/{la}"),
            format!("/api/v1/learners/{la}/enrollments"),
            format!("/api/v1/learners/{la}/employments"),
            format!("/api/v1/learners/{la}/certificates"),
            format!("/api/v1/certificates/{}", w.certificate),
        ] {
            assert_eq!(
                app.get(&path, Some(token)).await.status(),
                200,
                "{who}: GET {path}"
            );
        }
    }
    assert_eq!(
        app.get(
            &format!("/api/v1/certificates/{}", w.certificate),
            Some(&w.evaluator)
        )
        .await
        .status(),
        200
    );
    // HR records employment at their own enterprise only.
    let body = json!({"employer_name": "E", "occupation_code": "6-18-02-04", "post_title": "x", "start_date": "2025-01-01"});
    assert_eq!(
        app.post(
            &format!("/api/v1/learners/{la}/employments"),
            &body,
            Some(&w.hr_e)
        )
        .await
        .status(),
        201
    );
    let mut elsewhere = body.clone();
    elsewhere["employer_institution_id"] = json!(w.college_a);
    assert_eq!(
        app.post(
            &format!("/api/v1/learners/{la}/employments"),
            &elsewhere,
            Some(&w.hr_e)
        )
        .await
        .status(),
        422
    );
}

/// Tying employment to an institution opens the learner to its staff: a college cannot open
/// its learner to an enterprise, nor a learner themself to a college; the enterprise's HR can.
#[tokio::test]
async fn employment_opens_a_learner_only_to_the_binders_own_institution() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let job = |institution: i64| {
        json!({"employer_name": "某单位", "employer_institution_id": institution,
            "occupation_code": "6-18-02-04", "post_title": "电工", "start_date": "2025-07-01"})
    };
    let enterprise_f: i64 = app.get_json("/api/v1/me", &w.hr_f).await["institution_id"]
        .as_i64()
        .unwrap();
    let college_b: i64 = app.get_json("/api/v1/me", &w.staff_b).await["institution_id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/learners/{}/employments", w.la);
    for (token, institution) in [(&w.staff_a, enterprise_f), (&w.learner_a, college_b)] {
        let resp = app.post(&path, &job(institution), Some(token)).await;
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "employer_institution_id");
    }
    // Neither institution reaches the learner.
    for token in [&w.hr_f, &w.staff_b] {
        assert_eq!(
            app.get(&format!("/api/v1/learners/{}", w.la), Some(token))
                .await
                .status(),
            404
        );
    }
}

#[tokio::test]
async fn lists_show_only_what_is_in_scope() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let names = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        (&w.admin, vec!["甲", "乙"]),
        (&w.staff_a, vec!["甲"]),
        (&w.staff_b, vec!["乙"]),
        (&w.hr_e, vec!["甲"]),
        (&w.hr_f, vec![]),
        (&w.learner_b, vec!["乙"]),
        (&w.evaluator, vec![]),
    ];
    for (token, expected) in cases {
        let page: Value = app.get_json("/api/v1/learners", token).await;
        assert_eq!(names(page), expected);
    }
    let institutions: Value = app.get_json("/api/v1/institutions", &w.staff_b).await;
    assert_eq!(names(institutions), ["B 学院"]);
    let institutions: Value = app.get_json("/api/v1/institutions", &w.learner_a).await;
    assert!(institutions["items"].as_array().unwrap().is_empty());
    // A staff filter naming another institution still shows only their own learners.
    let page: Value = app
        .get_json(
            &format!("/api/v1/learners?institution_id={}", w.college_a),
            &w.staff_b,
        )
        .await;
    assert!(names(page).is_empty());
    for token in [&w.staff_a, &w.hr_e, &w.learner_a, &w.evaluator] {
        assert_eq!(app.get("/api/v1/audit", Some(token)).await.status(), 403);
    }
    let _ = w.lb;
}
