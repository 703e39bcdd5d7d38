//! An institution's yearly targets (policy 四, annex) counted from the records it enters, against
//! a count by hand; the year in progress with its pace; thresholds as parameters with a period.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let resp = app.post(path, &body, Some(token)).await;
    assert_eq!(resp.status(), 201, "{path} {body}");
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn figure<'a>(kpis: &'a Value, target: &str) -> &'a Value {
    kpis["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == target)
        .unwrap_or_else(|| panic!("no {target} in {kpis}"))
}

#[tokio::test]
async fn the_four_targets_of_a_year_match_a_count_by_hand() {
    let app = spawn_app().await;
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
    let base = format!("/api/v1/institutions/{college}");
    let delivery = |on: &str, kind: &str, level: &str, n: i32| json!({"delivered_on": on, "kind": kind, "occupation_code": "6-18-02-04", "level": level, "person_times": n});
    let deliveries = format!("{base}/training-deliveries");
    // Counted: training at 高级工 or above within 2025.
    let d1 = created(
        &app,
        &staff,
        &deliveries,
        delivery("2025-03-01", "training", "senior_worker", 120),
    )
    .await;
    let d2 = created(
        &app,
        &staff,
        &deliveries,
        delivery("2025-06-30", "training", "technician", 90),
    )
    .await;
    // Not counted: below 高级工, an assessment, another year.
    created(
        &app,
        &staff,
        &deliveries,
        delivery("2025-07-01", "training", "intermediate_worker", 50),
    )
    .await;
    created(
        &app,
        &staff,
        &deliveries,
        delivery("2025-08-01", "assessment", "senior_worker", 70),
    )
    .await;
    created(
        &app,
        &staff,
        &deliveries,
        delivery("2024-12-31", "training", "senior_worker", 30),
    )
    .await;

    let development = format!("{base}/teacher-development");
    let activity = |on: &str, kind: &str, n: i32| json!({"held_on": on, "kind": kind, "person_times": n, "description": "师资研修"});
    let a1 = created(
        &app,
        &staff,
        &development,
        activity("2025-04-01", "teacher_training", 60),
    )
    .await;
    let a2 = created(
        &app,
        &staff,
        &development,
        activity("2025-09-01", "enterprise_practice", 30),
    )
    .await;
    created(
        &app,
        &staff,
        &development,
        activity("2026-01-05", "teacher_training", 40),
    )
    .await;

    let teachers = format!("{base}/teachers");
    let teacher = |year: i32, number: &str, dual: bool, integrated: bool| json!({"year": year, "staff_number": number, "name": format!("教师{number}"), "dual_qualified": dual, "integrated": integrated});
    // 2024: 2 of 4 qualified; 2025: 3 of 5.
    for (number, dual, integrated) in [
        ("T1", true, false),
        ("T2", false, false),
        ("T3", false, true),
        ("T4", false, false),
    ] {
        created(
            &app,
            &staff,
            &teachers,
            teacher(2024, number, dual, integrated),
        )
        .await;
    }
    let mut counted = Vec::new();
    for (number, dual, integrated) in [
        ("T1", true, false),
        ("T2", true, true),
        ("T3", false, true),
        ("T4", false, false),
        ("T5", false, false),
    ] {
        counted.push(
            created(
                &app,
                &staff,
                &teachers,
                teacher(2025, number, dual, integrated),
            )
            .await,
        );
    }
    let resp = app
        .post(&teachers, &teacher(2025, "T1", false, false), Some(&staff))
        .await;
    assert_problem(resp, 409, "teacher_year_exists").await;

    let partnerships = format!("{base}/partnerships");
    let partner = |name: &str, kind: &str, from: &str| json!({"partner_name": name, "partner_kind": kind, "started_on": from});
    let p1 = created(
        &app,
        &staff,
        &partnerships,
        partner("甲公司", "enterprise", "2023-01-01"),
    )
    .await;
    let p2 = created(
        &app,
        &staff,
        &partnerships,
        partner("乙公司", "enterprise", "2024-06-01"),
    )
    .await;
    // Ten months by the year's end: not yet stable; a college is not an enterprise partner.
    created(
        &app,
        &staff,
        &partnerships,
        partner("丙公司", "enterprise", "2025-03-01"),
    )
    .await;
    created(
        &app,
        &staff,
        &partnerships,
        partner("某职业学院", "college", "2020-01-01"),
    )
    .await;
    // Ended before the year's end.
    let ended = created(
        &app,
        &staff,
        &partnerships,
        partner("丁公司", "enterprise", "2022-01-01"),
    )
    .await;
    let resp = app
        .post(
            &format!("{partnerships}/{ended}/end"),
            &json!({"ended_on": "2025-06-30"}),
            Some(&staff),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let kpis = app
        .get_json(&format!("{base}/kpis?year=2025"), &staff)
        .await;
    assert_eq!(
        (
            kpis["year"].clone(),
            kpis["as_of"].clone(),
            kpis["designated"].clone()
        ),
        (json!(2025), json!("2025-12-31"), json!(true))
    );
    let training = figure(&kpis, "senior_training");
    assert_eq!(training["clause"], "四(一)");
    assert_eq!(
        (
            training["value"].as_f64(),
            training["threshold"].as_f64(),
            training["met"].clone()
        ),
        (Some(210.0), Some(200.0), json!(true))
    );
    assert_eq!(training["records"], json!([d1, d2]));
    assert_eq!(training["projection"], Value::Null);
    let developed = figure(&kpis, "teacher_development");
    assert_eq!(
        (
            developed["value"].as_f64(),
            developed["threshold"].as_f64(),
            developed["met"].clone()
        ),
        (Some(90.0), Some(100.0), json!(false))
    );
    assert_eq!(developed["records"], json!([a1, a2]));
    let share = figure(&kpis, "dual_qualified_share");
    assert_eq!(
        (
            share["value"].as_f64(),
            share["threshold"].as_f64(),
            share["met"].clone()
        ),
        (Some(0.6), Some(0.5), json!(true))
    );
    assert_eq!(share["records"], json!(counted));
    let partners = figure(&kpis, "stable_partners");
    assert_eq!(
        (
            partners["value"].as_f64(),
            partners["threshold"].as_f64(),
            partners["met"].clone()
        ),
        (Some(2.0), Some(3.0), json!(false))
    );
    assert_eq!(partners["records"], json!([p1, p2]));
    // The year before has no year before it: the share has no verdict.
    let before = app
        .get_json(&format!("{base}/kpis?year=2024"), &admin)
        .await;
    assert_eq!(figure(&before, "dual_qualified_share")["met"], Value::Null);

    // The year in progress: counted to today, with its pace; the 十四五 thresholds ended in
    // 2025, so none holds until an administrator sets one (which recomputes no learner).
    let today = skillpath::domain::today_in_shanghai();
    let year = today.year();
    let recent = created(
        &app,
        &staff,
        &deliveries,
        delivery(&today.to_string(), "training", "senior_worker", 100),
    )
    .await;
    let now = app.get_json(&format!("{base}/kpis"), &staff).await;
    assert_eq!(
        (now["year"].as_i64(), now["as_of"].as_str()),
        (Some(i64::from(year)), Some(today.to_string().as_str()))
    );
    let training = figure(&now, "senior_training");
    assert_eq!(training["records"], json!([recent]));
    assert_eq!(
        (training["threshold"].clone(), training["met"].clone()),
        (Value::Null, Value::Null)
    );
    let pace = skillpath::services::targets::projected(100.0, today);
    assert_eq!(training["projection"].as_f64(), Some(pace));
    let recomputations = || {
        let db = app.state.db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                skillpath::db::jobs::recent(&mut db.get().unwrap(), 1000)
                    .unwrap()
                    .iter()
                    .filter(|j| j.kind.as_str() == "recompute_all")
                    .count()
            })
            .await
            .unwrap()
        }
    };
    // Nothing waits (a waiting recomputation would absorb a new one).
    app.jobs_settled().await;
    let before = recomputations().await;
    let resp = app
        .post(
            "/api/v1/rules/parameters",
            &json!({"name": "sh489.kpi.senior_training_person_times", "value": 80,
                    "effective_from": today.to_string(), "source": "沪人社职〔2026〕1号", "clause": "四(一)"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        recomputations().await,
        before,
        "no learner reads it: nothing recomputed"
    );
    let now = app.get_json(&format!("{base}/kpis"), &staff).await;
    let training = figure(&now, "senior_training");
    assert_eq!(
        (training["threshold"].as_f64(), training["met"].clone()),
        (Some(80.0), json!(true))
    );

    // Refused: a year not begun, records dated ahead, another institution's staff, learners' roles.
    let resp = app
        .get(&format!("{base}/kpis?year={}", year + 1), Some(&staff))
        .await;
    assert_problem(resp, 422, "validation_failed").await;
    let tomorrow = today.succ_opt().unwrap().to_string();
    let resp = app
        .post(
            &deliveries,
            &delivery(&tomorrow, "training", "senior_worker", 1),
            Some(&staff),
        )
        .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "delivered_on");
    let other = app
        .create_institution(&admin, "另一所学校", "secondary_vocational")
        .await;
    let stranger = app
        .account(
            &admin,
            "other@c.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    for (token, status) in [(&stranger, 404), (&evaluator, 403)] {
        for path in [
            format!("{base}/kpis?year=2025"),
            deliveries.clone(),
            teachers.clone(),
            development.clone(),
        ] {
            assert_eq!(app.get(&path, Some(token)).await.status(), status, "{path}");
        }
        let resp = app
            .post(
                &deliveries,
                &delivery("2025-03-01", "training", "senior_worker", 5),
                Some(token),
            )
            .await;
        assert_eq!(resp.status(), status);
    }
    // Dates a record cannot hold, and links to known institutions, which are administrators'.
    let resp = app
        .post(&partnerships, &json!({"partner_name": "远古", "partner_kind": "enterprise", "started_on": "-5000-01-01"}), Some(&staff))
        .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "started_on");
    let resp = app
        .post(&partnerships, &json!({"partner_name": "某校", "partner_kind": "college", "partner_institution_id": other, "started_on": "2024-01-01"}), Some(&staff))
        .await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app
        .post(&partnerships, &json!({"partner_name": "某校", "partner_kind": "enterprise", "partner_institution_id": other, "started_on": "2024-01-01"}), Some(&admin))
        .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(
        problem["errors"][0]["field"], "partner_institution_id",
        "a school is not an enterprise"
    );
    let listed = app
        .get_json(&format!("{deliveries}?year=2025"), &admin)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 4);
}

/// A designated college whose 2025 records leave training short by its pace on 1 October
/// (150 person-times by day 274 → 199), teacher development on its way (80 → 106), three stable
/// partners.
async fn college_of_2025(app: &TestApp, admin: &str, name: &str) -> (i64, String) {
    let college = app
        .create_institution(admin, name, "technician_college")
        .await;
    let resp = app
        .post(
            &format!("/api/v1/institutions/{college}/designations"),
            &json!({"batch": "第一批", "designated_from": "2021-12-13"}),
            Some(admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let staff = app
        .account(
            admin,
            &format!("staff{college}@c.cn"),
            "college_staff",
            json!({"institution_id": college}),
        )
        .await;
    let base = format!("/api/v1/institutions/{college}");
    created(app, &staff, &format!("{base}/training-deliveries"),
        json!({"delivered_on": "2025-03-01", "kind": "training", "occupation_code": "6-18-02-04", "level": "senior_worker", "person_times": 150})).await;
    created(app, &staff, &format!("{base}/teacher-development"),
        json!({"held_on": "2025-04-01", "kind": "teacher_training", "person_times": 80, "description": "师资研修"})).await;
    for partner in ["甲公司", "乙公司", "丙公司"] {
        created(app, &staff, &format!("{base}/partnerships"),
            json!({"partner_name": partner, "partner_kind": "enterprise", "started_on": "2023-01-01"})).await;
    }
    (college, staff)
}

#[tokio::test]
async fn after_the_third_quarter_the_staff_hear_once_of_a_target_at_risk() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let (_, staff) = college_of_2025(&app, &admin, "上海某技师学院").await;
    let warn = |day: &'static str| {
        let db = app.state.db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = db.get().unwrap();
                skillpath::services::targets::warn_at_risk(&mut conn, day.parse().unwrap()).unwrap()
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(
        warn("2025-09-30").await,
        0,
        "not before the third quarter ends"
    );
    assert!(app.inbox(&staff).await.is_empty());
    assert_eq!(warn("2025-10-01").await, 1);
    warn("2025-10-02").await;
    let inbox = app.inbox(&staff).await;
    assert_eq!(inbox.len(), 1, "once per target and year: {inbox:?}");
    assert_eq!(inbox[0]["category"], "institution");
    assert!(
        inbox[0]["title"]["zh-CN"]
            .as_str()
            .unwrap()
            .contains("高级工以上培训量"),
        "{inbox:?}"
    );
    assert_eq!(
        app.outbox_count(&admin, "target_at_risk").await,
        2,
        "an inbox and an email row"
    );

    // An institution designated earlier in the year but no longer hears nothing.
    let (ended, ended_staff) = college_of_2025(&app, &admin, "已摘牌学院").await;
    let institution = app
        .get_json(&format!("/api/v1/institutions/{ended}"), &admin)
        .await;
    let designation = institution["designations"][0]["id"].as_i64().unwrap();
    let resp = app
        .post(
            &format!("/api/v1/institutions/{ended}/designations/{designation}/end"),
            &json!({"designated_until": "2025-03-31", "reason": "摘牌"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    warn("2025-10-03").await;
    assert!(app.inbox(&ended_staff).await.is_empty());
}

#[tokio::test]
async fn administrators_see_every_designated_institution_in_one_table_and_as_csv() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let (college, staff) = college_of_2025(&app, &admin, "上海某技师学院").await;
    app.create_institution(&admin, "未挂牌学校", "secondary_vocational")
        .await;
    let table = app.get_json("/api/v1/kpis?year=2025", &admin).await;
    let rows = table.as_array().unwrap();
    assert_eq!(rows.len(), 1, "designated institutions only: {table}");
    assert_eq!(rows[0]["institution_id"], college);
    let training = figure(&rows[0], "senior_training");
    assert_eq!(
        (training["value"].as_f64(), training["met"].clone()),
        (Some(150.0), json!(false))
    );
    assert_problem(
        app.get("/api/v1/kpis?year=2025", Some(&staff)).await,
        403,
        "forbidden",
    )
    .await;

    let resp = app.get("/api/v1/kpis/export?year=2025", Some(&admin)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let body = resp.bytes().await.unwrap();
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark for spreadsheets"
    );
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "institution_id,institution,year,as_of,target,clause,value,threshold,met,projection"
    );
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[1],
        format!("{college},上海某技师学院,2025,2025-12-31,senior_training,四(一),150,200,false,")
    );
    assert_problem(
        app.get("/api/v1/kpis/export?year=2025", Some(&staff)).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn target_records_are_imported_from_csv_all_or_nothing_in_utf8_or_gbk() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let (college, staff) = college_of_2025(&app, &admin, "上海某技师学院").await;
    let base = format!("/api/v1/institutions/{college}");
    let csv = "text/csv";

    // Chinese headers and values, GBK as Excel writes it; one bad row rejects the file.
    let deliveries = "日期,类型,职业编码,等级,人次,备注\n2025-05-01,培训,6-18-02-04,高级工,30,春季班\n2025/06/01,评价,6-18-02-04,技师,20,\n2025-07-01,培训,6-18-02-04,高级,10,\n2999-01-01,培训,9-99-99-99,technician,0,\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(deliveries);
    let resp = app
        .put_csv(
            &format!("{base}/training-deliveries/import"),
            gbk.to_vec(),
            "text/csv; charset=gbk",
            &staff,
        )
        .await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    let report = &problem["report"];
    assert_eq!(
        (
            report["rows_read"].as_u64(),
            report["rejected_count"].as_u64(),
            report["committed"].clone()
        ),
        (Some(4), Some(2), json!(false))
    );
    let fields: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            (4, "level"),
            (5, "delivered_on"),
            (5, "occupation_code"),
            (5, "person_times")
        ]
    );
    let kpis = app
        .get_json(&format!("{base}/kpis?year=2025"), &staff)
        .await;
    assert_eq!(
        figure(&kpis, "senior_training")["value"].as_f64(),
        Some(150.0),
        "nothing stored"
    );
    // The good rows alone, with ?partial=true.
    let resp = app
        .put_csv(
            &format!("{base}/training-deliveries/import?partial=true"),
            gbk.to_vec(),
            "text/csv; charset=gbk",
            &staff,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            report["created"].as_u64(),
            report["rejected_count"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let kpis = app
        .get_json(&format!("{base}/kpis?year=2025"), &staff)
        .await;
    // 150 before, 30 more at 高级工; the 技师 row is an assessment.
    assert_eq!(
        figure(&kpis, "senior_training")["value"].as_f64(),
        Some(180.0)
    );

    let teachers = "year,staff_number,name,dual_qualified,integrated\n2025,T1,张老师,是,否\n2025,T2,李老师,no,yes\n2025,T1,重复,1,1\n";
    let resp = app
        .put_csv(
            &format!("{base}/teachers/import"),
            teachers.into(),
            csv,
            &staff,
        )
        .await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    assert_eq!(problem["report"]["rejected"][0]["line"], 4);
    assert_eq!(problem["report"]["rejected"][0]["field"], "staff_number");
    let teachers = "\u{feff}年度,工号,姓名,双师型,一体化\n2025,T1,张老师,是,否\n2025,T2,李老师,否,是\n2025,T3,王老师,否,否\n";
    let resp = app
        .put_csv(
            &format!("{base}/teachers/import"),
            teachers.into(),
            csv,
            &staff,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let development = "held_on,kind,person_times,description\n2025-09-01,企业实践,30,暑期实践\n";
    let resp = app
        .put_csv(
            &format!("{base}/teacher-development/import"),
            development.into(),
            csv,
            &staff,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let partners = "合作单位,类型,开始日期,结束日期,协议编号\n丁公司,企业,2022-01-01,,XY-1\n戊学院,院校,2021-01-01,2020-01-01,\n";
    let resp = app
        .put_csv(
            &format!("{base}/partnerships/import"),
            partners.into(),
            csv,
            &staff,
        )
        .await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    assert_eq!(problem["report"]["rejected"][0]["field"], "ended_on");
    let partners = "合作单位,类型,开始日期,结束日期,协议编号\n丁公司,企业,2022-01-01,,XY-1\n";
    let resp = app
        .put_csv(
            &format!("{base}/partnerships/import"),
            partners.into(),
            csv,
            &staff,
        )
        .await;
    assert_eq!(resp.status(), 200);

    let kpis = app
        .get_json(&format!("{base}/kpis?year=2025"), &staff)
        .await;
    assert_eq!(
        figure(&kpis, "teacher_development")["value"].as_f64(),
        Some(110.0)
    );
    assert_eq!(
        figure(&kpis, "dual_qualified_share")["value"].as_f64(),
        Some(2.0 / 3.0)
    );
    assert_eq!(
        figure(&kpis, "stable_partners")["value"].as_f64(),
        Some(4.0)
    );

    // Another institution's staff cannot import here; nothing is read for them.
    let other = app
        .create_institution(&admin, "另一所学校", "secondary_vocational")
        .await;
    let stranger = app
        .account(
            &admin,
            "other@c.cn",
            "college_staff",
            json!({"institution_id": other}),
        )
        .await;
    let resp = app
        .put_csv(
            &format!("{base}/partnerships/import"),
            partners.into(),
            csv,
            &stranger,
        )
        .await;
    assert_problem(resp, 404, "not_found").await;
}
