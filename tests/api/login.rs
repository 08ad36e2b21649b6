//! `POST /auth/login`: token response, stored rows, identical failures, lockout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::backend_tests;
use crate::helpers::*;

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn login_returns_the_contract_token_response(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .client
        .post(app.url("/auth/login"))
        .header("user-agent", "WardBrowser/1.0")
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device_name": "Ward 3 PC" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_expires_in"], 604_800);
    assert!(body["session_id"].is_string());
    let user = &body["user"];
    for field in [
        "id",
        "email",
        "full_name",
        "roles",
        "is_active",
        "two_factor_enabled",
        "created_at",
        "last_login_at",
    ] {
        assert!(user.get(field).is_some(), "user.{field} in {user}");
    }
    assert!(user["id"].is_string());
    assert_eq!(user["email"], ADMIN_EMAIL);
    assert_eq!(user["roles"], json!(["admin"]));
    assert!(user["last_login_at"].as_str().unwrap().ends_with('Z'));

    let access = body["access_token"].as_str().unwrap();
    let header = jwt_part(access, 0);
    let claims = jwt_part(access, 1);
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().unwrap().to_string();
    for claim in [
        "iss", "aud", "sub", "email", "roles", "sid", "jti", "iat", "nbf", "exp",
    ] {
        assert!(claims.get(claim).is_some(), "claim {claim}");
    }
    assert_eq!(claims["iss"], "tokenward");
    assert_eq!(claims["aud"], "tokenward");
    assert_eq!(claims["token_type"], "access");
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["sid"], body["session_id"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    // The row: hash not raw token, same jti, exp, kid, user agent and IP.
    let hash = hex::encode(Sha256::digest(access.as_bytes()));
    let jti = claims["jti"].as_str().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    let epoch = match backend {
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM expires_at) AS BIGINT)",
        Backend::Sqlite => "CAST(strftime('%s', expires_at) AS BIGINT)",
    };
    let n = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_hash = '{hash}' AND jti = '{jti}' \
         AND token_type = 'access' AND key_id = '{kid}' AND user_agent = 'WardBrowser/1.0' \
         AND ip_address = '127.0.0.1' AND user_email = '{ADMIN_EMAIL}' AND {epoch} = {exp} \
         AND revoked = false AND expired = false"
    ));
    assert_eq!(n, 1);
    let raw = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_hash = '{access}' OR jti = '{access}'"
    ));
    assert_eq!(raw, 0);
    let refresh_hash = hex::encode(Sha256::digest(
        body["refresh_token"].as_str().unwrap().as_bytes(),
    ));
    let n = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_hash = '{refresh_hash}' AND token_type = 'refresh'"
    ));
    assert_eq!(n, 1);
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM sessions WHERE device_name = 'Ward 3 PC'");
    assert_eq!(n, 1);
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'login_succeeded'");
    assert_eq!(n, 1);
}

async fn unknown_email_and_wrong_password_get_identical_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let unknown = app.login("nobody@example.com", ADMIN_PASSWORD).await;
    let unknown_www = unknown.headers().get("www-authenticate").cloned();
    let unknown_body = assert_error(unknown, 401, "invalid_credentials").await;
    let wrong = app.login(ADMIN_EMAIL, "wrong-password").await;
    let wrong_www = wrong.headers().get("www-authenticate").cloned();
    let wrong_body = assert_error(wrong, 401, "invalid_credentials").await;
    assert_eq!(unknown_body, wrong_body);
    assert_eq!(unknown_www, wrong_www);
    let failed = app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'login_failed'");
    assert_eq!(failed, 2);
}

async fn email_matching_ignores_case_and_surrounding_space(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.login("  ADMIN@Example.COM ", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn a_disabled_account_is_refused_only_after_a_correct_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    app.sql("UPDATE users SET is_active = false WHERE email = 'nurse@example.com'");
    assert_error(
        app.login("nurse@example.com", "wrong-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.login("nurse@example.com", USER_PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;
}

async fn five_failures_lock_the_account_whatever_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    for _ in 0..5 {
        assert_error(
            app.login("nurse@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let body = assert_error(
        app.login("nurse@example.com", USER_PASSWORD).await,
        423,
        "account_locked",
    )
    .await;
    let until = body["details"]["locked_until"].as_str().unwrap();
    assert!(until.ends_with('Z') && until.len() == 20, "{until}");
    let locked =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'account_locked'");
    assert_eq!(locked, 1);
    // Lifting the lock (as the unlock endpoint will) lets the right password in.
    app.sql("UPDATE users SET locked_until = NULL WHERE email = 'nurse@example.com'");
    assert_eq!(
        app.login("nurse@example.com", USER_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_successful_login_resets_the_failure_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    for _ in 0..4 {
        app.login("nurse@example.com", "wrong-password").await;
    }
    app.login_ok("nurse@example.com", USER_PASSWORD).await;
    for _ in 0..4 {
        assert_error(
            app.login("nurse@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    app.login_ok("nurse@example.com", USER_PASSWORD).await;
}

async fn login_fields_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = assert_error(
        app.post_json("/auth/login", &json!({ "email": ADMIN_EMAIL }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["details"]["password"].is_array(), "{body}");
    let body = assert_error(
        app.post_json("/auth/login", &json!({ "email": "", "password": "x" }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["details"]["email"].is_array(), "{body}");
    let body = assert_error(
        app.post_json("/auth/login", &json!({ "email": 5, "password": "x" }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["details"]["email"].is_array(), "{body}");
    // bcrypt reads 72 bytes: a longer password sharing the prefix is not the password.
    let long = format!("{ADMIN_PASSWORD}{}", "x".repeat(80));
    assert_error(
        app.login(ADMIN_EMAIL, &long).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn a_hash_at_an_old_cost_is_redone_at_the_next_login(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let at = |cost: &str| {
        format!(
            "SELECT COUNT(*) AS n FROM users WHERE email = 'nurse@example.com' \
             AND password_hash LIKE '%$2_$' || '{cost}' || '$%'"
        )
    };
    assert_eq!(app.sql_i64(&at("04")), 1);
    app.stop().await;
    let mut settings = app.settings.clone();
    settings.bcrypt_cost = 5;
    let app2 = start(app.db.clone(), settings).await;
    assert_eq!(
        app2.login("nurse@example.com", USER_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let redone = eventually(std::time::Duration::from_secs(5), || async {
        app2.sql_i64(&at("05")) == 1
    })
    .await;
    assert!(redone, "the hash was not redone at cost 5");
    // The new hash still takes the same password.
    assert_eq!(
        app2.login("nurse@example.com", USER_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

backend_tests!(
    a_hash_at_an_old_cost_is_redone_at_the_next_login,
    login_returns_the_contract_token_response,
    unknown_email_and_wrong_password_get_identical_answers,
    email_matching_ignores_case_and_surrounding_space,
    a_disabled_account_is_refused_only_after_a_correct_password,
    five_failures_lock_the_account_whatever_the_password,
    a_successful_login_resets_the_failure_count,
    login_fields_are_validated,
);
