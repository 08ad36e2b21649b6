//! Malformed input of every kind gets the contract's error body, never a 500.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

async fn malformed_bodies_get_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let post = |body: &'static str, ct: Option<&'static str>| {
        let mut req = app.client.post(app.url("/auth/login")).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    assert_error(
        post("{\"email\": ", Some("application/json"))
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        post("", Some("application/json")).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(post("", None).await.unwrap(), 400, "invalid_request").await;
    assert_error(
        post("[1,2]", Some("application/json")).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        post("{} {}", Some("application/json")).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        post(
            "email=a&password=b",
            Some("application/x-www-form-urlencoded"),
        )
        .await
        .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        post("hello", Some("text/plain")).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        post("<login/>", Some("application/xml")).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        post("{\"email\":\"a\",\"password\":\"b\"}", None)
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let big = format!(
        "{{\"email\":\"a@b.c\",\"password\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_error(resp, 413, "payload_too_large").await;
    // Charset parameters are fine.
    let resp = post(
        "{\"email\":\"a@b.c\",\"password\":\"nope\"}",
        Some("application/json; charset=utf-8"),
    )
    .await
    .unwrap();
    assert_error(resp, 401, "invalid_credentials").await;
}

async fn unknown_routes_and_methods_get_404_and_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
    // Every 405 says which methods the path serves (RFC 9110).
    let cases = [
        (reqwest::Method::GET, "/auth/login", "POST"),
        (reqwest::Method::DELETE, "/auth/validate", "GET"),
        (reqwest::Method::TRACE, "/auth/me", "GET"),
        (
            reqwest::Method::PUT,
            "/admin/tokens/sessions/1",
            "GET, DELETE",
        ),
        (reqwest::Method::POST, "/admin/users/1", "GET, PATCH"),
    ];
    for (method, path, allow) in cases {
        let resp = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        let header = resp
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header.as_deref(), Some(allow), "{path}");
        assert_error(resp, 405, "method_not_allowed").await;
    }
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert!(!resp.headers()["x-request-id"].is_empty());
    let resp = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-abc-123");
    let resp = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn hostile_strings_in_every_field_are_stored_or_refused_never_executed(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let hostile = [
        "' OR '1'='1",
        "admin@example.com'; DROP TABLE users; --",
        "\"; DELETE FROM tokens; --",
        "Robert'); DROP TABLE sessions;--",
        "😀👩‍⚕️ ünïcödé ✓ 中文 עברית",
        "\u{202e}evil",
        "%00%27",
    ];
    for s in hostile {
        assert_error(app.login(s, s).await, 401, "invalid_credentials").await;
        assert_error(app.refresh(s).await, 401, "token_invalid").await;
        let resp = app
            .client
            .post(app.url("/auth/login"))
            .header(
                "user-agent",
                reqwest::header::HeaderValue::from_bytes(s.as_bytes()).unwrap(),
            )
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_name": s }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "device name {s:?}");
        let body = json!({ "email": "ok@example.com", "password": "Quarry-Lantern-58x", "full_name": s, "roles": ["user"] });
        let resp = app
            .post_auth("/admin/users", &admin.access, Some(&body))
            .await;
        assert!(
            matches!(resp.status().as_u16(), 201 | 409),
            "full name {s:?}"
        );
        let resp = app
            .get_auth(&format!("/auth/sessions/{}", urlencode(s)), &admin.access)
            .await;
        assert!(matches!(resp.status().as_u16(), 404 | 405));
        let resp = app
            .delete_auth(&format!("/auth/sessions/{}", urlencode(s)), &admin.access)
            .await;
        assert_error(resp, 404, "not_found").await;
    }
    // NUL characters are refused, not sent to the database.
    let resp = app
        .post_json(
            "/auth/login",
            &json!({ "email": "a\u{0}b", "password": "x" }),
        )
        .await;
    assert_error(resp, 422, "validation_failed").await;
    let resp = app
        .post_json(
            "/auth/login",
            &json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_name": "\u{0}" }),
        )
        .await;
    assert_error(resp, 422, "validation_failed").await;
    // Everything is still there, stored verbatim.
    assert_eq!(app.sql_i64("SELECT COUNT(*) AS n FROM users"), 2);
    let list: Vec<Value> = app
        .get_auth("/auth/sessions", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let devices: Vec<&str> = list
        .iter()
        .filter_map(|s| s["device_name"].as_str())
        .collect();
    assert!(devices.contains(&"😀👩‍⚕️ ünïcödé ✓ 中文 עברית"));
    assert!(devices.contains(&"Robert'); DROP TABLE sessions;--"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Words a parser or validator would use, and Rust type names: none may reach a client.
const LIBRARY_WORDS: &[&str] = &[
    "invalid type",
    "expected ",
    "struct ",
    "line 1",
    "column",
    "String",
    "i64",
    "u32",
    "u64",
    "Vec<",
    "Option<",
    "serde",
];

async fn wrong_types_on_every_json_route_get_the_projects_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let uid = app.create_user("nurse@example.com", &["user"]).await;
    // Each JSON route with the fields it takes.
    let routes: Vec<(reqwest::Method, String, bool, &[&str])> = vec![
        (
            reqwest::Method::POST,
            "/auth/login".into(),
            false,
            &["email", "password", "device_name", "cookie", "device_token"],
        ),
        (
            reqwest::Method::POST,
            "/auth/verify-2fa".into(),
            false,
            &["challenge_token", "code", "cookie", "remember_device"],
        ),
        (
            reqwest::Method::POST,
            "/auth/refresh".into(),
            false,
            &["refresh_token"],
        ),
        (
            reqwest::Method::POST,
            "/auth/password".into(),
            true,
            &["current_password", "new_password"],
        ),
        (
            reqwest::Method::POST,
            "/auth/2fa/enable".into(),
            true,
            &["code", "password"],
        ),
        (
            reqwest::Method::POST,
            "/auth/2fa/disable".into(),
            true,
            &["password", "code"],
        ),
        (
            reqwest::Method::POST,
            "/auth/2fa/recovery-codes".into(),
            true,
            &["password", "code"],
        ),
        (
            reqwest::Method::POST,
            "/admin/users".into(),
            true,
            &["email", "password", "full_name", "roles"],
        ),
        (
            reqwest::Method::PATCH,
            format!("/admin/users/{uid}"),
            true,
            &["is_active", "roles", "full_name"],
        ),
        (
            reqwest::Method::POST,
            format!("/admin/users/{uid}/password"),
            true,
            &["password"],
        ),
        (
            reqwest::Method::POST,
            "/admin/tokens/revoke".into(),
            true,
            &["token", "jti"],
        ),
        (
            reqwest::Method::POST,
            "/admin/notifications".into(),
            true,
            &["user_id", "message"],
        ),
    ];
    let odd = [
        json!(null),
        json!(0),
        json!("x"),
        json!([]),
        json!(true),
        json!({}),
        json!(1.5),
    ];
    for (method, path, auth, fields) in &routes {
        let mut bodies: Vec<Value> = odd.to_vec();
        for field in *fields {
            for value in &odd {
                bodies.push(json!({ *field: value }));
            }
        }
        for body in bodies {
            let mut req = app
                .client
                .request(method.clone(), app.url(path))
                .json(&body);
            if *auth {
                req = req.bearer_auth(&admin.access);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            // Some combinations are valid (a broadcast, an edit): never a 5xx.
            assert!(status < 500, "{method} {path} {body}: {status} {text}");
            for word in LIBRARY_WORDS {
                assert!(
                    !text.contains(word),
                    "{method} {path} {body}: {status} says {word:?}: {text}"
                );
            }
        }
    }
}

async fn refusals_name_what_is_really_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    // JSON to a form endpoint.
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let resp = app
            .client
            .post(app.url(path))
            .bearer_auth(&admin.access)
            .json(&json!({ "token": "x" }))
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, 415, "unsupported_media_type").await;
        assert!(body["message"].as_str().unwrap().contains("form"), "{body}");
    }
    // A cookie-authenticated write without the CSRF header.
    let login = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "cookie": true });
    let resp = app.post_json("/auth/login", &login).await;
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("access_token="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let resp = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("X-Requested-With"),
        "{body}"
    );
    // A spent WebSocket ticket.
    let ticket = app.ws_ticket(&admin.access).await;
    let first = app.ws_try(&ticket).await;
    assert!(first.is_ok());
    let Err(again) = app.ws_try(&ticket).await else {
        panic!("a spent ticket upgraded")
    };
    assert_eq!(again.status, 401);
    assert_eq!(again.body["error"], "token_revoked");
    assert!(
        again.body["message"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{:?}",
        again.body
    );
}

/// A NUL byte in a header never reaches a route: HTTP refuses the head with
/// a bare 400 and closes that connection; the server serves the next one.
async fn a_nul_byte_in_a_header_is_refused_and_the_server_goes_on(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!("GET /auth/me HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {admin}\r\nX-Ward: a\0b\r\n\r\n");
    raw.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        raw.read_to_end(&mut answer),
    );
    read.await.expect("the connection is closed").unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert_eq!(
        app.get_auth("/auth/me", &admin).await.status(),
        StatusCode::OK
    );
}

backend_tests!(
    a_nul_byte_in_a_header_is_refused_and_the_server_goes_on,
    refusals_name_what_is_really_wrong,
    wrong_types_on_every_json_route_get_the_projects_words,
    malformed_bodies_get_clear_errors,
    unknown_routes_and_methods_get_404_and_405,
    every_response_carries_a_request_id,
    hostile_strings_in_every_field_are_stored_or_refused_never_executed,
);
