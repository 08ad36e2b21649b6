//! TOTP second factor end to end: enroll, challenge, verify, replay, recovery
//! codes, wrong-code limits, lockout, disable, admin reset, rate limit.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;
use crate::totp::code_now;

const NURSE: &str = "nurse@example.com";

/// The `recovery_codes` of an answer.
pub fn codes_of(body: &Value) -> Vec<String> {
    body["recovery_codes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// Creates a user, enrolls TOTP; returns (secret, recovery codes).
pub async fn enrolled(app: &TestApp) -> (String, Vec<String>) {
    app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let setup = app.post_auth("/auth/2fa/setup", &t.access, None).await;
    assert_eq!(setup.status(), StatusCode::OK);
    let setup: Value = setup.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    let url = setup["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/tokenward:nurse%40example.com?"),
        "{url}"
    );
    assert!(url.contains(&format!("secret={secret}")));
    assert!(setup["qr_png_base64"].as_str().unwrap().len() > 100);
    let resp = app
        .post_auth(
            "/auth/2fa/enable",
            &t.access,
            Some(&json!({ "code": code_now(&secret, 0), "password": USER_PASSWORD })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let codes = codes_of(&body);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

pub async fn challenge(app: &TestApp) -> String {
    let resp = app.login(NURSE, USER_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["two_factor_required"], true);
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("access_token").is_none());
    body["challenge_token"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp, challenge: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/auth/verify-2fa",
        &json!({ "challenge_token": challenge, "code": code }),
    )
    .await
}

async fn enroll_login_challenge_verify_validate(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    let c = challenge(&app).await;
    let resp = verify(&app, &c, &code_now(&secret, 1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["two_factor_enabled"], true);
    let t = tokens_of(&body);
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    let me: Value = app
        .get_auth("/auth/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["two_factor_enabled"], true);
    for event in [
        "two_factor_setup",
        "two_factor_enabled",
        "two_factor_required",
        "two_factor_succeeded",
    ] {
        let n = app.sql_i64(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event = '{event}'"
        ));
        assert_eq!(n, 1, "{event}");
    }
    // The challenge is a stored token, hashed, of its own type.
    let n = app.sql_i64(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'challenge' AND revoked = true",
    );
    assert_eq!(n, 1);
}

async fn a_challenge_is_single_use_and_never_a_bearer_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    let c = challenge(&app).await;
    assert_error(app.validate(&c).await, 401, "token_invalid").await;
    assert_error(app.refresh(&c).await, 401, "token_invalid").await;
    assert_error(
        verify(&app, "no-such-challenge", &code_now(&secret, 1)).await,
        401,
        "token_invalid",
    )
    .await;
    assert_eq!(
        verify(&app, &c, &code_now(&secret, 1)).await.status(),
        StatusCode::OK
    );
    assert_error(
        verify(&app, &c, &code_now(&secret, 1)).await,
        401,
        "token_revoked",
    )
    .await;
}

async fn a_totp_code_is_accepted_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    let c1 = challenge(&app).await;
    assert_eq!(
        verify(&app, &c1, &code_now(&secret, 1)).await.status(),
        StatusCode::OK
    );
    let c2 = challenge(&app).await;
    // Same step again, and an older step: both refused.
    assert_error(
        verify(&app, &c2, &code_now(&secret, 1)).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        verify(&app, &c2, &code_now(&secret, -1)).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        verify(&app, &c2, "000000").await,
        401,
        "invalid_credentials",
    )
    .await;
    let failed =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'two_factor_failed'");
    assert_eq!(failed, 3);
}

async fn a_recovery_code_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, codes) = enrolled(&app).await;
    let c1 = challenge(&app).await;
    // Case and dashes do not matter.
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(verify(&app, &c1, &typed).await.status(), StatusCode::OK);
    let c2 = challenge(&app).await;
    assert_error(
        verify(&app, &c2, &codes[3]).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(verify(&app, &c2, &codes[4]).await.status(), StatusCode::OK);
    let used =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'recovery_code_used'");
    assert_eq!(used, 2);
    let stored = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM recovery_codes WHERE code_hash = '{}'",
        codes[5]
    ));
    assert_eq!(stored, 0, "codes are stored hashed");
}

async fn five_wrong_codes_kill_the_challenge_and_lock_the_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    let c = challenge(&app).await;
    for _ in 0..5 {
        assert_error(verify(&app, &c, "123456").await, 401, "invalid_credentials").await;
    }
    assert_error(
        verify(&app, &c, &code_now(&secret, 1)).await,
        401,
        "token_revoked",
    )
    .await;
    assert_error(app.login(NURSE, USER_PASSWORD).await, 423, "account_locked").await;
    // Once unlocked, a fresh challenge works.
    app.sql("UPDATE users SET locked_until = NULL, failed_login_count = 0");
    let c = challenge(&app).await;
    assert_eq!(
        verify(&app, &c, &code_now(&secret, 1)).await.status(),
        StatusCode::OK
    );
}

async fn an_expired_challenge_is_token_expired(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    let c = challenge(&app).await;
    app.sql("UPDATE tokens SET expires_at = '2000-01-01 00:00:00' WHERE token_type = 'challenge'");
    assert_error(
        verify(&app, &c, &code_now(&secret, 1)).await,
        401,
        "token_expired",
    )
    .await;
}

async fn disabling_needs_the_password_and_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, codes) = enrolled(&app).await;
    let c = challenge(&app).await;
    let t = tokens_of(
        &verify(&app, &c, &code_now(&secret, 1))
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    let wrong_pw = json!({ "password": "wrong-password", "code": code_now(&secret, 0) });
    assert_error(
        app.post_auth("/auth/2fa/disable", &t.access, Some(&wrong_pw))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let wrong_code = json!({ "password": USER_PASSWORD, "code": "999999" });
    assert_error(
        app.post_auth("/auth/2fa/disable", &t.access, Some(&wrong_code))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.post_auth(
            "/auth/2fa/disable",
            &t.access,
            Some(&json!({ "password": USER_PASSWORD })),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Every step within the window was spent above; a recovery code also proves possession.
    let ok = json!({ "password": USER_PASSWORD, "code": codes[0] });
    let resp = app
        .post_auth("/auth/2fa/disable", &t.access, Some(&ok))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM recovery_codes");
    assert_eq!(n, 0);
    let body: Value = app.login(NURSE, USER_PASSWORD).await.json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");
}

async fn setup_and_enable_refuse_out_of_order_calls(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    assert_error(
        app.post_auth(
            "/auth/2fa/enable",
            &t.access,
            Some(&json!({ "code": "123456", "password": USER_PASSWORD })),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let setup: Value = app
        .post_auth("/auth/2fa/setup", &t.access, None)
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap();
    assert_error(
        app.post_auth(
            "/auth/2fa/enable",
            &t.access,
            Some(&json!({ "code": "000000", "password": USER_PASSWORD })),
        )
        .await,
        401,
        "invalid_credentials",
    )
    .await;
    let resp = app
        .post_auth(
            "/auth/2fa/enable",
            &t.access,
            Some(&json!({ "code": code_now(secret, 0), "password": USER_PASSWORD })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error(
        app.post_auth("/auth/2fa/setup", &t.access, None).await,
        409,
        "conflict",
    )
    .await;
    assert_error(
        app.client
            .post(app.url("/auth/2fa/setup"))
            .send()
            .await
            .unwrap(),
        401,
        "token_missing",
    )
    .await;
}

async fn an_admin_resets_a_users_second_factor(backend: Backend) {
    let app = spawn_app(backend).await;
    enrolled(&app).await;
    let admin = app.admin().await;
    let id = app.sql_i64(&format!(
        "SELECT id AS n FROM users WHERE email = '{NURSE}'"
    ));
    let nurse_challenge = challenge(&app).await;
    assert_error(
        app.delete_auth(&format!("/admin/users/{id}/2fa"), &nurse_challenge)
            .await,
        401,
        "token_invalid",
    )
    .await;
    let resp = app
        .delete_auth(&format!("/admin/users/{id}/2fa"), &admin.access)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Idempotent, unknown ids 404.
    assert_eq!(
        app.delete_auth(&format!("/admin/users/{id}/2fa"), &admin.access)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete_auth("/admin/users/987654/2fa", &admin.access)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_auth("/admin/users/x/2fa", &admin.access).await,
        404,
        "not_found",
    )
    .await;
    let nurse = app.login_ok(NURSE, USER_PASSWORD).await;
    assert_error(
        app.delete_auth(&format!("/admin/users/{id}/2fa"), &nurse.access)
            .await,
        403,
        "forbidden",
    )
    .await;
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'two_factor_reset' AND details LIKE '%actor_id%'");
    assert_eq!(n, 2);
}

async fn login_and_verify_are_rate_limited_per_ip(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_rate_limit = 3).await;
    for _ in 0..2 {
        assert_error(
            app.login("nobody@example.com", "x").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(
        verify(&app, "whatever", "123456").await,
        401,
        "token_invalid",
    )
    .await;
    let resp = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_error(resp, 429, "too_many_requests").await;
    assert_error(
        verify(&app, "whatever", "123456").await,
        429,
        "too_many_requests",
    )
    .await;
    // Other routes are not limited.
    assert_eq!(
        app.client
            .get(app.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

async fn enabling_needs_the_password_and_counts_a_wrong_one(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.lockout_threshold = 2).await;
    app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let setup: Value = app
        .post_auth("/auth/2fa/setup", &t.access, None)
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    let body = json!({ "code": code_now(&secret, 0) });
    let err = assert_error(
        app.post_auth("/auth/2fa/enable", &t.access, Some(&body))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err["details"]["password"].is_array(), "{err}");
    let wrong = json!({ "code": code_now(&secret, 0), "password": "not-the-password" });
    for _ in 0..2 {
        assert_error(
            app.post_auth("/auth/2fa/enable", &t.access, Some(&wrong))
                .await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Two wrong passwords reached the threshold: locked, whatever the password.
    let right = json!({ "code": code_now(&secret, 0), "password": USER_PASSWORD });
    assert_error(
        app.post_auth("/auth/2fa/enable", &t.access, Some(&right))
            .await,
        423,
        "account_locked",
    )
    .await;
    assert_error(app.login(NURSE, USER_PASSWORD).await, 423, "account_locked").await;
    // The sessions of a locked account stay valid.
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    let enabled = app.sql_i64("SELECT COUNT(*) AS n FROM users WHERE two_factor_enabled = true");
    assert_eq!(enabled, 0);
}

async fn renewed_recovery_codes_replace_the_old_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, old) = enrolled(&app).await;
    let t = {
        let ch = challenge(&app).await;
        tokens_of(&verify(&app, &ch, &old[0]).await.json().await.unwrap())
    };
    let wrong = json!({ "password": "not-the-password", "code": code_now(&secret, 1) });
    assert_error(
        app.post_auth("/auth/2fa/recovery-codes", &t.access, Some(&wrong))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let body = json!({ "password": USER_PASSWORD, "code": old[1] });
    let resp = app
        .post_auth("/auth/2fa/recovery-codes", &t.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let fresh: Value = resp.json().await.unwrap();
    let fresh = codes_of(&fresh);
    assert_eq!(fresh.len(), 10);
    let ch = challenge(&app).await;
    assert_error(verify(&app, &ch, &old[2]).await, 401, "invalid_credentials").await;
    let ch = challenge(&app).await;
    assert_eq!(verify(&app, &ch, &fresh[0]).await.status(), StatusCode::OK);
    let renewed = app.sql_i64(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'recovery_codes_regenerated'",
    );
    assert_eq!(renewed, 1);
}

async fn a_secret_sealed_before_binding_is_resealed_at_start_and_keeps_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let (secret, _) = enrolled(&app).await;
    // Seal it the way earlier versions did: not bound to its user.
    let cipher = tokenward::services::keys::load_cipher(&app.settings).unwrap();
    let raw = crate::totp::base32_decode(&secret);
    let unbound = cipher.encrypt(&raw, "tokenward:totp-secret");
    app.sql(&format!(
        "UPDATE users SET totp_secret = '{unbound}' WHERE email = '{NURSE}';
         DELETE FROM server_state WHERE name = 'totp_secrets_bound_to_user';"
    ));
    app.stop().await;
    let app = start(app.db.clone(), app.settings.clone()).await;
    let left = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM users WHERE totp_secret = '{unbound}'"
    ));
    assert_eq!(left, 0, "the secret was re-sealed at start");
    let ch = challenge(&app).await;
    let resp = verify(&app, &ch, &code_now(&secret, 1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn renewing_recovery_codes_needs_a_token_and_2fa_on(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let body = json!({ "password": USER_PASSWORD, "code": "123456" });
    let resp = app.post_json("/auth/2fa/recovery-codes", &body).await;
    assert_error(resp, 401, "token_missing").await;
    let resp = app
        .post_auth("/auth/2fa/recovery-codes", &t.access, Some(&body))
        .await;
    assert_error(resp, 409, "conflict").await;
    let resp = app
        .post_auth("/auth/2fa/recovery-codes", &t.access, Some(&json!({})))
        .await;
    assert_error(resp, 422, "validation_failed").await;
    let resp = app
        .client
        .get(app.url("/auth/devices"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
}

backend_tests!(
    renewing_recovery_codes_needs_a_token_and_2fa_on,
    a_secret_sealed_before_binding_is_resealed_at_start_and_keeps_working,
    enabling_needs_the_password_and_counts_a_wrong_one,
    renewed_recovery_codes_replace_the_old_ones,
    enroll_login_challenge_verify_validate,
    a_challenge_is_single_use_and_never_a_bearer_token,
    a_totp_code_is_accepted_once,
    a_recovery_code_works_once,
    five_wrong_codes_kill_the_challenge_and_lock_the_account,
    an_expired_challenge_is_token_expired,
    disabling_needs_the_password_and_a_code,
    setup_and_enable_refuse_out_of_order_calls,
    an_admin_resets_a_users_second_factor,
    login_and_verify_are_rate_limited_per_ip,
);
