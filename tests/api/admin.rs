//! `POST /admin/users`: admin only, validation, conflicts, audit.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

async fn an_admin_creates_a_user_who_can_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let body = json!({
        "email": "Nurse.Joy@Example.com",
        "password": "Sturdy-Quokka-481",
        "full_name": "Joy Ñúñez 看護師",
        "roles": ["user", "ward-3"],
    });
    let resp = app
        .post_auth("/admin/users", &admin.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["email"], "nurse.joy@example.com");
    assert_eq!(user["full_name"], "Joy Ñúñez 看護師");
    assert_eq!(user["roles"], json!(["user", "ward-3"]));
    assert_eq!(user["is_active"], true);
    assert_eq!(user["two_factor_enabled"], false);
    assert!(user["id"].is_string());
    assert!(user["last_login_at"].is_null());
    app.login_ok("nurse.joy@example.com", "Sturdy-Quokka-481")
        .await;
    let audit = app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'user_created' AND details LIKE '%actor_id%'");
    assert_eq!(audit, 1);
    // Same email in another case: conflict.
    let again = json!({ "email": "NURSE.JOY@example.com", "password": "Sturdy-Quokka-481" });
    assert_error(
        app.post_auth("/admin/users", &admin.access, Some(&again))
            .await,
        409,
        "conflict",
    )
    .await;
    // No roles given: plain user.
    let plain = json!({ "email": "porter@example.com", "password": "Sturdy-Quokka-481" });
    let user: Value = app
        .post_auth("/admin/users", &admin.access, Some(&plain))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["roles"], json!(["user"]));
}

async fn only_admins_may_create_users(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let nurse = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let body = json!({ "email": "x@example.com", "password": "Quarry-Lantern-58x" });
    assert_error(
        app.post_auth("/admin/users", &nurse.access, Some(&body))
            .await,
        403,
        "forbidden",
    )
    .await;
    let anonymous = app.post_json("/admin/users", &body).await;
    assert_error(anonymous, 401, "token_missing").await;
    // The token check wins over a bad body.
    let resp = app
        .client
        .post(app.url("/admin/users"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
}

async fn user_fields_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "Quarry-Lantern-58x" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "x".repeat(73) }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "Quarry-Lantern-58x", "roles": ["Admin"] }),
            "roles",
        ),
        (
            json!({ "email": "a@example.com", "password": "Quarry-Lantern-58x", "roles": ["x'; DROP TABLE users; --"] }),
            "roles",
        ),
        (
            json!({ "email": "a@example.com", "password": "Quarry-Lantern-58x", "full_name": "a\u{0}b" }),
            "full_name",
        ),
        (
            json!({ "email": "a@example.com", "password": "Quarry-Lantern-58x", "roles": "admin" }),
            "roles",
        ),
        (json!({ "password": "Quarry-Lantern-58x" }), "email"),
        (
            json!({ "email": "a@example.com", "password": "Quarry-Lantern-58x", "is_admin": true }),
            "is_admin",
        ),
    ];
    for (body, field) in cases {
        let resp = app
            .post_auth("/admin/users", &admin.access, Some(&body))
            .await;
        let err = assert_error(resp, 422, "validation_failed").await;
        assert!(err["details"][field].is_array(), "{field} in {err}");
    }
    let users = app.sql_i64("SELECT COUNT(*) AS n FROM users");
    assert_eq!(users, 1);
}

backend_tests!(
    an_admin_creates_a_user_who_can_log_in,
    only_admins_may_create_users,
    user_fields_are_validated,
);
