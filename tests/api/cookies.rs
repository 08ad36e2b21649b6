//! Cookie mode (HttpOnly cookies, the CSRF header) and CORS.

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

/// The `Set-Cookie` header whose cookie is `name`.
fn set_cookie(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(header: &str) -> String {
    let pair = header.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

async fn cookie_login(app: &TestApp) -> (String, String) {
    let body = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "cookie": true });
    let resp = app.post_json("/auth/login", &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let access = set_cookie(&resp, "access_token").expect("access cookie");
    let refresh = set_cookie(&resp, "refresh_token").expect("refresh cookie");
    // Cookie mode keeps the tokens out of the body, where a script could read them.
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("access_token").is_none(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["session_id"].is_string() && body["user"]["email"].is_string());
    (access, refresh)
}

fn with_cookie(req: RequestBuilder, name: &str, value: &str) -> RequestBuilder {
    req.header("cookie", format!("{name}={value}"))
}

/// A POST authenticated by the cookie `name`, with the CSRF header.
async fn post_with_cookie(app: &TestApp, path: &str, name: &str, value: &str) -> Response {
    with_cookie(app.client.post(app.url(path)), name, value)
        .header("x-requested-with", "tokenward")
        .send()
        .await
        .unwrap()
}

/// Both token cookies are cleared, on the paths they were set with.
fn assert_cookies_cleared(resp: &Response) {
    for (name, path) in [
        ("access_token", "Path=/"),
        ("refresh_token", "Path=/auth/refresh"),
    ] {
        let cleared = set_cookie(resp, name).unwrap_or_else(|| panic!("{name} cleared"));
        assert_eq!(cookie_value(&cleared), "", "{cleared}");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert!(cleared.contains(path), "{cleared}");
    }
}

async fn login_with_cookie_true_sets_httponly_strict_cookies(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(plain.headers().get("set-cookie").is_none());

    let (access, refresh) = cookie_login(&app).await;
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(access.contains(part), "{part} in {access}");
    }
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/auth/refresh",
        "Secure",
    ] {
        assert!(refresh.contains(part), "{part} in {refresh}");
    }
    let dev = spawn_app_with(backend, |s| s.cookie_secure = false).await;
    let (access, refresh) = cookie_login(&dev).await;
    assert!(!access.contains("Secure") && !refresh.contains("Secure"));
}

async fn the_access_cookie_authenticates_and_writes_need_the_csrf_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = cookie_login(&app).await;
    let token = cookie_value(&access);
    let get = with_cookie(
        app.client.get(app.url("/auth/validate")),
        "access_token",
        &token,
    );
    assert_eq!(get.send().await.unwrap().status(), StatusCode::OK);

    let ticket = with_cookie(
        app.client.post(app.url("/api/ws/token")),
        "access_token",
        &token,
    );
    assert_error(ticket.send().await.unwrap(), 403, "forbidden").await;
    let wrong = with_cookie(
        app.client.post(app.url("/api/ws/token")),
        "access_token",
        &token,
    )
    .header("x-requested-with", "XMLHttpRequest");
    assert_error(wrong.send().await.unwrap(), 403, "forbidden").await;
    let ok = with_cookie(
        app.client.post(app.url("/api/ws/token")),
        "access_token",
        &token,
    )
    .header("x-requested-with", "tokenward");
    let resp = ok.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 30);

    // No cookie and no header: still a 401, and a bearer needs no CSRF header.
    assert_error(
        app.client
            .post(app.url("/auth/logout"))
            .send()
            .await
            .unwrap(),
        401,
        "token_missing",
    )
    .await;
    let logout = with_cookie(
        app.client.post(app.url("/auth/logout")),
        "access_token",
        &token,
    );
    assert_error(logout.send().await.unwrap(), 403, "forbidden").await;
    let resp = post_with_cookie(&app, "/auth/logout", "access_token", &token).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_cookies_cleared(&resp);
    let get = with_cookie(
        app.client.get(app.url("/auth/validate")),
        "access_token",
        &token,
    );
    assert_error(get.send().await.unwrap(), 401, "token_revoked").await;
}

async fn refresh_reads_the_refresh_cookie_when_the_body_has_none(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, refresh) = cookie_login(&app).await;
    let token = cookie_value(&refresh);
    let no_csrf = with_cookie(
        app.client.post(app.url("/auth/refresh")),
        "refresh_token",
        &token,
    );
    assert_error(no_csrf.send().await.unwrap(), 403, "forbidden").await;

    let resp = post_with_cookie(&app, "/auth/refresh", "refresh_token", &token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let rotated = set_cookie(&resp, "refresh_token").expect("rotated refresh cookie");
    assert!(set_cookie(&resp, "access_token").is_some());
    assert!(!cookie_value(&rotated).is_empty() && cookie_value(&rotated) != token);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("access_token").is_none(), "{body}");

    // `{}` also falls back to the cookie; the old one is now reused.
    let resp = with_cookie(
        app.client.post(app.url("/auth/refresh")),
        "refresh_token",
        &token,
    )
    .header("x-requested-with", "tokenward")
    .json(&json!({}))
    .send()
    .await
    .unwrap();
    assert_error(resp, 401, "token_reused").await;
    // Without a cookie the body rules are unchanged.
    assert_error(
        app.client
            .post(app.url("/auth/refresh"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        app.post_json("/auth/refresh", &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn cors_allows_only_listed_origins_with_credentials(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.cors_origins = vec!["https://ward.example.org".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://ward.example.org").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let h = ok.headers();
    assert_eq!(
        h.get("access-control-allow-origin").unwrap(),
        "https://ward.example.org"
    );
    assert_eq!(h.get("access-control-allow-credentials").unwrap(), "true");
    assert_error(
        preflight("https://evil.example.com").await.unwrap(),
        403,
        "forbidden",
    )
    .await;

    let simple = app
        .client
        .get(app.url("/health/live"))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), StatusCode::OK);
    assert!(simple
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let none = spawn_app(backend).await;
    let resp = none
        .client
        .get(none.url("/health/live"))
        .header("origin", "https://ward.example.org")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

async fn logout_all_clears_the_cookies_and_revokes_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = cookie_login(&app).await;
    let token = cookie_value(&access);
    let other = app.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let resp = post_with_cookie(&app, "/auth/logout-all", "access_token", &token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_cookies_cleared(&resp);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["revoked_sessions"], 2, "{body}");
    assert_error(app.validate(&other.access).await, 401, "token_revoked").await;
}

backend_tests!(
    login_with_cookie_true_sets_httponly_strict_cookies,
    logout_all_clears_the_cookies_and_revokes_every_session,
    the_access_cookie_authenticates_and_writes_need_the_csrf_header,
    refresh_reads_the_refresh_cookie_when_the_body_has_none,
    cors_allows_only_listed_origins_with_credentials,
);
