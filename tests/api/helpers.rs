//! Test harness: `spawn_app(Backend)` runs `Application::build` on port 0 over a
//! fresh database and returns a `TestApp` with one helper per endpoint.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokenward::config::Settings;
use tokenward::db::{ConnectionManager, DatabaseUrl, DbConnection};
use tokenward::startup::Application;

/// Which database a test copy runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const USER_PASSWORD: &str = "Tidal-Orchid-73";

/// Generates `sqlite::name` and `postgres::name` tests from `async fn name(Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if $crate::helpers::postgres_enabled(stringify!($name)) {
                        super::$name($crate::helpers::Backend::Postgres).await;
                    }
                }
            )+
        }
    };
}

/// The server URL for PostgreSQL copies, or a loud skip (a failure under CI).
pub fn postgres_enabled(test: &str) -> bool {
    if std::env::var("TOKENWARD_TEST_POSTGRES_URL").is_ok() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("TOKENWARD_TEST_POSTGRES_URL is unset under CI=true: PostgreSQL tests must run");
    }
    eprintln!("SKIPPED postgres::{test}: TOKENWARD_TEST_POSTGRES_URL is not set");
    false
}

fn postgres_base() -> String {
    std::env::var("TOKENWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(base: &str, name: &str) -> String {
    let (prefix, _) = base.rsplit_once('/').expect("postgres URL has a database");
    format!("{prefix}/{name}")
}

/// A fresh database: its URL, a PostgreSQL name to drop, and the temp dir.
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
    pub dir: tempfile::TempDir,
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}/tokenward.db", dir.path().display()),
                pg_name: None,
                dir,
            },
            Backend::Postgres => {
                let name = format!("tokenward_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin =
                    PgConnection::establish(&postgres_base()).expect("connect to PostgreSQL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                Self {
                    url: with_database(&postgres_base(), &name),
                    pg_name: Some(name),
                    dir,
                }
            }
        }
    }

    /// A direct connection for assertions and SQL the tests play admin with.
    pub fn connect(&self) -> DbConnection {
        let url = DatabaseUrl::parse(&self.url, 3).unwrap();
        ConnectionManager::new(url).open().expect("test connection")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut admin) = PgConnection::establish(&postgres_base()) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Settings every test app starts from.
pub fn test_settings(db: &TestDatabase) -> Settings {
    Settings {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        bootstrap_admin_email: Some(ADMIN_EMAIL.into()),
        bootstrap_admin_password: Some(ADMIN_PASSWORD.to_string().into()),
        encryption_key_file: db.dir.path().join("tokenward.key"),
        bcrypt_cost: 4,
        // Tests run the cleanup job themselves; a scheduled run could race them.
        cleanup_cron: String::new(),
        db_pool_size: 3,
        workers: 1,
        // Tests log in often from one address; the rate-limit test turns it on.
        login_rate_limit: 0,
        ..Settings::default()
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub handle: actix_web::dev::ServerHandle,
    /// The instance's WebSocket registry (tests poll its counts).
    pub hub: tokenward::realtime::Hub,
    // Last field: dropped after the server handle.
    pub db: std::sync::Arc<TestDatabase>,
}

/// Logged-in tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub session_id: String,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let db = std::sync::Arc::new(TestDatabase::new(backend));
    let mut settings = test_settings(&db);
    tweak(&mut settings);
    start(db, settings).await
}

/// Starts an app on an existing database (restarts, second instances).
pub async fn start(db: std::sync::Arc<TestDatabase>, settings: Settings) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let hub = app.hub();
    tokio::spawn(app.run_without_signals());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        settings,
        handle,
        hub,
        db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn stop(&self) {
        self.hub.close_all();
        self.handle.stop(true).await;
    }

    /// GET without credentials, the answer read as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        resp.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Option<&Value>) -> Response {
        let mut req = self.client.post(self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/auth/login",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login_ok(&self, email: &str, password: &str) -> Tokens {
        let resp = self.login(email, password).await;
        assert_eq!(resp.status(), StatusCode::OK, "login of {email}");
        let body: Value = resp.json().await.unwrap();
        tokens_of(&body)
    }

    pub async fn admin(&self) -> Tokens {
        self.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a user through the admin API and returns its id.
    pub async fn create_user(&self, email: &str, roles: &[&str]) -> String {
        let admin = self.admin().await;
        let resp = self
            .post_auth(
                "/admin/users",
                &admin.access,
                Some(&json!({
                    "email": email,
                    "password": USER_PASSWORD,
                    "full_name": "Test User",
                    "roles": roles,
                })),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn validate(&self, token: &str) -> Response {
        self.get_auth("/auth/validate", token).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/auth/refresh", &json!({ "refresh_token": refresh_token }))
            .await
    }

    /// Runs SQL on the app's database, as an admin at a psql prompt would.
    pub fn sql(&self, statements: &str) {
        let mut conn = self.db.connect();
        conn.batch_execute(statements).expect("SQL runs");
    }

    /// A single integer from a query.
    pub fn sql_i64(&self, query: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.connect();
        let row: Row = diesel::sql_query(query)
            .get_result(&mut conn)
            .expect("query runs");
        row.n
    }
}

pub fn tokens_of(body: &Value) -> Tokens {
    Tokens {
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().unwrap().to_string(),
        session_id: body["session_id"].as_str().unwrap().to_string(),
    }
}

/// Asserts status and contract error code; returns the body.
pub async fn assert_error(resp: Response, status: u16, code: &str) -> Value {
    let got = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "status for {code}: body {body}");
    assert_eq!(body["error"], code, "body {body}");
    assert!(body["message"].is_string(), "message in {body}");
    if status == 401 {
        let www = www.expect("401 carries WWW-Authenticate");
        assert!(www.starts_with("Bearer realm=\"tokenward\""), "{www}");
        if code.starts_with("token_") && code != "token_missing" {
            assert!(www.contains("error=\"invalid_token\""), "{www}");
        }
    }
    body
}

/// Polls `check` until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
