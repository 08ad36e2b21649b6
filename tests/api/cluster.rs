//! Two instances sharing one PostgreSQL database and Redis: event fan-out,
//! single-use tickets and shared rate limits across instances, and a Redis
//! outage (a TCP proxy the test stops) that leaves both instances correct.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokenward::config::Settings;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::*;
use crate::ws_client::*;

const NURSE: &str = "nurse@example.com";

fn redis_addr() -> String {
    std::env::var("TOKENWARD_TEST_REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".into())
}

/// True when PostgreSQL and Redis are both there; a loud skip otherwise (a
/// failure under CI=true).
fn cluster_enabled(test: &str) -> bool {
    if !postgres_enabled(test) {
        return false;
    }
    let reachable = redis_addr()
        .parse()
        .ok()
        .and_then(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).ok())
        .is_some();
    if reachable {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("Redis at {} is unreachable under CI=true", redis_addr());
    }
    eprintln!("SKIPPED {test}: Redis at {} is unreachable", redis_addr());
    false
}

/// Two instances on one fresh PostgreSQL database, sharing a unique key prefix.
async fn pair(redis_url: &str, tweak: impl Fn(&mut Settings)) -> (TestApp, TestApp) {
    let db = Arc::new(TestDatabase::new(Backend::Postgres));
    let prefix = format!("tokenward-test-{}:", uuid::Uuid::new_v4().simple());
    let settings = |db: &TestDatabase| {
        let mut s = test_settings(db);
        s.redis_url = Some(redis_url.to_string().into());
        s.redis_prefix = prefix.clone();
        s.redis_timeout_ms = 300;
        tweak(&mut s);
        s
    };
    let a = start(db.clone(), settings(&db)).await;
    let b = start(db.clone(), settings(&db)).await;
    (a, b)
}

async fn ready(app: &TestApp) -> StatusCode {
    app.client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_on_one_instance_reaches_a_socket_on_the_other_within_a_second() {
    if !cluster_enabled("logout_all_on_one_instance_reaches_a_socket_on_the_other_within_a_second")
    {
        return;
    }
    let redis = format!("redis://{}", redis_addr());
    let (a, b) = pair(&redis, |s| s.ws_session_check_ms = 0).await;
    assert_eq!(ready(&a).await, StatusCode::OK);
    a.create_user(NURSE, &["user"]).await;
    let phone = a.login_ok(NURSE, USER_PASSWORD).await;
    let laptop = b.login_ok(NURSE, USER_PASSWORD).await;
    let mut ws = b.ws_open(&phone.access).await;
    // The socket on B hears about a login made on A.
    let tablet = a.login_ok(NURSE, USER_PASSWORD).await;
    let created = expect_event(&mut ws, "session.created").await;
    assert_eq!(created["session_id"], tablet.session_id.as_str());

    let started = Instant::now();
    let resp = a.post_auth("/auth/logout-all", &laptop.access, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (events, _) = expect_close(&mut ws, Duration::from_secs(1)).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(events[0]["type"], "session.revoked");
    assert_eq!(events[0]["session_id"], phone.session_id.as_str());
    assert_eq!(events[0]["reason"], "logout_all");
    assert_error(b.validate(&phone.access).await, 401, "token_revoked").await;
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_empties_the_others_validation_cache() {
    let test = "a_revocation_on_one_instance_empties_the_others_validation_cache";
    if !cluster_enabled(test) {
        return;
    }
    let redis = format!("redis://{}", redis_addr());
    let (a, b) = pair(&redis, |s| s.validation_cache_ms = 1000).await;
    let admin = a.admin().await;
    a.create_user(NURSE, &["user"]).await;
    let nurse = a.login_ok(NURSE, USER_PASSWORD).await;
    let jti = a
        .validate(&nurse.access)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["token_id"]
        .as_str()
        .unwrap()
        .to_string();
    // B reads the database once and caches the answer for up to a second.
    let cached_at = Instant::now();
    assert_eq!(b.validate(&nurse.access).await.status(), StatusCode::OK);
    assert_eq!(b.validate(&nurse.access).await.status(), StatusCode::OK);
    // One token revoked on A (no session ends): B must forget its answer at
    // once, not when the entry ages out.
    let body = json!({ "jti": jti });
    let resp = a
        .post_auth("/admin/tokens/revoke", &admin.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let refused = eventually(Duration::from_secs(2), || async {
        b.validate(&nurse.access).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused);
    let after = cached_at.elapsed();
    assert!(
        after < Duration::from_millis(700),
        "B answered from its cache for {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_used_on_one_instance_is_refused_on_the_other() {
    if !cluster_enabled("a_ticket_used_on_one_instance_is_refused_on_the_other") {
        return;
    }
    let redis = format!("redis://{}", redis_addr());
    let (a, b) = pair(&redis, |_| {}).await;
    let t = a.admin().await;
    let ticket = a.ws_ticket(&t.access).await;
    let _ws = a.ws_try(&ticket).await.expect("first use on A");
    assert_refused(b.ws_try(&ticket).await, "token_revoked");
    assert_refused(a.ws_try(&ticket).await, "token_revoked");
    // Issued on B, used on A first: same rule.
    let ticket = b.ws_ticket(&t.access).await;
    let _ws = a.ws_try(&ticket).await.expect("first use on A");
    assert_refused(b.ws_try(&ticket).await, "token_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_rate_limit_is_shared_between_instances() {
    if !cluster_enabled("the_login_rate_limit_is_shared_between_instances") {
        return;
    }
    let redis = format!("redis://{}", redis_addr());
    let (a, b) = pair(&redis, |s| s.login_rate_limit = 3).await;
    for app in [&a, &b, &a] {
        assert_error(
            app.login("nobody@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let resp = b.login("nobody@example.com", "wrong-password").await;
    assert!(resp.headers().get("retry-after").is_some());
    assert_error(resp, 429, "too_many_requests").await;
}

/// Forwards a local port to Redis until stopped; stopping cuts every link.
struct Proxy {
    port: u16,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let tasks = links.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(redis_addr()).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(link);
            }
        });
        Self {
            port,
            links,
            accept: Some(accept),
        }
    }

    fn stop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for t in self.links.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_leaves_both_instances_correct_and_they_recover() {
    if !cluster_enabled("a_redis_outage_leaves_both_instances_correct_and_they_recover") {
        return;
    }
    let mut proxy = Proxy::start(0).await;
    let redis = format!("redis://127.0.0.1:{}", proxy.port);
    let (a, b) = pair(&redis, |s| {
        s.ws_session_check_ms = 300;
        s.login_rate_limit = 1000;
    })
    .await;
    let within = Duration::from_secs(10);
    assert!(eventually(within, || async { ready(&a).await == StatusCode::OK }).await);
    a.create_user(NURSE, &["user"]).await;
    let phone = a.login_ok(NURSE, USER_PASSWORD).await;
    let laptop = a.login_ok(NURSE, USER_PASSWORD).await;
    let mut ws = b.ws_open(&phone.access).await;
    let ticket = a.ws_ticket(&laptop.access).await;

    proxy.stop();
    for app in [&a, &b] {
        assert!(
            eventually(within, || async {
                ready(app).await == StatusCode::SERVICE_UNAVAILABLE
            })
            .await,
            "readiness reports Redis down"
        );
    }
    // The database still decides: logins work, a logout on A is honoured by B at
    // once, B's socket of that session is closed by its own re-check, and a
    // ticket still works only once.
    b.login_ok(NURSE, USER_PASSWORD).await;
    let resp = a.post_auth("/auth/logout", &phone.access, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(b.validate(&phone.access).await, 401, "token_revoked").await;
    let (events, _) = expect_close(&mut ws, within).await;
    let revoked: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "session.revoked")
        .collect();
    assert_eq!(revoked[0]["session_id"], phone.session_id.as_str());
    let _used = a
        .ws_try(&ticket)
        .await
        .expect("first use during the outage");
    assert_refused(b.ws_try(&ticket).await, "token_revoked");
    assert_eq!(b.validate(&laptop.access).await.status(), StatusCode::OK);

    // Redis back on the same port: both recover, and events fan out again.
    let _proxy = Proxy::start(proxy.port).await;
    for app in [&a, &b] {
        assert!(
            eventually(within, || async { ready(app).await == StatusCode::OK }).await,
            "readiness recovers"
        );
    }
    let mut ws = b.ws_open(&laptop.access).await;
    let admin = a.admin().await;
    // The subscriber may still be reconnecting: resend until one arrives.
    let deadline = Instant::now() + within;
    let mut delivered = false;
    while !delivered && Instant::now() < deadline {
        let msg = json!({ "message": "back" });
        a.post_auth("/admin/notifications", &admin.access, Some(&msg))
            .await;
        delivered = matches!(
            next(&mut ws, Duration::from_millis(300)).await,
            Next::Event(e) if e["type"] == "notification"
        );
    }
    assert!(delivered, "events fan out again after Redis returns");
}

/// A private `redis-server --requirepass`, stopped on drop.
struct PasswordRedis {
    port: u16,
    child: std::process::Child,
}

impl PasswordRedis {
    fn start(test: &str, password: &str) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                password,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(child) => Some(Self { port, child }),
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("redis-server cannot be started under CI=true: {e}");
                }
                eprintln!("SKIPPED {test}: redis-server cannot be started: {e}");
                None
            }
        }
    }
}

impl Drop for PasswordRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_redis_url_is_used_and_a_wrong_one_reads_as_down() {
    let test = "a_password_in_the_redis_url_is_used_and_a_wrong_one_reads_as_down";
    let Some(server) = PasswordRedis::start(test, "s3cret-pass") else {
        return;
    };
    let port = server.port;
    let up = eventually(Duration::from_secs(10), || async move {
        TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await;
    assert!(up, "redis-server listening");
    let good = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(format!("redis://:s3cret-pass@127.0.0.1:{port}").into());
    })
    .await;
    let wrong = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(format!("redis://:wrong-pass@127.0.0.1:{port}").into());
    })
    .await;
    let within = Duration::from_secs(10);
    assert!(eventually(within, || async { ready(&good).await == StatusCode::OK }).await);
    assert_eq!(ready(&wrong).await, StatusCode::SERVICE_UNAVAILABLE);
    // Serving goes on without Redis all the same.
    let t = wrong.admin().await;
    let _ws = wrong.ws_open(&t.access).await;
    drop(server);
}
