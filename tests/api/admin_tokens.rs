//! `/admin/tokens/*`: a user's sessions, ending them, revoking one token, metrics.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

async fn jti_of(app: &TestApp, access: &str) -> String {
    let body: Value = app.validate(access).await.json().await.unwrap();
    body["token_id"].as_str().unwrap().to_string()
}

async fn admins_list_and_end_every_session_of_a_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("ward@example.com", &["user"]).await;
    let first = app.login_ok("ward@example.com", USER_PASSWORD).await;
    let second = app.login_ok("ward@example.com", USER_PASSWORD).await;
    let admin = app.admin().await;
    let path = format!("/admin/tokens/sessions/{id}");
    let resp = app.get_auth(&path, &admin.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Value = resp.json().await.unwrap();
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for s in &list {
        assert!(s["id"].is_string() && s["created_at"].is_string() && s["expires_at"].is_string());
        assert!(s.get("current").is_none(), "{s}");
        assert!(s.get("ip_address").is_some() && s.get("device_name").is_some());
    }
    assert!(!Value::Array(list).to_string().contains("hash"));

    let resp = app.delete_auth(&path, &admin.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let counts: Value = resp.json().await.unwrap();
    assert_eq!(
        counts,
        json!({ "revoked_sessions": 2, "revoked_tokens": 4 })
    );
    for t in [&first, &second] {
        assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
    }
    let admin_reason = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE user_id = {id} AND revoked_reason = 'admin'"
    ));
    assert_eq!(admin_reason, 4);
    let empty: Value = app
        .get_auth(&path, &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty, json!([]));
    // The admin's own session is untouched.
    assert_eq!(app.validate(&admin.access).await.status(), StatusCode::OK);
    for missing in ["/admin/tokens/sessions/31337", "/admin/tokens/sessions/x"] {
        assert_error(app.get_auth(missing, &admin.access).await, 404, "not_found").await;
        assert_error(
            app.delete_auth(missing, &admin.access).await,
            404,
            "not_found",
        )
        .await;
    }
}

async fn admins_revoke_one_token_by_value_or_by_jti(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("temp@example.com", &["user"]).await;
    let admin = app.admin().await;
    let revoke = |body: Value| {
        let token = admin.access.clone();
        let app = &app;
        async move {
            app.post_auth("/admin/tokens/revoke", &token, Some(&body))
                .await
        }
    };
    let answer = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["revoked"].clone()
    };

    let by_jti = app.login_ok("temp@example.com", USER_PASSWORD).await;
    let jti = jti_of(&app, &by_jti.access).await;
    assert_eq!(answer(revoke(json!({ "jti": jti })).await).await, true);
    assert_eq!(answer(revoke(json!({ "jti": jti })).await).await, false);
    assert_error(app.validate(&by_jti.access).await, 401, "token_revoked").await;

    let by_value = app.login_ok("temp@example.com", USER_PASSWORD).await;
    let refresh = by_value.refresh.clone();
    assert_eq!(
        answer(revoke(json!({ "token": refresh })).await).await,
        true
    );
    assert_error(app.refresh(&by_value.refresh).await, 401, "token_revoked").await;
    // Its access token was not named, so it still works.
    assert_eq!(
        app.validate(&by_value.access).await.status(),
        StatusCode::OK
    );

    assert_eq!(
        answer(revoke(json!({ "token": "no-such-token" })).await).await,
        false
    );
    assert_eq!(
        answer(revoke(json!({ "jti": "no-such-jti" })).await).await,
        false
    );
    let audited = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'token_revoked' AND user_id = {id}"
    ));
    assert_eq!(audited, 2);
    let admin_reason =
        app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE revoked_reason = 'admin'");
    assert_eq!(admin_reason, 2);
    let bad = [
        json!({}),
        json!({ "token": "a", "jti": "b" }),
        json!({ "jti": "" }),
        json!({ "jti": 42 }),
        json!({ "token_hash": "a" }),
    ];
    for body in bad {
        assert_error(revoke(body).await, 422, "validation_failed").await;
    }
}

async fn metrics_count_todays_activity_and_the_live_totals(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("metric@example.com", &["user"]).await; // admin login: 2 tokens
    let admin = app.admin().await; // 2 tokens
    let user = app.login_ok("metric@example.com", USER_PASSWORD).await; // 2 tokens
    let rotated = app.refresh(&user.refresh).await; // 2 tokens; rotation is not a revocation
    let rotated = tokens_of(&rotated.json::<Value>().await.unwrap());
    assert_error(
        app.login("metric@example.com", "wrong-pass").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.login("nobody@example.com", "wrong-pass").await,
        401,
        "invalid_credentials",
    )
    .await;
    // Logout revokes the session's live tokens: both access tokens and the new refresh.
    let resp = app.post_auth("/auth/logout", &rotated.access, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Yesterday's token does not count as today's.
    let yesterday = (Utc::now().naive_utc() - Duration::days(1)).format("%Y-%m-%d %H:%M:%S");
    app.sql(&format!(
        "INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, created_at, expires_at) \
         VALUES ('old', 'old-hash', 'access', 1, '{ADMIN_EMAIL}', '{yesterday}', '{yesterday}')"
    ));
    let resp = app.get_auth("/admin/tokens/metrics", &admin.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let metrics: Value = resp.json().await.unwrap();
    assert_eq!(
        metrics,
        json!({
            "tokens_created_today": 8,
            "tokens_refreshed_today": 1,
            "tokens_revoked_today": 3,
            "active_sessions": 2,
            "active_tokens": 4,
            "failed_logins_today": 2,
        })
    );
}

/// (the user's live sessions as an admin lists them, `active_sessions`).
async fn live_counts(app: &TestApp, admin: &str, uid: &str) -> (usize, i64) {
    let path = format!("/admin/tokens/sessions/{uid}");
    let list: Value = app.get_auth(&path, admin).await.json().await.unwrap();
    let metrics: Value = app
        .get_auth("/admin/tokens/metrics", admin)
        .await
        .json()
        .await
        .unwrap();
    let active = metrics["active_sessions"].as_i64().unwrap();
    (list.as_array().unwrap().len(), active)
}

async fn failed_today(app: &TestApp, admin: &str) -> i64 {
    let m: Value = app
        .get_auth("/admin/tokens/metrics", admin)
        .await
        .json()
        .await
        .unwrap();
    m["failed_logins_today"].as_i64().unwrap()
}

async fn sessions_revoked_by_plain_sql_are_not_counted_as_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let uid = app.create_user("nurse@example.com", &["user"]).await;
    app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let before = live_counts(&app, &admin, &uid).await;
    assert_eq!(before.0, 1);
    // The monitoring statement an admin runs by hand.
    app.sql("UPDATE tokens SET revoked = true WHERE user_email = 'nurse@example.com'");
    let after = live_counts(&app, &admin, &uid).await;
    assert_eq!(after.0, 0, "a session with no live token is not live");
    assert_eq!(before.1 - after.1, 1, "nor counted among active sessions");
}

async fn failed_logins_today_count_both_factors(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    crate::two_factor::enrolled(&app).await;
    app.login("nurse@example.com", "wrong-password").await;
    assert_eq!(failed_today(&app, &admin).await, 1);
    let body: Value = app
        .login("nurse@example.com", USER_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let ch = body["challenge_token"].as_str().unwrap();
    let body = json!({ "challenge_token": ch, "code": "000000" });
    app.post_json("/auth/verify-2fa", &body).await;
    let after = failed_today(&app, &admin).await;
    assert_eq!(after, 2, "a wrong second factor is a failed login too");
}

backend_tests!(
    sessions_revoked_by_plain_sql_are_not_counted_as_live,
    failed_logins_today_count_both_factors,
    admins_list_and_end_every_session_of_a_user,
    admins_revoke_one_token_by_value_or_by_jti,
    metrics_count_todays_activity_and_the_live_totals,
);
