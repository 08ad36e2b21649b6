//! The browser console as the server sends it: pages with a strict security
//! policy that their own markup obeys, versioned assets, and the hourly
//! figures its charts draw.

use std::time::Duration;

use chrono::{Timelike, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::*;

/// The assets a page names, as `/ui/assets/<version>/<file>` paths.
fn asset_paths(html: &str) -> Vec<String> {
    html.split("\"/ui/assets/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|p| format!("/ui/assets/{p}"))
        .collect()
}

/// Nothing in `html` that the policy would block: every script is a file,
/// no event-handler or style attributes, nothing from another origin.
fn assert_obeys_the_policy(html: &str) {
    let lower = html.to_lowercase();
    for tag in lower.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(
            open.contains("src=\"/ui/assets/"),
            "inline script: <script{open}>"
        );
    }
    for attr in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " oninput=",
        " style=",
        "javascript:",
    ] {
        assert!(!lower.contains(attr), "the page uses {attr}");
    }
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!lower.contains(attr), "another origin: {attr}");
    }
}

async fn pages_send_a_strict_policy_and_versioned_assets(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut version = String::new();
    for page in ["/ui/", "/ui/admin"] {
        let resp = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{page}");
        let h = resp.headers().clone();
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-cache");
        let html = resp.text().await.unwrap();
        assert!(!html.contains("__ASSET_VERSION__"));
        assert_obeys_the_policy(&html);
        let assets = asset_paths(&html);
        assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
        assert!(assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
        for asset in assets {
            let resp = app.client.get(app.url(&asset)).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{asset}");
            let cache = resp.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(cache.contains("immutable") && cache.contains("max-age=31536000"));
            let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
            let expected = if asset.ends_with(".js") {
                "text/javascript"
            } else {
                "text/css"
            };
            assert!(kind.starts_with(expected), "{asset}: {kind}");
            version = asset.split('/').nth(3).unwrap().to_string();
        }
    }
    // Another version, a file outside the folder, a hidden one: 404 in the contract's shape.
    for path in [
        "/ui/assets/000000000000/console.css".to_string(),
        format!("/ui/assets/{version}/..%2Findex.html"),
        format!("/ui/assets/{version}/.hidden.js"),
        format!("/ui/assets/{version}/nothing.js"),
    ] {
        let resp = app.client.get(app.url(&path)).send().await.unwrap();
        assert_error(resp, 404, "not_found").await;
    }
    let resp = app.client.post(app.url("/ui/")).send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    assert_error(resp, 405, "method_not_allowed").await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = plain.get(app.url("/ui")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(resp.headers()["location"], "/ui/");
}

/// Waits out the last seconds of an hour, so a test's events share one.
async fn away_from_an_hour_boundary() {
    let now = Utc::now();
    let left = 3600 - (now.minute() * 60 + now.second());
    if left < 20 {
        tokio::time::sleep(Duration::from_secs(u64::from(left) + 1)).await;
    }
}

async fn hourly_figures_count_logins_failures_refreshes_revocations_and_live_sessions(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    away_from_an_hour_boundary().await;
    let admin = app.admin().await.access;
    // The admin's session and login move two hours back.
    let earlier = (Utc::now() - chrono::Duration::hours(2)).format("%Y-%m-%d %H:%M:%S");
    app.sql(&format!(
        "UPDATE sessions SET created_at = '{earlier}' WHERE user_id = \
         (SELECT id FROM users WHERE email = '{ADMIN_EMAIL}'); \
         UPDATE audit_events SET created_at = '{earlier}' WHERE event = 'login_succeeded'"
    ));
    app.create_user("nurse@example.com", &["user"]).await;
    let ended = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let kept = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    assert_eq!(
        app.login("nurse@example.com", "wrong-password-1")
            .await
            .status(),
        401
    );
    assert_eq!(app.refresh(&kept.refresh).await.status(), StatusCode::OK);
    let out = app.post_auth("/auth/logout", &ended.access, None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);

    let resp = app.get_auth("/admin/stats/hourly?hours=3", &admin).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let hours: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(hours.len(), 3, "{hours:?}");
    let figures = |h: &Value| {
        [
            "logins",
            "failed_logins",
            "refreshes",
            "revocations",
            "active_sessions",
        ]
        .map(|k| h[k].as_i64().unwrap())
    };
    // The admin logged in (created_user logs the admin in once more, now).
    assert_eq!(figures(&hours[0]), [1, 0, 0, 0, 1], "{hours:?}");
    assert_eq!(figures(&hours[1]), [0, 0, 0, 0, 1], "{hours:?}");
    assert_eq!(figures(&hours[2]), [3, 1, 1, 1, 3], "{hours:?}");
    let start = |h: &Value| h["hour"].as_str().unwrap().to_string();
    assert!(
        start(&hours[2]).ends_with(":00:00Z"),
        "{}",
        start(&hours[2])
    );
    assert!(start(&hours[0]) < start(&hours[1]) && start(&hours[1]) < start(&hours[2]));
    // The last hour's live sessions are the ones the metrics count.
    let metrics: Value = app
        .get_auth("/admin/tokens/metrics", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metrics["active_sessions"], hours[2]["active_sessions"]);

    // A day by default; a week at most; only admins.
    let day: Vec<Value> = app
        .get_auth("/admin/stats/hourly", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(day.len(), 24);
    for bad in ["0", "169", "abc", "-1", "2.5"] {
        let path = format!("/admin/stats/hourly?hours={bad}");
        assert_error(app.get_auth(&path, &admin).await, 400, "invalid_request").await;
    }
    assert_error(
        app.get_auth("/admin/stats/hourly", &kept.access).await,
        403,
        "forbidden",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url("/admin/stats/hourly"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "token_missing").await;
}

backend_tests!(
    pages_send_a_strict_policy_and_versioned_assets,
    hourly_figures_count_logins_failures_refreshes_revocations_and_live_sessions,
);

#[test]
fn the_policy_check_finds_inline_code() {
    let caught = std::panic::catch_unwind(|| {
        assert_obeys_the_policy("<button onclick=\"x()\">x</button>");
    });
    assert!(caught.is_err());
}
