use std::collections::HashMap;

use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};

use skillpath::config::Settings;
use skillpath::startup::Application;

pub const ADMIN_EMAIL: &str = "admin@skillpath.test";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const PASSWORD: &str = "a long enough password";

/// Where a test's database lives; dropped with the test.
enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(ScratchPostgres),
}

/// `postgres://u@h:5432/db?x` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub jwt_secret: String,
    pub data_key: String,
    pub backend: &'static str,
    pub database_url: String,
    /// The running application's shared state (its database, for jobs the tests run directly).
    pub state: actix_web::web::Data<skillpath::state::AppState>,
    /// Stops the server (the network going away, as a browser sees it).
    pub server: actix_web::dev::ServerHandle,
    database: TestDatabase,
}

/// Spawns the application on a free port with its own empty database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (database, database_url, backend) = match scratch_postgres("skillpath_test") {
        Some(scratch) => {
            let url = scratch.url.clone();
            (TestDatabase::Postgres(scratch), url, "postgres")
        }
        None => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = dir
                .path()
                .join("skillpath.db")
                .to_string_lossy()
                .into_owned();
            (TestDatabase::Sqlite(dir), url, "sqlite")
        }
    };
    let jwt_secret = format!(
        "test-secret-{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let data_key = format!(
        "test-data-key-{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url.as_str()),
        ("SKILLPATH_BIND", "127.0.0.1:0"),
        ("SKILLPATH_JWT_SECRET", jwt_secret.as_str()),
        ("SKILLPATH_DATA_KEY", data_key.as_str()),
        ("SKILLPATH_ADMIN_EMAIL", ADMIN_EMAIL),
        ("SKILLPATH_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("SKILLPATH_DB_POOL_SIZE", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    let settings = Settings::from_lookup(|name| vars.get(name).cloned()).expect("test settings");
    let app = Application::build(settings, skillpath::http_server::StopOn::Handle)
        .await
        .expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jwt_secret,
        data_key,
        backend,
        database_url,
        state,
        server,
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request and holds its response against the OpenAPI document (panicking on any
    /// difference); every request of the suite goes through here.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let request = request.build().expect("a request");
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let response = self.client.execute(request).await.expect("request");
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("response body");
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Err(mismatch) = crate::contract::check(
            &method,
            &path,
            status.as_u16(),
            content_type.as_deref(),
            &body,
        ) {
            panic!("the response differs from openapi/openapi.json: {mismatch}");
        }
        let mut rebuilt = http::Response::builder().status(status).version(version);
        if let Some(h) = rebuilt.headers_mut() {
            *h = headers;
        }
        reqwest::Response::from(rebuilt.body(body).expect("a response"))
    }

    /// The JSON body of a `GET` that must succeed.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let resp = self.get(path, Some(token)).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("a JSON body")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn put(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.patch(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Logs in and returns the token response; panics unless it succeeds.
    /// The items of the account's inbox (`GET /api/v1/me/notifications`, first page).
    pub async fn inbox(&self, token: &str) -> Vec<Value> {
        // A failed request must not read as an empty inbox (tests assert absences with it).
        let resp = self.get("/api/v1/me/notifications", Some(token)).await;
        assert_eq!(resp.status(), 200, "the inbox answers");
        let page: Value = resp.json().await.unwrap();
        page["items"].as_array().unwrap().clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
                None,
            )
            .await;
        assert_eq!(resp.status(), 200, "login of {email} should succeed");
        resp.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates an account as the admin and returns its id.
    pub async fn create_user(&self, admin: &str, body: Value) -> i64 {
        let resp = self.post("/api/v1/users", &body, Some(admin)).await;
        assert_eq!(resp.status(), 201, "create user {body}");
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Creates an evaluator account and returns its access token.
    pub async fn evaluator_token(&self, admin: &str, email: &str) -> String {
        self.create_user(
            admin,
            json!({"email": email, "password": PASSWORD, "role": "evaluator"}),
        )
        .await;
        self.login(email, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Makes the database unreachable: the SQLite file vanishes, or the PostgreSQL database
    /// refuses connections and its open ones are closed.
    pub fn make_database_unreachable(&self) {
        match &self.database {
            TestDatabase::Sqlite(_) => {
                let path = std::path::Path::new(&self.database_url);
                std::fs::remove_file(path).expect("remove the database file");
            }
            TestDatabase::Postgres(ScratchPostgres {
                admin_url, name, ..
            }) => {
                let mut conn = PgConnection::establish(admin_url).unwrap();
                diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"))
                    .execute(&mut conn)
                    .unwrap();
                drop(conn);
                self.close_database_connections();
            }
        }
    }

    /// Closes every open connection to the PostgreSQL database from the server's side, as a
    /// restart of the server or a dropped network does.
    pub fn close_database_connections(&self) {
        if let TestDatabase::Postgres(ScratchPostgres {
            admin_url, name, ..
        }) = &self.database
        {
            let mut conn = PgConnection::establish(admin_url).unwrap();
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(&mut conn)
            .unwrap();
        }
    }
}

impl TestApp {
    /// Disables an account, as an administrator does.
    pub async fn disable_account(&self, admin: &str, id: i64) {
        let resp = self
            .patch(
                &format!("/api/v1/users/{id}"),
                &json!({"disabled": true}),
                Some(admin),
            )
            .await;
        assert_eq!(resp.status(), 200, "disabling account {id}");
    }

    /// How many of the latest 200 outbox rows are of `kind`.
    pub async fn outbox_count(&self, admin: &str, kind: &str) -> usize {
        let outbox = self
            .get_json("/api/v1/admin/notifications?limit=200", admin)
            .await;
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == kind)
            .count()
    }

    /// Waits until the durable jobs queued so far have run (the serving process runs them).
    pub async fn jobs_settled(&self) {
        use skillpath::db::jobs::{self, JobStatus};
        for _ in 0..200 {
            let db = self.state.db.clone();
            let waiting = tokio::task::spawn_blocking(move || {
                jobs::recent(&mut db.get().unwrap(), 1_000)
                    .unwrap()
                    .into_iter()
                    .any(|j| matches!(j.status, JobStatus::Pending | JobStatus::Running))
            })
            .await
            .unwrap();
            if !waiting {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the queued jobs did not run within 10 s");
    }

    /// Lets connections to the PostgreSQL database in again (after `make_database_unreachable`).
    pub fn make_database_reachable(&self) {
        if let TestDatabase::Postgres(ScratchPostgres {
            admin_url, name, ..
        }) = &self.database
        {
            let mut conn = PgConnection::establish(admin_url).unwrap();
            diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
                .execute(&mut conn)
                .unwrap();
        }
    }
}

/// Asserts a problem+json answer with this status and code, and returns its body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status(), status, "status");
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().ends_with(code));
    body
}

/// A valid identity number (GB 11643) from its first 17 digits.
pub fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

/// A distinct valid identity number for each `n` (born from 1990 on, 1000 per birthday).
pub fn nth_id_number(n: u32) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
        + chrono::Days::new(u64::from(n / 1000));
    id_number(&format!("310104{}{:03}", birth.format("%Y%m%d"), n % 1000))
}

impl TestApp {
    pub async fn put_csv(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
        token: &str,
    ) -> reqwest::Response {
        self.send(
            self.client
                .post(self.url(path))
                .header("content-type", content_type)
                .bearer_auth(token)
                .body(body),
        )
        .await
    }

    /// Creates, as `admin`, an occupation with all flags set as given.
    pub async fn create_occupation(&self, admin: &str, code: &str, name: &str) {
        let resp = self
            .post(
                "/api/v1/occupations",
                &json!({"code": code, "name": name, "source": "test catalog", "technician_catalog": true, "high_skill_catalog": true}),
                Some(admin),
            )
            .await;
        assert_eq!(resp.status(), 201, "create occupation {code}");
    }

    pub async fn create_institution(&self, admin: &str, name: &str, kind: &str) -> i64 {
        let resp = self
            .post(
                "/api/v1/institutions",
                &json!({"name": name, "kind": kind}),
                Some(admin),
            )
            .await;
        assert_eq!(resp.status(), 201, "create institution {name}");
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub async fn create_program(
        &self,
        token: &str,
        institution: i64,
        name: &str,
        code: &str,
    ) -> i64 {
        let resp = self
            .post(
                &format!("/api/v1/institutions/{institution}/programs"),
                &json!({"name": name, "occupation_code": code}),
                Some(token),
            )
            .await;
        assert_eq!(resp.status(), 201, "create program {name}");
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub async fn create_learner(&self, token: &str, body: Value) -> i64 {
        let resp = self.post("/api/v1/learners", &body, Some(token)).await;
        assert_eq!(resp.status(), 201, "create learner {body}");
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Creates an account with this role and binding and returns its access token.
    pub async fn account(&self, admin: &str, email: &str, role: &str, binding: Value) -> String {
        let mut body = json!({"email": email, "password": PASSWORD, "role": role});
        if let (Some(target), Some(fields)) = (body.as_object_mut(), binding.as_object()) {
            for (k, v) in fields {
                target.insert(k.clone(), v.clone());
            }
        }
        self.create_user(admin, body).await;
        self.login(email, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Another replica of a test's application: the same database and secrets, its own port and
/// process state (limits, caches), as a second `skillpath serve` would be.
pub struct Replica {
    pub address: String,
    pub server: actix_web::dev::ServerHandle,
}

impl Replica {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

impl TestApp {
    pub async fn replica(&self) -> Replica {
        let mut settings: Settings = (*self.state.settings).clone();
        settings.bind = "127.0.0.1:0".parse().unwrap();
        let app = Application::build(settings, skillpath::http_server::StopOn::Handle)
            .await
            .expect("build another replica");
        let address = format!("http://127.0.0.1:{}", app.port());
        let server = app.handle();
        tokio::spawn(app.run_until_stopped());
        Replica { address, server }
    }
}

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (if still running) when the test lets go of it.
pub struct ChildProcess(pub std::process::Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A new, empty database on the PostgreSQL server of `TEST_DATABASE_URL` (none without it),
/// dropped when the test lets go of it.
pub struct ScratchPostgres {
    pub url: String,
    admin_url: String,
    name: String,
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

pub fn scratch_postgres(prefix: &str) -> Option<ScratchPostgres> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let suffix = Alphanumeric
        .sample_string(&mut rand::thread_rng(), 12)
        .to_lowercase();
    let name = format!("{prefix}_{suffix}");
    let mut conn = PgConnection::establish(&admin_url)
        .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .expect("create a scratch database");
    Some(ScratchPostgres {
        url: with_database(&admin_url, &name),
        admin_url,
        name,
    })
}
