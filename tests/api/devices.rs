//! Remember this device: a second factor once, then logins with the right
//! password skip it on that device until something voids it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;
use crate::two_factor::{challenge, codes_of, enrolled};

const NURSE: &str = "nurse@example.com";

/// Answers a fresh challenge with recovery code `code`, remembering the device.
async fn remember(app: &TestApp, code: &str) -> (Tokens, String) {
    remember_with(app, USER_PASSWORD, code).await
}

/// The same, for an account whose password is now `password`.
async fn remember_with(app: &TestApp, password: &str, code: &str) -> (Tokens, String) {
    let ch = if password == USER_PASSWORD {
        challenge(app).await
    } else {
        let body = json!({ "email": NURSE, "password": password });
        let body: Value = app
            .post_json("/auth/login", &body)
            .await
            .json()
            .await
            .unwrap();
        body["challenge_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string()
    };
    let body = json!({ "challenge_token": ch, "code": code, "remember_device": true });
    let resp = app.post_json("/auth/verify-2fa", &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let device = body["device_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    (tokens_of(&body), device)
}

async fn login_with(app: &TestApp, password: &str, device: &str) -> Value {
    let body = json!({ "email": NURSE, "password": password, "device_token": device });
    app.post_json("/auth/login", &body)
        .await
        .json()
        .await
        .unwrap()
}

/// Remembered devices not revoked, of every user.
fn live_devices(app: &TestApp) -> i64 {
    app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'device' AND revoked = false")
}

fn skipped(body: &Value) -> bool {
    body["access_token"].is_string() && body.get("two_factor_required").is_none()
}

async fn a_remembered_device_skips_the_challenge_and_can_be_forgotten(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, codes) = enrolled(&app).await;
    let (t, device) = remember(&app, &codes[0]).await;
    let body = login_with(&app, USER_PASSWORD, &device).await;
    assert!(skipped(&body), "{body}");
    let audited = app.sql_i64(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'login_succeeded' \
         AND details LIKE '%remembered_device%'",
    );
    assert_eq!(audited, 1);
    // A wrong password with the device token is a failed login as usual.
    let wrong = login_with(&app, "wrong-password", &device).await;
    assert_eq!(wrong["error"], "invalid_credentials", "{wrong}");
    // Listed, then deleted: the next login asks again.
    let list: Value = app
        .get_auth("/auth/devices", &t.access)
        .await
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap();
    assert!(list[0]["last_used_at"].is_string(), "{list:?}");
    let stored = app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'device'");
    assert_eq!(stored, 1);
    assert_error(
        app.delete_auth("/auth/devices/999999", &t.access).await,
        404,
        "not_found",
    )
    .await;
    let resp = app
        .delete_auth(&format!("/auth/devices/{id}"), &t.access)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let body = login_with(&app, USER_PASSWORD, &device).await;
    assert_eq!(body["two_factor_required"], true, "{body}");
    let list: Value = app
        .get_auth("/auth/devices", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

async fn another_users_device_token_or_a_forged_one_is_no_help(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, codes) = enrolled(&app).await;
    let (_, device) = remember(&app, &codes[0]).await;
    // Another account with 2FA cannot use the nurse's device token.
    let admin = app.admin().await;
    let setup: Value = app
        .post_auth("/auth/2fa/setup", &admin.access, None)
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap();
    let body = json!({ "code": crate::totp::code_now(secret, 0), "password": ADMIN_PASSWORD });
    let resp = app
        .post_auth("/auth/2fa/enable", &admin.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_token": device });
    let body: Value = app
        .post_json("/auth/login", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["two_factor_required"], true, "{body}");
    let forged = login_with(&app, USER_PASSWORD, "not-a-device-token").await;
    assert_eq!(forged["two_factor_required"], true, "{forged}");
}

async fn password_change_2fa_off_admin_reset_and_disable_each_void_devices(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let (secret, codes) = enrolled(&app).await;
    let uid = app.sql_i64("SELECT id AS n FROM users WHERE email = 'nurse@example.com'");
    // Password change.
    let (t, device) = remember(&app, &codes[0]).await;
    let new = "Granite-Kestrel-Loom-31";
    let body = json!({ "current_password": USER_PASSWORD, "new_password": new });
    app.post_auth("/auth/password", &t.access, Some(&body))
        .await;
    assert!(
        !skipped(&login_with(&app, new, &device).await),
        "password change keeps the device"
    );
    // An admin reset of the second factor.
    let (_, device) = remember_with(&app, new, &codes[1]).await;
    let resp = app
        .delete_auth(&format!("/admin/users/{uid}/2fa"), &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let left = live_devices(&app);
    assert_eq!(left, 0, "2FA reset keeps a device");
    let _ = device;
    // An admin password reset: 2FA on again, a device remembered, then the reset.
    let _ = secret;
    let (_, codes2) = reenroll(&app, new).await;
    let (_, device) = remember_with(&app, new, &codes2[0]).await;
    let reset = format!("/admin/users/{uid}/password");
    let resp = app
        .post_auth(
            &reset,
            &admin,
            Some(&json!({ "password": "Osprey-Lattice-Drum-66" })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(
        !skipped(&login_with(&app, "Osprey-Lattice-Drum-66", &device).await),
        "admin reset keeps the device"
    );
    let left = live_devices(&app);
    assert_eq!(left, 0);
    let reasons = app.sql_i64(
        "SELECT COUNT(DISTINCT revoked_reason) AS n FROM tokens WHERE token_type = 'device'",
    );
    assert_eq!(reasons, 3, "password_change, two_factor_off, admin");
}

/// Turns 2FA on again for the nurse (after an admin reset), logging in with `password`.
async fn reenroll(app: &TestApp, password: &str) -> (String, Vec<String>) {
    let t = app.login_ok(NURSE, password).await;
    let setup: Value = app
        .post_auth("/auth/2fa/setup", &t.access, None)
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    let body = json!({ "code": crate::totp::code_now(&secret, 0), "password": password });
    let resp = app
        .post_auth("/auth/2fa/enable", &t.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    (secret, codes_of(&body))
}

async fn disabling_the_account_voids_its_devices(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let (_, codes) = enrolled(&app).await;
    let uid = app.sql_i64("SELECT id AS n FROM users WHERE email = 'nurse@example.com'");
    remember(&app, &codes[0]).await;
    let path = format!("/admin/users/{uid}");
    let resp = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .json(&json!({ "is_active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let left = live_devices(&app);
    assert_eq!(left, 0);
}

async fn a_user_keeps_at_most_ten_devices(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, codes) = enrolled(&app).await;
    let (_, first) = remember(&app, &codes[0]).await;
    let mut last = None;
    for code in &codes[1..10] {
        last = Some(remember(&app, code).await);
    }
    assert_eq!(live_devices(&app), 10);
    assert!(
        skipped(&login_with(&app, USER_PASSWORD, &first).await),
        "ten are kept"
    );
    // New recovery codes for an eleventh device, which pushes out the oldest.
    let (t, _) = last.unwrap();
    let body = json!({ "password": USER_PASSWORD, "code": crate::totp::code_now(&secret, 1) });
    let body: Value = app
        .post_auth("/auth/2fa/recovery-codes", &t.access, Some(&body))
        .await
        .json()
        .await
        .unwrap();
    let fresh = body["recovery_codes"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    remember(&app, fresh).await;
    assert_eq!(live_devices(&app), 10);
    assert!(
        !skipped(&login_with(&app, USER_PASSWORD, &first).await),
        "the oldest went"
    );
}

async fn with_zero_days_no_device_is_remembered(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.remember_device_days = 0).await;
    let (_, codes) = enrolled(&app).await;
    let ch = challenge(&app).await;
    let body = json!({ "challenge_token": ch, "code": codes[0], "remember_device": true });
    let body: Value = app
        .post_json("/auth/verify-2fa", &body)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("device_token").is_none(), "{body}");
    let stored = app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'device'");
    assert_eq!(stored, 0);
}

async fn in_cookie_mode_the_device_token_is_a_cookie_for_the_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, codes) = enrolled(&app).await;
    let ch = challenge(&app).await;
    let body = json!({
        "challenge_token": ch, "code": codes[0], "remember_device": true, "cookie": true,
    });
    let resp = app.post_json("/auth/verify-2fa", &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("device_token="))
        .expect("device cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/auth"),
        "{cookie}"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("device_token").is_none(), "{body}");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("device_token=")
        .to_string();
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .header("cookie", format!("device_token={value}"))
        .json(&json!({ "email": NURSE, "password": USER_PASSWORD }))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert!(skipped(&body), "{body}");
}

backend_tests!(
    a_remembered_device_skips_the_challenge_and_can_be_forgotten,
    another_users_device_token_or_a_forged_one_is_no_help,
    password_change_2fa_off_admin_reset_and_disable_each_void_devices,
    disabling_the_account_voids_its_devices,
    a_user_keeps_at_most_ten_devices,
    with_zero_days_no_device_is_remembered,
    in_cookie_mode_the_device_token_is_a_cookie_for_the_login,
);
