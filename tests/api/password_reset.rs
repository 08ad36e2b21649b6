//! Admin password reset and the forced change that follows it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;
use crate::ws_client::*;

const NURSE: &str = "nurse@example.com";
const CHOSEN: &str = "Harbor-Thistle-904";
const OWN: &str = "Meadow-Falcon-Rivet-27";

async fn reset(app: &TestApp, admin: &str, uid: &str, body: Value) -> reqwest::Response {
    let path = format!("/admin/users/{uid}/password");
    app.post_auth(&path, admin, Some(&body)).await
}

async fn a_reset_ends_sessions_and_allows_only_the_password_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let uid = app.create_user(NURSE, &["user"]).await;
    let before = app.login_ok(NURSE, USER_PASSWORD).await;

    let resp = reset(&app, &admin, &uid, json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let temporary = resp.json::<Value>().await.unwrap()["temporary_password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(app.validate(&before.access).await, 401, "token_revoked").await;
    assert_error(
        app.login(NURSE, USER_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let events =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'password_reset'");
    assert_eq!(events, 1);

    // The next login is let in only as far as changing the password.
    let body: Value = app.login(NURSE, &temporary).await.json().await.unwrap();
    assert_eq!(body["password_change_required"], true, "{body}");
    assert_eq!(body["user"]["must_change_password"], true, "{body}");
    let t = tokens_of(&body);
    let me = app.get_auth("/auth/me", &t.access).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_error(
        app.validate(&t.access).await,
        403,
        "password_change_required",
    )
    .await;
    assert_error(
        app.get_auth("/auth/sessions", &t.access).await,
        403,
        "password_change_required",
    )
    .await;
    assert_error(
        app.post_auth("/api/ws/token", &t.access, None).await,
        403,
        "password_change_required",
    )
    .await;
    let introspected: Value = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&admin)
        .form(&[("token", t.access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected, json!({ "active": false }));

    // The change lifts the mark; the same token then works everywhere.
    let body = json!({ "current_password": temporary, "new_password": OWN });
    let resp = app
        .post_auth("/auth/password", &t.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    assert_eq!(
        app.get_auth("/auth/sessions", &t.access).await.status(),
        StatusCode::OK
    );
    let body: Value = app.login(NURSE, OWN).await.json().await.unwrap();
    assert!(body.get("password_change_required").is_none(), "{body}");
    assert_eq!(body["user"]["must_change_password"], false);
}

async fn an_admin_may_choose_the_temporary_password_within_the_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let uid = app.create_user(NURSE, &["user"]).await;
    let weak = reset(&app, &admin, &uid, json!({ "password": "short" })).await;
    let err = assert_error(weak, 422, "validation_failed").await;
    assert!(err["details"]["password"].is_array(), "{err}");
    assert_eq!(
        app.login(NURSE, USER_PASSWORD).await.status(),
        StatusCode::OK
    );
    let resp = reset(&app, &admin, &uid, json!({ "password": CHOSEN })).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let body: Value = app.login(NURSE, CHOSEN).await.json().await.unwrap();
    assert_eq!(body["password_change_required"], true);
    // A restricted admin is refused the admin routes too.
    let other = app
        .create_user("second-admin@example.com", &["admin"])
        .await;
    reset(&app, &admin, &other, json!({ "password": CHOSEN })).await;
    let body: Value = app
        .login("second-admin@example.com", CHOSEN)
        .await
        .json()
        .await
        .unwrap();
    let restricted = tokens_of(&body).access;
    assert_error(
        app.get_auth("/admin/users", &restricted).await,
        403,
        "password_change_required",
    )
    .await;
    // Unknown users and non-admins.
    assert_error(
        reset(&app, &admin, "999999", json!({})).await,
        404,
        "not_found",
    )
    .await;
    let nurse = tokens_of(&app.login(NURSE, CHOSEN).await.json().await.unwrap()).access;
    assert_error(
        reset(&app, &nurse, &uid, json!({})).await,
        403,
        "password_change_required",
    )
    .await;
}

async fn a_socket_of_a_reset_account_is_closed(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.ws_session_check_ms = 0).await;
    let admin = app.admin().await.access;
    let uid = app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut ws = app.ws_open(&t.access).await;
    reset(&app, &admin, &uid, json!({})).await;
    let (events, _) = expect_close(&mut ws, std::time::Duration::from_secs(2)).await;
    assert_eq!(events[0]["type"], "session.revoked");
    assert_eq!(events[0]["reason"], "admin");
}

async fn an_admin_cannot_reset_their_own_password_there(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let me: Value = app.get_auth("/auth/me", &admin).await.json().await.unwrap();
    let own = me["id"].as_str().unwrap();
    let body = assert_error(
        reset(&app, &admin, own, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["details"]["id"][0]
        .as_str()
        .unwrap()
        .contains("/auth/password"));
    // Nothing changed: the session lives and the password still works.
    assert_eq!(app.validate(&admin).await.status(), StatusCode::OK);
    app.admin().await;
}

backend_tests!(
    an_admin_cannot_reset_their_own_password_there,
    a_reset_ends_sessions_and_allows_only_the_password_change,
    an_admin_may_choose_the_temporary_password_within_the_policy,
    a_socket_of_a_reset_account_is_closed,
);
