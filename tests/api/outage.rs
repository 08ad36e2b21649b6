//! A PostgreSQL that goes away (a TCP proxy the test stops) gives 503 within
//! five seconds and never a 200, and service resumes when it comes back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::*;

/// Forwards 127.0.0.1:port to PostgreSQL until stopped; stopping cuts every link.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let links = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().unwrap().push(link);
            }
        });
        Self {
            port,
            tasks,
            accept: Some(accept),
        }
    }

    fn stop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_within_five_seconds_and_never_200() {
    if !postgres_enabled("a_database_outage_answers_503_within_five_seconds_and_never_200") {
        return;
    }
    let db = Arc::new(TestDatabase::new(Backend::Postgres));
    let mut proxy = Proxy::start(0).await;
    let mut settings = test_settings(&db);
    let (prefix, name) = db.url.rsplit_once('/').unwrap();
    let (scheme_user, _) = prefix.rsplit_once('@').unwrap();
    settings.database_url = format!("{scheme_user}@127.0.0.1:{}/{name}", proxy.port);
    let app = start(db.clone(), settings).await;
    let t = app.admin().await;
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);

    proxy.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        let started = Instant::now();
        let resp = app.validate(&t.access).await;
        let elapsed = started.elapsed();
        assert_error(resp, 503, "unavailable").await;
        assert!(elapsed < Duration::from_secs(5), "answered in {elapsed:?}");
    }
    let started = Instant::now();
    assert_error(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        503,
        "unavailable",
    )
    .await;
    assert_error(app.refresh(&t.refresh).await, 503, "unavailable").await;
    let resp = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 503, "unavailable").await;
    assert!(started.elapsed() < Duration::from_secs(20));

    // Back again: the pool drops the dead links and service resumes.
    let _proxy = Proxy::start(proxy.port).await;
    let app2 = &app;
    let token = t.access.clone();
    let back = eventually(Duration::from_secs(20), || {
        let token = token.clone();
        async move { app2.validate(&token).await.status() == StatusCode::OK }
    })
    .await;
    assert!(back, "validation resumes once the database is back");
    let resp = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
