//! Occupations, institutions, designations and programs.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

const SAMPLE: &str = include_str!("../data/occupations_sample.csv");

async fn import(
    app: &TestApp,
    admin: &str,
    body: Vec<u8>,
    content_type: &str,
    query: &str,
) -> reqwest::Response {
    app.put_csv(
        &format!("/api/v1/occupations/import{query}"),
        body,
        content_type,
        admin,
    )
    .await
}

async fn codes(app: &TestApp, admin: &str) -> Vec<String> {
    let page: Value = app
        .get("/api/v1/occupations?limit=200", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn occupations_import_is_idempotent_and_updates_in_place() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let resp = import(&app, &admin, SAMPLE.as_bytes().to_vec(), "text/csv", "").await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["rows_read"], 4);
    assert_eq!(report["created"], 4);
    assert_eq!(report["committed"], true);
    assert_eq!(report["encoding"], "UTF-8");

    let again: Value = import(&app, &admin, SAMPLE.as_bytes().to_vec(), "text/csv", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(4))
    );

    let changed = SAMPLE.replace("6-18-02-04,电工,是,是,否", "6-18-02-04,电工,是,是,是");
    let report: Value = import(&app, &admin, changed.into_bytes(), "text/csv", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (report["updated"].as_u64(), report["unchanged"].as_u64()),
        (Some(1), Some(3))
    );
    let electrician: Value = app
        .get("/api/v1/occupations/6-18-02-04", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(electrician["priority_industry"], true);
    assert_eq!(electrician["name"], "电工");
    assert_eq!(electrician["source"], "职业分类大典 2022");
    assert_eq!(codes(&app, &admin).await.len(), 4);
}

#[tokio::test]
async fn occupations_import_reads_gbk_from_excel() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (gbk, _, _) = encoding_rs::GBK.encode(SAMPLE);
    let resp = import(&app, &admin, gbk.into_owned(), "text/csv", "").await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["created"], 4);
    assert_eq!(report["encoding"], "gb18030");
    let robot: Value = app
        .get("/api/v1/occupations/6-20-03-01", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(robot["name"], "工业机器人系统操作员");
}

#[tokio::test]
async fn a_bad_occupation_file_stores_nothing_unless_partial() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let bad = "code,name,technician_catalog,source\n6-18-02-04,电工,yes,test\n6-18-0204,错码,no,test\n6-31-01-03,,maybe,test\n6-18-02-04,电工again,no,test\n";
    let resp = import(
        &app,
        &admin,
        bad.as_bytes().to_vec(),
        "text/csv; charset=utf-8",
        "",
    )
    .await;
    let problem = assert_problem(resp, 422, "import_rejected").await;
    let rejected = problem["report"]["rejected"].as_array().unwrap();
    let seen: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (3, "code"),
            (4, "name"),
            (4, "technician_catalog"),
            (5, "code")
        ]
    );
    assert_eq!(problem["report"]["committed"], false);
    // Rows, not problems, are counted; and a rejected file reports nothing as created.
    assert_eq!(problem["report"]["rejected_count"], 3);
    assert_eq!(problem["report"]["created"], 0);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("3 of 4 rows"),
        "{problem}"
    );
    assert!(
        codes(&app, &admin).await.is_empty(),
        "all-or-nothing stores nothing"
    );

    let resp = import(
        &app,
        &admin,
        bad.as_bytes().to_vec(),
        "text/csv",
        "?partial=true",
    )
    .await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["created"], 1);
    assert_eq!(report["rejected_count"], 3);
    assert_eq!(codes(&app, &admin).await, ["6-18-02-04"]);
}

#[tokio::test]
async fn occupation_import_needs_its_columns_and_csv() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = assert_problem(
        import(&app, &admin, b"name\nx\n".to_vec(), "text/csv", "").await,
        400,
        "invalid_csv",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "code");
    assert_problem(
        import(&app, &admin, b"{}".to_vec(), "application/json", "").await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        import(&app, &admin, Vec::new(), "text/csv", "").await,
        400,
        "empty_file",
    )
    .await;
    let evaluator = app.evaluator_token(&admin, "eva@x.cn").await;
    assert_problem(
        import(&app, &evaluator, SAMPLE.as_bytes().to_vec(), "text/csv", "").await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn single_occupations_are_validated() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let resp = app
        .post(
            "/api/v1/occupations",
            &json!({"code": "61-8-02-04", "name": "", "source": ""}),
            Some(&admin),
        )
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "name", "source"]);
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    let resp = app
        .post(
            "/api/v1/occupations",
            &json!({"code": "6-18-02-04", "name": "电工", "source": "x"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "occupation_exists").await;
    assert_problem(
        app.get("/api/v1/occupations/6-99-99-99", Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    let filtered: Value = app
        .get("/api/v1/occupations?code_prefix=6-18", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn designations_keep_their_history() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let college = app
        .create_institution(&admin, "上海某技师学院", "technician_college")
        .await;
    let path = format!("/api/v1/institutions/{college}/designations");
    let resp = app
        .post(
            &path,
            &json!({"batch": "第一批", "designated_from": "2022-03-01"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let institution: Value = resp.json().await.unwrap();
    let first = institution["designations"][0]["id"].as_i64().unwrap();

    // An open period blocks any overlapping one.
    let resp = app
        .post(
            &path,
            &json!({"batch": "第二批", "designated_from": "2024-01-01"}),
            Some(&admin),
        )
        .await;
    assert_problem(resp, 409, "designation_overlap").await;
    let resp = app.post(&path, &json!({"batch": "x", "designated_from": "2024-01-01", "designated_until": "2023-01-01"}), Some(&admin)).await;
    assert_eq!(
        assert_problem(resp, 422, "validation_failed").await["errors"][0]["field"],
        "designated_until"
    );

    let end = format!("{path}/{first}/end");
    let resp = app
        .post(
            &end,
            &json!({"designated_until": "2023-12-31", "reason": "评估不合格，摘牌"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_problem(
        app.post(
            &end,
            &json!({"designated_until": "2023-12-31", "reason": "again"}),
            Some(&admin),
        )
        .await,
        409,
        "designation_ended",
    )
    .await;
    let resp = app
        .post(
            &path,
            &json!({"batch": "第二批", "designated_from": "2024-01-01"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);

    let institution: Value = app
        .get(&format!("/api/v1/institutions/{college}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let history = institution["designations"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["designated_until"], "2023-12-31");
    assert_eq!(history[0]["end_reason"], "评估不合格，摘牌");
    assert_eq!(history[1]["designated_until"], Value::Null);

    let audit: Value = app
        .get(
            &format!("/api/v1/audit?entity_type=institution&entity_id={college}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "designate", "end_designation", "designate"]
    );
}

#[tokio::test]
async fn programs_need_known_occupations() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_occupation(&admin, "6-18-02-04", "电工").await;
    app.create_occupation(&admin, "6-31-01-03", "电气设备安装工")
        .await;
    let college = app
        .create_institution(&admin, "某技师学院", "technician_college")
        .await;
    let staff = app
        .account(
            &admin,
            "staff@college.cn",
            "college_staff",
            json!({"institution_id": college}),
        )
        .await;
    let path = format!("/api/v1/institutions/{college}/programs");
    let resp = app
        .post(&path, &json!({"name": "电气", "occupation_code": "6-31-01-03", "related_occupation_codes": ["6-18-02-04", "6-99-99-99"]}), Some(&staff))
        .await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "related_occupation_codes[1]");
    let resp = app
        .post(&path, &json!({"name": "电气", "occupation_code": "6-31-01-03", "related_occupation_codes": ["6-18-02-04"]}), Some(&staff))
        .await;
    assert_eq!(resp.status(), 201);
    let program: Value = resp.json().await.unwrap();
    assert_eq!(program["related_occupation_codes"], json!(["6-18-02-04"]));
    let listed: Value = app.get(&path, Some(&staff)).await.json().await.unwrap();
    assert_eq!(listed[0]["name"], "电气");
    let resp = app
        .post(
            &path,
            &json!({"name": "电气", "occupation_code": "6-31-01-03"}),
            Some(&staff),
        )
        .await;
    assert_problem(resp, 409, "program_exists").await;
}
