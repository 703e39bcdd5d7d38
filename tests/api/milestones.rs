//! Milestones end to end: rules and parameters, a learner's milestones as of a date, stored
//! milestones and their events, progress, what-if, and a parameter change in the future.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

pub struct Learner {
    pub admin: String,
    pub staff: String,
    pub evaluator: String,
    pub me: String,
    pub id: i64,
    pub certificate: i64,
}

/// A student of a new-type technician college (designated 2021-12-13) enrolled 2022-09-01 –
/// 2025-06-30 in an electrician program, holding a verified 高级工 issued 2024-06-28.
pub async fn student(app: &TestApp) -> Learner {
    student_with(app, "2024-06-28").await
}

pub async fn student_with(app: &TestApp, issued_on: &str) -> Learner {
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let college = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let resp = app
        .post(
            &format!("/api/v1/institutions/{college}/designations"),
            &json!({"batch": "第一批", "designated_from": "2021-12-13"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
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
    let id = app
        .create_learner(
            &staff,
            json!({"name": "王芳", "kind": "student", "hukou": "other"}),
        )
        .await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{id}/enrollments"),
            &json!({"program_id": program, "start_date": "2022-09-01", "end_date": "2025-06-30"}),
            Some(&staff),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let me = app
        .account(&admin, "wang@x.cn", "learner", json!({"learner_id": id}))
        .await;
    let resp = app
        .post(
            &format!("/api/v1/learners/{id}/certificates"),
            &json!({"number": "Y310000000000024300012", "kind": "skill_level", "level": "senior_worker",
                    "occupation_code": "6-18-02-04", "issuer": "某评价机构", "issued_on": issued_on}),
            Some(&me),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let certificate = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    Learner {
        admin,
        staff,
        evaluator,
        me,
        id,
        certificate,
    }
}

pub async fn verify(app: &TestApp, l: &Learner) {
    decide(app, l, "verify", "查询一致").await;
}

/// The evaluator's decision on the learner's certificate.
pub async fn decide(app: &TestApp, l: &Learner, decision: &str, reason: &str) {
    let resp = app
        .post(
            &format!("/api/v1/certificates/{}/verification", l.certificate),
            &json!({"decision": decision, "reason": reason}),
            Some(&l.evaluator),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

async fn milestone(app: &TestApp, token: &str, learner: i64, as_of: &str, rule: &str) -> Value {
    let resp = app
        .get(
            &format!("/api/v1/learners/{learner}/milestones?as_of={as_of}"),
            Some(token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["as_of"], as_of);
    body["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["rule_id"] == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {rule} milestone in {body}"))
}

#[tokio::test]
async fn rules_and_parameters_are_listed_with_citations() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let rules: Value = app
        .get("/api/v1/rules", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9);
    assert!(
        ids.contains(&"sh489.technician_after_senior_worker")
            && ids.contains(&"sh.talent_introduction")
    );
    assert!(rules[0]["title"]["zh-CN"]
        .as_str()
        .unwrap()
        .contains("技师"));
    assert_eq!(rules[0]["citation"]["clause"], "五(七)");

    let params: Value = app
        .get("/api/v1/rules/parameters", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let in_force = params["in_force"].as_array().unwrap();
    // Every parameter is seeded; those seeded for a period (the 十四五 targets) are in force in it.
    let today = skillpath::domain::today_in_shanghai().to_string();
    let ended = skillpath::rules::params::SEED_PERIODS
        .iter()
        .filter(|(_, _, until)| until.is_some_and(|u| u < today.as_str()))
        .count();
    assert_eq!(
        in_force.len(),
        skillpath::rules::params::DEFINITIONS.len() - ended,
        "the migrations seed every parameter"
    );
    let holding = in_force
        .iter()
        .find(|p| p["name"] == "sh489.technician_after_senior_worker.holding_years")
        .unwrap();
    assert_eq!(holding["value"], 2);
    assert_eq!(holding["clause"], "五(七)");
    let points = in_force
        .iter()
        .find(|p| p["name"] == "sh.residence_points.points_by_level")
        .unwrap();
    assert_eq!(points["note"], "Unconfirmed");
    assert!(params["scheduled"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn two_years_after_senior_worker_from_the_anniversary() {
    let app = spawn_app().await;
    let l = student(&app).await;
    let rule = "sh489.technician_after_senior_worker";
    // Pending: not counted yet, and the learner is told why.
    let m = milestone(&app, &l.staff, l.id, "2026-07-01", rule).await;
    assert_eq!(m["status"], "not_met");
    assert!(m["missing"][0]["en"]
        .as_str()
        .unwrap()
        .contains("awaiting verification"));
    verify(&app, &l).await;
    let m = milestone(&app, &l.staff, l.id, "2026-06-27", rule).await;
    assert_eq!(
        (m["status"].as_str(), m["eligible_from"].as_str()),
        (Some("upcoming"), Some("2026-06-28"))
    );
    let m = milestone(&app, &l.me, l.id, "2026-06-28", rule).await;
    assert_eq!(
        (m["status"].as_str(), m["eligible_from"].as_str()),
        (Some("met"), Some("2026-06-28"))
    );
    assert_eq!(m["target"], "technician");
    assert_eq!(m["citation"]["clause"], "五(七)");
    assert!(m["parameters_version"].as_str().unwrap().starts_with("p-"));
    assert!(m["trace"].as_array().unwrap().len() >= 3);
    // Revoked: no longer counted.
    let resp = app
        .post(
            &format!("/api/v1/certificates/{}/verification", l.certificate),
            &json!({"decision": "revoke", "reason": "注销"}),
            Some(&l.evaluator),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        milestone(&app, &l.staff, l.id, "2026-07-01", rule).await["status"],
        "not_met"
    );
}

#[tokio::test]
async fn stored_milestones_record_their_changes_as_events() {
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let events: Value = app
        .get(
            &format!("/api/v1/learners/{}/milestone-events", l.id),
            Some(&l.staff),
        )
        .await
        .json()
        .await
        .unwrap();
    let technician = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["rule_id"] == "sh489.technician_after_senior_worker" && e["event"] == "newly_met"
        })
        .unwrap_or_else(|| panic!("no newly_met event in {events}"));
    assert_eq!(technician["before"]["status"], "not_met");
    assert_eq!(technician["after"]["eligible_from"], "2026-06-28");

    let revoke = app
        .post(
            &format!("/api/v1/certificates/{}/verification", l.certificate),
            &json!({"decision": "revoke", "reason": "注销"}),
            Some(&l.evaluator),
        )
        .await;
    assert_eq!(revoke.status(), 200);
    let events: Value = app
        .get(
            &format!("/api/v1/learners/{}/milestone-events", l.id),
            Some(&l.me),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(events["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"] == "lost" && e["rule_id"] == "sh489.technician_after_senior_worker"));
    // Whatever rule it belongs to: the training goal achieved with the certificate is lost too,
    // and the learner is told.
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "lost"
                && e["rule_id"] == "sh489.training_target"
                && e["before"]["status"] == "achieved"),
        "{events}"
    );
    let inbox = app.inbox(&l.me).await;
    assert!(
        inbox.iter().any(|n| n["title"]["en"]
            .as_str()
            .is_some_and(|t| t.starts_with("No longer met: Training goal"))),
        "{inbox:?}"
    );

    // Recomputing everyone with nothing changed records nothing new.
    let before = events["items"].as_array().unwrap().len();
    let db = app.state.db.clone();
    let today = skillpath::domain::today_in_shanghai();
    let summary = tokio::task::spawn_blocking(move || {
        skillpath::services::eligibility::recompute_all(&db, today)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(summary.learners, 1);
    assert_eq!(summary.events, 0);
    let events: Value = app
        .get(
            &format!("/api/v1/learners/{}/milestone-events", l.id),
            Some(&l.me),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["items"].as_array().unwrap().len(), before);
    // Another tenant sees nothing.
    let other = app
        .create_institution(&l.admin, "别校", "technician_college")
        .await;
    let outsider = app
        .account(
            &l.admin,
            "o@o.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    assert_problem(
        app.get(
            &format!("/api/v1/learners/{}/milestone-events", l.id),
            Some(&outsider),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(
            &format!("/api/v1/learners/{}/milestones", l.id),
            Some(&outsider),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_parameter_change_in_the_future_moves_dates_from_that_day_only() {
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let name = "sh489.technician_after_senior_worker.holding_years";
    let past = json!({"name": name, "value": 3, "effective_from": "2020-01-01", "source": "x", "clause": "y"});
    let body = assert_problem(
        app.post("/api/v1/rules/parameters", &past, Some(&l.admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "effective_from");
    for (bad, field) in [
        (
            json!({"name": "no.such.parameter", "value": 3, "effective_from": "2027-01-01", "source": "x", "clause": "y"}),
            "name",
        ),
        (
            json!({"name": name, "value": "three", "effective_from": "2027-01-01", "source": "x", "clause": "y"}),
            "value",
        ),
        (
            json!({"name": name, "value": 3, "occupation_code": "6-18-02-04", "effective_from": "2027-01-01", "source": "x", "clause": "y"}),
            "occupation_code",
        ),
    ] {
        let body = assert_problem(
            app.post("/api/v1/rules/parameters", &bad, Some(&l.admin))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{bad}");
    }
    assert_problem(
        app.post("/api/v1/rules/parameters", &past, Some(&l.staff))
            .await,
        403,
        "forbidden",
    )
    .await;

    // Read once under the old values, so that a cache of the parameters would hold them.
    let rule = "sh489.technician_after_senior_worker";
    let earlier = milestone(&app, &l.staff, l.id, "2027-01-01", rule).await;
    assert_eq!(earlier["status"], "met");

    let change = json!({"name": name, "value": 3, "effective_from": "2027-01-01", "source": "沪人社职〔2026〕1号", "clause": "三", "note": "test"});
    let resp = app
        .post("/api/v1/rules/parameters", &change, Some(&l.admin))
        .await;
    assert_eq!(resp.status(), 201);
    let listed: Value = resp.json().await.unwrap();
    assert_eq!(listed["scheduled"][0]["value"], 3);

    let before = milestone(&app, &l.staff, l.id, "2026-12-31", rule).await;
    assert_eq!(
        (before["status"].as_str(), before["eligible_from"].as_str()),
        (Some("met"), Some("2026-06-28"))
    );
    let after = milestone(&app, &l.staff, l.id, "2027-01-01", rule).await;
    assert_eq!(
        (after["status"].as_str(), after["eligible_from"].as_str()),
        (Some("upcoming"), Some("2027-06-28"))
    );
    assert_ne!(before["parameters_version"], after["parameters_version"]);
    // The history of values is kept: the seed is still in force before the change.
    let params: Value = app
        .get("/api/v1/rules/parameters?as_of=2026-12-31", Some(&l.me))
        .await
        .json()
        .await
        .unwrap();
    let holding = params["in_force"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
        .clone();
    assert_eq!(holding["value"], 2);
}

#[tokio::test]
async fn progress_and_what_if_for_the_learner() {
    let app = spawn_app().await;
    let l = student(&app).await;
    verify(&app, &l).await;
    let resp = app
        .get("/api/v1/me/progress?as_of=2026-07-01", Some(&l.me))
        .await;
    assert_eq!(resp.status(), 200);
    let progress: Value = resp.json().await.unwrap();
    assert_eq!(progress["certificates"][0]["status"], "verified");
    assert_eq!(progress["next_steps"][0]["kind"], "apply_now");
    assert!(progress["next_steps"][0]["text"]["zh-CN"]
        .as_str()
        .unwrap()
        .contains("技师"));
    assert_problem(
        app.get("/api/v1/me/progress", Some(&l.staff)).await,
        403,
        "forbidden",
    )
    .await;

    // "If I pass 技师 in June 2027, what opens?"
    let resp = app
        .post("/api/v1/me/what-if", &json!({"certificates": [{"level": "technician", "occupation_code": "6-18-02-04", "issued_on": "2027-06-30"}]}), Some(&l.me))
        .await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["as_of"], "2027-06-30");
    let changed: Vec<&str> = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["milestone_key"].as_str().unwrap())
        .collect();
    assert!(
        changed
            .iter()
            .any(|k| k.starts_with("sh489.technician_after_senior_worker")),
        "{changed:?}"
    );
    let achieved = answer["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["rule_id"] == "sh489.technician_after_senior_worker")
        .unwrap();
    assert_eq!(achieved["status"], "achieved");
    // Nothing was stored.
    let certificates: Value = app
        .get(
            &format!("/api/v1/learners/{}/certificates", l.id),
            Some(&l.me),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(certificates.as_array().unwrap().len(), 1);
    let bad = json!({"certificates": [{"level": "wizard", "occupation_code": "x", "issued_on": "2027-06-30"}]});
    let body = assert_problem(
        app.post("/api/v1/me/what-if", &bad, Some(&l.me)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn senior_worker_on_the_29th_of_february_opens_on_the_28th_two_years_later() {
    let app = spawn_app().await;
    let l = student_with(&app, "2024-02-29").await;
    verify(&app, &l).await;
    let rule = "sh489.technician_after_senior_worker";
    let m = milestone(&app, &l.me, l.id, "2026-02-27", rule).await;
    assert_eq!(
        (m["status"].as_str(), m["eligible_from"].as_str()),
        (Some("upcoming"), Some("2026-02-28"))
    );
    let m = milestone(&app, &l.me, l.id, "2026-02-28", rule).await;
    assert_eq!(
        (m["status"].as_str(), m["eligible_from"].as_str()),
        (Some("met"), Some("2026-02-28"))
    );
}
