//! Logout, logout-all, session lists, ending one session, password change,
//! and the client IP rules.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

async fn logout_revokes_the_access_and_refresh_tokens_of_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let kept = app.admin().await;
    let t = app.admin().await;
    let resp = app.post_auth("/auth/logout", &t.access, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
    assert_error(app.refresh(&t.refresh).await, 401, "token_revoked").await;
    assert_error(
        app.post_auth("/auth/logout", &t.access, None).await,
        401,
        "token_revoked",
    )
    .await;
    assert_eq!(app.validate(&kept.access).await.status(), StatusCode::OK);
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE revoked_reason = 'logout'");
    assert_eq!(n, 2);
}

async fn logout_all_ends_every_session_of_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let other_user = app.admin().await;
    let sessions = [
        app.login_ok("nurse@example.com", USER_PASSWORD).await,
        app.login_ok("nurse@example.com", USER_PASSWORD).await,
        app.login_ok("nurse@example.com", USER_PASSWORD).await,
    ];
    let resp = app
        .post_auth("/auth/logout-all", &sessions[0].access, None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "revoked_sessions": 3, "revoked_tokens": 6 }));
    for s in &sessions {
        assert_error(app.validate(&s.access).await, 401, "token_revoked").await;
        assert_error(app.refresh(&s.refresh).await, 401, "token_revoked").await;
    }
    assert_eq!(
        app.validate(&other_user.access).await.status(),
        StatusCode::OK
    );
}

async fn the_session_list_shows_live_sessions_with_ip_and_user_agent(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut tokens = Vec::new();
    for (agent, device) in [("Firefox/120", "Ward PC"), ("Safari/17", "Tablet")] {
        let resp = app
            .client
            .post(app.url("/auth/login"))
            .header("user-agent", agent)
            .json(
                &json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_name": device }),
            )
            .send()
            .await
            .unwrap();
        tokens.push(tokens_of(&resp.json::<Value>().await.unwrap()));
    }
    let ended = app.admin().await;
    app.post_auth("/auth/logout", &ended.access, None).await;

    let list: Vec<Value> = app
        .get_auth("/auth/sessions", &tokens[1].access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], tokens[1].session_id.as_str());
    assert_eq!(current[0]["user_agent"], "Safari/17");
    assert_eq!(current[0]["device_name"], "Tablet");
    for s in &list {
        assert_eq!(s["ip_address"], "127.0.0.1");
        for f in [
            "id",
            "created_at",
            "last_seen_at",
            "expires_at",
            "user_agent",
            "device_name",
            "current",
        ] {
            assert!(s.get(f).is_some(), "{f} in {s}");
        }
    }
}

async fn a_user_can_end_one_own_session_but_not_another_users(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let nurse = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let admin_a = app.admin().await;
    let admin_b = app.admin().await;
    // Another user's session, malformed and unknown ids: all 404.
    let path = format!("/auth/sessions/{}", admin_b.session_id);
    assert_error(
        app.delete_auth(&path, &nurse.access).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_auth("/auth/sessions/abc", &nurse.access).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_auth("/auth/sessions/999999", &nurse.access)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_auth("/auth/sessions/-1", &nurse.access).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_auth("/auth/sessions/99999999999999999999999", &nurse.access)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.validate(&admin_b.access).await.status(), StatusCode::OK);
    // Own session: ended, and only that one.
    let resp = app.delete_auth(&path, &admin_a.access).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.validate(&admin_b.access).await, 401, "token_revoked").await;
    assert_eq!(app.validate(&admin_a.access).await.status(), StatusCode::OK);
    assert_error(
        app.delete_auth(&path, &admin_a.access).await,
        404,
        "not_found",
    )
    .await;
}

async fn a_password_change_ends_the_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let other = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let me = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let wrong = json!({ "current_password": "not-it-at-all", "new_password": "brand-new-pass" });
    assert_error(
        app.post_auth("/auth/password", &me.access, Some(&wrong))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let short = json!({ "current_password": USER_PASSWORD, "new_password": "short" });
    let body = assert_error(
        app.post_auth("/auth/password", &me.access, Some(&short))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["details"]["new_password"].is_array());
    let too_long = json!({ "current_password": USER_PASSWORD, "new_password": "é".repeat(37) });
    assert_error(
        app.post_auth("/auth/password", &me.access, Some(&too_long))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let ok = json!({ "current_password": USER_PASSWORD, "new_password": "brand-new-pass" });
    let resp = app.post_auth("/auth/password", &me.access, Some(&ok)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.validate(&other.access).await, 401, "token_revoked").await;
    assert_eq!(app.validate(&me.access).await.status(), StatusCode::OK);
    assert_error(
        app.login("nurse@example.com", USER_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    app.login_ok("nurse@example.com", "brand-new-pass").await;
    let n =
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE revoked_reason = 'password_change'");
    assert_eq!(n, 2);
}

async fn forwarded_for_is_believed_only_from_a_trusted_proxy(backend: Backend) {
    let untrusted = spawn_app(backend).await;
    let trusted = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    for (app, expected) in [(&untrusted, "127.0.0.1"), (&trusted, "203.0.113.7")] {
        let resp = app
            .client
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        let t = tokens_of(&resp.json::<Value>().await.unwrap());
        let list: Vec<Value> = app
            .get_auth("/auth/sessions", &t.access)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list[0]["ip_address"], expected);
        let n = app.sql_i64(&format!(
            "SELECT COUNT(*) AS n FROM tokens WHERE ip_address = '{expected}'"
        ));
        assert_eq!(n, 2);
    }
}

/// The device name given at a login that ends in a 2FA challenge names the
/// session the challenge's answer starts; the label cannot be altered.
async fn a_two_factor_login_keeps_its_device_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, codes) = crate::two_factor::enrolled(&app).await;
    let login = |device: &'static str| {
        let body = json!({ "email": "nurse@example.com", "password": USER_PASSWORD, "device_name": device });
        let app = &app;
        async move {
            let resp = app.post_json("/auth/login", &body).await;
            let body: Value = resp.json().await.unwrap();
            body["challenge_token"].as_str().unwrap().to_string()
        }
    };
    let verify = |challenge: String, code: String| {
        let app = &app;
        async move {
            let body = json!({ "challenge_token": challenge, "code": code });
            app.post_json("/auth/verify-2fa", &body).await
        }
    };
    // A label swapped into the token makes it another, unknown, challenge.
    let challenge = login("Ward 3 PC").await;
    let (random, _) = challenge.split_once('.').unwrap();
    let forged = format!("{random}.{}", "T3BlcmF0aW5nIHRoZWF0cmU");
    let refused = verify(forged, codes[0].clone()).await;
    assert_error(refused, 401, "token_invalid").await;

    let answered = verify(challenge, codes[0].clone()).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let access = tokens_of(&answered.json::<Value>().await.unwrap()).access;
    let sessions: Value = app
        .get_auth("/auth/sessions", &access)
        .await
        .json()
        .await
        .unwrap();
    let current: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{sessions}");
    assert_eq!(current[0]["device_name"], "Ward 3 PC");
}

backend_tests!(
    a_two_factor_login_keeps_its_device_name,
    logout_revokes_the_access_and_refresh_tokens_of_the_session,
    logout_all_ends_every_session_of_the_user,
    the_session_list_shows_live_sessions_with_ip_and_user_agent,
    a_user_can_end_one_own_session_but_not_another_users,
    a_password_change_ends_the_other_sessions,
    forwarded_for_is_believed_only_from_a_trusted_proxy,
);
