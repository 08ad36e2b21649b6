//! Client IP rules over HTTP: every `X-Forwarded-For` line counts, the walk
//! from the right skips trusted proxies, IPv4-mapped IPv6 is IPv4, ports are
//! dropped, and the login rate limit keys IPv6 by its /64.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{
    assert_error, spawn_app_with, tokens_of, Backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// Logs in with the given `X-Forwarded-For` header lines, in order.
async fn login_via(app: &TestApp, forwarded_for: &[&str], password: &str) -> Response {
    let mut req = app.client.post(app.url("/auth/login"));
    for line in forwarded_for {
        req = req.header("x-forwarded-for", *line);
    }
    req.json(&json!({ "email": ADMIN_EMAIL, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Logs the admin in through `forwarded_for` and returns the IP its session
/// shows in `GET /auth/sessions`.
async fn stored_ip(app: &TestApp, forwarded_for: &[&str]) -> String {
    let resp = login_via(app, forwarded_for, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK, "login via {forwarded_for:?}");
    let t = tokens_of(&resp.json::<Value>().await.unwrap());
    let list: Vec<Value> = app
        .get_auth("/auth/sessions", &t.access)
        .await
        .json()
        .await
        .unwrap();
    let mine = list
        .iter()
        .find(|s| s["id"] == t.session_id.as_str())
        .expect("the new session is listed");
    mine["ip_address"].as_str().unwrap().to_string()
}

fn tokens_from(app: &TestApp, ip: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE ip_address = '{ip}'"
    ))
}

async fn assert_rate_limited(resp: Response) {
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .expect("429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_error(resp, 429, "too_many_requests").await;
}

async fn a_forged_forwarded_for_line_is_not_believed_nor_escapes_the_rate_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.login_rate_limit = 3;
    })
    .await;
    // The client's own line first, the trusted proxy's line second.
    let ip = stored_ip(&app, &["198.51.100.66", "203.0.113.7"]).await;
    assert_eq!(ip, "203.0.113.7");
    assert_eq!(tokens_from(&app, "203.0.113.7"), 2);
    assert_eq!(tokens_from(&app, "198.51.100.66"), 0);
    // Rotating the forged line does not buy a new budget.
    for forged in ["198.51.100.1", "198.51.100.2"] {
        assert_error(
            login_via(&app, &[forged, "203.0.113.7"], "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(login_via(&app, &["198.51.100.3", "203.0.113.7"], ADMIN_PASSWORD).await)
        .await;
    // A forged line on the right of a single header is no escape either.
    assert_rate_limited(login_via(&app, &["198.51.100.4, 203.0.113.7"], ADMIN_PASSWORD).await)
        .await;
    // Another client still has its own budget.
    assert_eq!(
        stored_ip(&app, &["203.0.113.7", "203.0.113.8"]).await,
        "203.0.113.8"
    );
}

async fn an_ipv4_mapped_hop_is_stored_as_ipv4(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ]
    })
    .await;
    assert_eq!(stored_ip(&app, &["::ffff:192.0.2.7"]).await, "192.0.2.7");
    // A mapped trusted proxy is skipped like its IPv4 form.
    assert_eq!(
        stored_ip(&app, &["192.0.2.8, ::ffff:10.0.0.5"]).await,
        "192.0.2.8"
    );
    assert_eq!(tokens_from(&app, "::ffff:192.0.2.7"), 0);
}

/// Whether a `[::]` listener takes IPv4 connections here (dual-stack).
fn dual_stack() -> Option<()> {
    let listener = std::net::TcpListener::bind("[::]:0").ok()?;
    let port = listener.local_addr().ok()?.port();
    std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    Some(())
}

async fn an_ipv4_peer_of_an_ipv6_listener_is_ipv4(backend: Backend) {
    if dual_stack().is_none() {
        eprintln!("SKIPPED an_ipv4_peer_of_an_ipv6_listener_is_ipv4: no dual-stack [::] bind");
        return;
    }
    // The peer arrives as ::ffff:127.0.0.1 and must match the IPv4 CIDR.
    let trusted = spawn_app_with(backend, |s| {
        s.bind = "[::]:0".into();
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    assert_eq!(stored_ip(&trusted, &["192.0.2.7"]).await, "192.0.2.7");
    // Without trusted proxies the peer itself is stored, as IPv4.
    let direct = spawn_app_with(backend, |s| s.bind = "[::]:0".into()).await;
    assert_eq!(stored_ip(&direct, &["192.0.2.7"]).await, "127.0.0.1");
    assert_eq!(tokens_from(&direct, "127.0.0.1"), 2);
}

async fn forwarded_hops_with_ports_are_stored_without_them(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    assert_eq!(stored_ip(&app, &["192.0.2.1:5000"]).await, "192.0.2.1");
    assert_eq!(stored_ip(&app, &["[2001:db8::1]:443"]).await, "2001:db8::1");
    assert_eq!(tokens_from(&app, "192.0.2.1"), 2);
    assert_eq!(tokens_from(&app, "2001:db8::1"), 2);
}

async fn addresses_of_one_ipv6_64_share_one_login_budget(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.login_rate_limit = 3;
    })
    .await;
    // The token keeps the full address; only the limiter groups by /64.
    assert_eq!(
        stored_ip(&app, &["2001:db8:1:2::1"]).await,
        "2001:db8:1:2::1"
    );
    for other in ["2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        assert_error(
            login_via(&app, &[other], "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(login_via(&app, &["2001:db8:1:2:abcd::4"], ADMIN_PASSWORD).await).await;
    // Another /64 has its own budget (the password is checked after the limit).
    assert_error(
        login_via(&app, &["2001:db8:1:3::1"], "wrong-password").await,
        401,
        "invalid_credentials",
    )
    .await;
}

backend_tests!(
    a_forged_forwarded_for_line_is_not_believed_nor_escapes_the_rate_limit,
    an_ipv4_mapped_hop_is_stored_as_ipv4,
    an_ipv4_peer_of_an_ipv6_listener_is_ipv4,
    forwarded_hops_with_ports_are_stored_without_them,
    addresses_of_one_ipv6_64_share_one_login_budget,
);
