//! `/metrics` (Prometheus text, names from the contract) and health endpoints.
//! Counters are process-wide and tests run in parallel: assert growth, not totals.

use reqwest::StatusCode;

use crate::backend_tests;
use crate::helpers::*;

/// The value of the sample `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    resp.text().await.unwrap()
}

async fn metrics_move_as_the_server_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = scrape(&app).await;
    let t = app.admin().await;
    app.login("admin@example.com", "wrong").await;
    app.validate(&t.access).await;
    app.validate("garbage").await;
    app.refresh(&t.refresh).await;
    app.post_auth("/auth/logout-all", &t.access, None).await;
    app.client
        .get(app.url("/no/such/thing"))
        .send()
        .await
        .unwrap();
    let after = scrape(&app).await;

    let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
        let (b, a) = (sample(&before, name, labels), sample(&after, name, labels));
        assert!(a - b >= by, "{name} {labels:?}: {b} -> {a}");
    };
    grew(
        "tokenward_http_requests_total",
        &[
            ("method", "POST"),
            ("route", "/auth/login"),
            ("status", "200"),
        ],
        1.0,
    );
    grew(
        "tokenward_http_requests_total",
        &[("route", "unmatched"), ("status", "404")],
        1.0,
    );
    grew(
        "tokenward_http_request_duration_seconds_count",
        &[("route", "/auth/validate")],
        2.0,
    );
    grew("tokenward_logins_total", &[("result", "success")], 1.0);
    grew("tokenward_logins_total", &[("result", "failure")], 1.0);
    grew("tokenward_tokens_issued_total", &[("type", "access")], 2.0);
    grew("tokenward_tokens_issued_total", &[("type", "refresh")], 2.0);
    grew("tokenward_tokens_refreshed_total", &[], 1.0);
    grew(
        "tokenward_tokens_rejected_total",
        &[("reason", "invalid")],
        1.0,
    );
    grew(
        "tokenward_tokens_revoked_total",
        &[("reason", "logout_all")],
        2.0,
    );
    assert!(
        after.contains("tokenward_http_request_duration_seconds_bucket{"),
        "a histogram"
    );
    assert!(after.contains("tokenward_active_sessions "));
    assert!(after.contains("tokenward_active_tokens "));
    assert!(after.contains("tokenward_db_pool_connections{state=\"idle\"}"));
    assert!(!after.contains(&t.access), "no token in metrics");
}

async fn health_endpoints_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let live = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.get_json("/health/ready").await;
    assert_eq!(ready["status"], "ok");
}

async fn the_api_is_documented_and_browsable(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/auth/login",
        "/auth/validate",
        "/ws",
        "/metrics",
        "/health/ready",
        "/oauth/introspect",
        "/admin/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let resp = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    let resp = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .text()
        .await
        .unwrap()
        .to_lowercase()
        .contains("swagger"));
}

async fn a_metrics_token_guards_the_scrape(backend: Backend) {
    let token = "scrape-token-0123456789";
    let app = spawn_app_with(backend, |s| {
        s.metrics_token = Some(token.to_string().into())
    })
    .await;
    let get = |auth: Option<String>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    assert_error(get(None).await.unwrap(), 401, "token_missing").await;
    let wrong = Some("Bearer not-the-token".to_string());
    assert_error(get(wrong).await.unwrap(), 401, "token_invalid").await;
    // An access token of an admin is not the scrape token either.
    let admin = app.admin().await;
    let access = Some(format!("Bearer {}", admin.access));
    assert_error(get(access).await.unwrap(), 401, "token_invalid").await;
    let resp = get(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains("tokenward_active_sessions"), "{text}");
    for name in [
        "tokenward_http_requests_total",
        "tokenward_logins_total",
        "tokenward_active_sessions",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
    }
}

backend_tests!(
    a_metrics_token_guards_the_scrape,
    metrics_move_as_the_server_works,
    health_endpoints_answer,
    the_api_is_documented_and_browsable,
);
