//! The password policy where people meet it: creating accounts and changing
//! passwords. Every character of a long password counts, and hashes made by
//! earlier versions (plain bcrypt) keep working.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

const STRONG: &str = "Tussock-Lantern-Quarry-58";

/// The reasons `POST /admin/users` gives for `password` (empty when created).
async fn refusal(app: &TestApp, admin: &str, email: &str, password: &str) -> Vec<String> {
    let body = json!({ "email": email, "password": password, "full_name": "Nurse Joy" });
    let resp = app.post_auth("/admin/users", admin, Some(&body)).await;
    if resp.status() == StatusCode::CREATED {
        return Vec::new();
    }
    let body = assert_error(resp, 422, "validation_failed").await;
    body["details"]["password"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

async fn new_passwords_must_meet_the_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let r = refusal(&app, &admin, "a@example.com", "short-pw").await;
    assert_eq!(r, ["must be at least 12 characters"]);
    let r = refusal(&app, &admin, "b@example.com", &"x".repeat(129)).await;
    assert_eq!(r, ["must be at most 128 characters"]);
    let r = refusal(&app, &admin, "c@example.com", "password1234").await;
    assert!(r.contains(&"is too common".to_string()), "{r:?}");
    let r = refusal(
        &app,
        &admin,
        "nurse.joy@example.com",
        "nurse.joy-Lantern-58",
    )
    .await;
    assert!(
        r.contains(&"must not contain your email address".to_string()),
        "{r:?}"
    );
    let r = refusal(&app, &admin, "d@example.com", "aaaaaaaaaaaaaaaa").await;
    assert!(r.contains(&"is too easy to guess".to_string()), "{r:?}");
    // Nothing was created by the refusals.
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM users WHERE email <> 'admin@example.com'");
    assert_eq!(n, 0);
    // Exactly the limits, and a strong one.
    assert!(refusal(&app, &admin, "e@example.com", "qT7#vLp2!zWm")
        .await
        .is_empty());
    let longest: String = "Vx9!kQ2#mR7$".repeat(11).chars().take(128).collect();
    assert!(refusal(&app, &admin, "f@example.com", &longest)
        .await
        .is_empty());
    assert!(refusal(&app, &admin, "g@example.com", STRONG)
        .await
        .is_empty());
    assert_eq!(
        app.login("g@example.com", STRONG).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("f@example.com", &longest).await.status(),
        StatusCode::OK
    );
}

async fn a_password_change_is_held_to_the_policy_under_new_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let t = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let body = json!({ "current_password": USER_PASSWORD, "new_password": "password1234" });
    let err = assert_error(
        app.post_auth("/auth/password", &t.access, Some(&body))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err["details"]["new_password"].is_array(), "{err}");
    assert_eq!(
        app.login("nurse@example.com", USER_PASSWORD).await.status(),
        StatusCode::OK
    );
    let body = json!({ "current_password": USER_PASSWORD, "new_password": STRONG });
    let resp = app
        .post_auth("/auth/password", &t.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("nurse@example.com", STRONG).await.status(),
        StatusCode::OK
    );
}

async fn every_character_of_an_80_character_password_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await.access;
    let long = format!("{}{}", "Rivet-Harbor-Cinder-".repeat(4), "");
    assert_eq!(long.chars().count(), 80);
    assert!(refusal(&app, &admin, "long@example.com", &long)
        .await
        .is_empty());
    assert_eq!(
        app.login("long@example.com", &long).await.status(),
        StatusCode::OK
    );
    let first_72: String = long.chars().take(72).collect();
    assert_error(
        app.login("long@example.com", &first_72).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn a_hash_made_by_an_earlier_version_still_logs_in_and_is_upgraded(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let plain = bcrypt::hash(USER_PASSWORD, 4).unwrap();
    app.sql(&format!(
        "UPDATE users SET password_hash = '{plain}' WHERE email = 'nurse@example.com'"
    ));
    assert_error(
        app.login("nurse@example.com", "wrong-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let body: Value = app
        .login("nurse@example.com", USER_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    let upgraded = eventually(std::time::Duration::from_secs(5), || async {
        app.sql_i64(
            "SELECT COUNT(*) AS n FROM users WHERE email = 'nurse@example.com' \
             AND password_hash LIKE 'sha256+%'",
        ) == 1
    })
    .await;
    assert!(upgraded, "the old hash was not redone");
    assert_eq!(
        app.login("nurse@example.com", USER_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_candidate_is_judged_without_an_account_and_the_checks_are_rate_limited(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let judge = |password: &str, email: Option<&str>| {
        let body = match email {
            Some(e) => json!({ "password": password, "email": e }),
            None => json!({ "password": password }),
        };
        let app = &app;
        async move {
            let resp = app.post_json("/auth/password/check", &body).await;
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.unwrap()
        }
    };
    let ok = judge(STRONG, None).await;
    assert_eq!(ok, json!({ "acceptable": true, "reasons": [] }));
    let short = judge("short-pw", None).await;
    assert_eq!(short["acceptable"], false);
    assert_eq!(short["reasons"], json!(["must be at least 12 characters"]));
    let common = judge("password1234", None).await;
    assert!(
        common["reasons"].to_string().contains("is too common"),
        "{common}"
    );
    let own = judge(
        "ward.sister.nightingale-71",
        Some("ward.sister@example.com"),
    )
    .await;
    assert!(
        own["reasons"]
            .to_string()
            .contains("must not contain your email address"),
        "{own}"
    );
    // The same phrases a refusal gives.
    let admin = app.admin().await.access;
    let refused = refusal(
        &app,
        &admin,
        "ward.sister@example.com",
        "ward.sister.nightingale-71",
    )
    .await;
    assert_eq!(json!(refused), own["reasons"]);
    // Bad bodies get the contract's errors.
    assert_error(
        app.post_json("/auth/password/check", &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    let long = json!({ "password": "x".repeat(1025) });
    assert_error(
        app.post_json("/auth/password/check", &long).await,
        422,
        "validation_failed",
    )
    .await;
    let extra = json!({ "password": STRONG, "user": 1 });
    assert_error(
        app.post_json("/auth/password/check", &extra).await,
        422,
        "validation_failed",
    )
    .await;
    // 120 a minute per client IP, then 429 with Retry-After.
    let mut limited = None;
    for _ in 0..130 {
        let resp = app
            .post_json("/auth/password/check", &json!({ "password": "a" }))
            .await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("never rate limited");
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, 429, "too_many_requests").await;
}

backend_tests!(
    new_passwords_must_meet_the_policy,
    a_candidate_is_judged_without_an_account_and_the_checks_are_rate_limited,
    a_password_change_is_held_to_the_policy_under_new_password,
    every_character_of_an_80_character_password_counts,
    a_hash_made_by_an_earlier_version_still_logs_in_and_is_upgraded,
);
