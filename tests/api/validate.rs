//! Double validation: forged and expired tokens, SQL revocation, restarts,
//! disabled and demoted users.

use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

fn hs256(s: &mut tokenward::config::Settings) {
    s.jwt_algorithm = tokenward::config::JwtAlgorithm::HS256;
    s.jwt_secret = Some(SECRET.to_string().into());
}

fn claims_of(token: &str) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

fn forge(claims: &Value, kid: &str, alg: Algorithm, secret: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn validate_and_me_describe_the_caller(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    let resp = app.validate(&t.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["email"], ADMIN_EMAIL);
    assert_eq!(body["roles"], json!(["admin"]));
    assert_eq!(body["session_id"], t.session_id.as_str());
    assert_eq!(body["token_id"], claims_of(&t.access)["jti"]);
    assert!(body["user_id"].is_string());
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));

    let me: Value = app
        .get_auth("/auth/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    for field in [
        "id",
        "email",
        "full_name",
        "roles",
        "two_factor_enabled",
        "created_at",
        "last_login_at",
    ] {
        assert!(me.get(field).is_some(), "me.{field}");
    }
    assert!(me.get("is_active").is_none());
}

async fn a_missing_token_is_token_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .client
        .get(app.url("/auth/validate"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
    let resp = app
        .client
        .get(app.url("/auth/validate"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
    let resp = app
        .client
        .get(app.url("/auth/me"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
}

async fn forged_and_tampered_tokens_are_token_invalid(backend: Backend) {
    let app = spawn_app_with(backend, hs256).await;
    let t = app.admin().await;
    let kid = kid_of(&t.access);
    let good = claims_of(&t.access);

    // Tampered payload, original signature.
    let mut parts: Vec<String> = t.access.split('.').map(str::to_string).collect();
    let mut evil = good.clone();
    evil["roles"] = json!(["admin", "superuser"]);
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap());
    assert_error(app.validate(&parts.join(".")).await, 401, "token_invalid").await;

    // alg: none.
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string());
    let none = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    assert_error(app.validate(&none).await, 401, "token_invalid").await;

    // Wrong algorithm with the right secret, wrong secret, unknown kid.
    assert_error(
        app.validate(&forge(&good, &kid, Algorithm::HS384, SECRET))
            .await,
        401,
        "token_invalid",
    )
    .await;
    let wrong_secret = "another-secret-that-is-long-enough-987654321";
    assert_error(
        app.validate(&forge(&good, &kid, Algorithm::HS256, wrong_secret))
            .await,
        401,
        "token_invalid",
    )
    .await;
    assert_error(
        app.validate(&forge(&good, "other-kid", Algorithm::HS256, SECRET))
            .await,
        401,
        "token_invalid",
    )
    .await;

    // Right signature, wrong claims.
    for (field, value) in [
        ("aud", json!("someone-else")),
        ("iss", json!("evil")),
        ("token_type", json!("refresh")),
        ("nbf", json!(good["iat"].as_i64().unwrap() + 3600)),
    ] {
        let mut c = good.clone();
        c[field] = value;
        assert_error(
            app.validate(&forge(&c, &kid, Algorithm::HS256, SECRET))
                .await,
            401,
            "token_invalid",
        )
        .await;
    }
    // Right signature and claims but unknown to the database.
    let mut c = good.clone();
    c["jti"] = json!(uuid::Uuid::new_v4().to_string());
    assert_error(
        app.validate(&forge(&c, &kid, Algorithm::HS256, SECRET))
            .await,
        401,
        "token_invalid",
    )
    .await;
    // Garbage.
    assert_error(app.validate("not.a.jwt").await, 401, "token_invalid").await;
    assert_error(app.validate("' OR 1=1 --").await, 401, "token_invalid").await;
    // The real token still works.
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
}

async fn a_token_past_exp_is_token_expired(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        hs256(s);
        s.access_token_ttl = 1;
    })
    .await;
    let t = app.admin().await;
    let mut c = claims_of(&t.access);
    c["exp"] = json!(c["iat"].as_i64().unwrap() - 10);
    let expired = forge(&c, &kid_of(&t.access), Algorithm::HS256, SECRET);
    assert_error(app.validate(&expired).await, 401, "token_expired").await;
    // The real one-second token expires by itself.
    let app2 = &app;
    let token = t.access.clone();
    let expired_now = eventually(Duration::from_secs(5), || {
        let token = token.clone();
        async move {
            let resp = app2.validate(&token).await;
            resp.status() == StatusCode::UNAUTHORIZED
        }
    })
    .await;
    assert!(expired_now);
    assert_error(app.validate(&t.access).await, 401, "token_expired").await;
}

async fn a_token_revoked_by_plain_sql_is_refused_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    // The contract's monitoring statement, verbatim but for the email.
    app.sql(&format!(
        "UPDATE tokens SET revoked = true WHERE user_email = '{ADMIN_EMAIL}'"
    ));
    assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
    assert_error(app.refresh(&t.refresh).await, 401, "token_revoked").await;
    // The trigger stamps revoked_at; the reason stays NULL for SQL revocations.
    let stamped = app.sql_i64(
        "SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NOT NULL AND revoked_reason IS NULL",
    );
    assert_eq!(stamped, 2);
}

async fn a_restart_keeps_sessions_valid(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    app.stop().await;
    let again = start(app.db.clone(), app.settings.clone()).await;
    assert_eq!(again.validate(&t.access).await.status(), StatusCode::OK);
    assert_eq!(again.refresh(&t.refresh).await.status(), StatusCode::OK);
}

async fn a_different_encryption_key_refuses_to_start(backend: Backend) {
    let app = spawn_app(backend).await;
    app.stop().await;
    let mut settings = app.settings.clone();
    settings.encryption_key = Some(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            .to_string()
            .into(),
    );
    let err = tokenward::startup::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(err.contains("encryption key"), "{err}");
}

async fn a_key_file_others_can_read_refuses_to_start(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(backend).await;
    app.stop().await;
    let settings = app.settings.clone();
    let path = settings.encryption_key_file.clone();
    assert!(path.exists(), "the first start made the key file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = tokenward::startup::Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let again = start(app.db.clone(), settings).await;
    assert_eq!(
        again.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn disabling_a_user_or_dropping_a_role_takes_effect_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("second-admin@example.com", &["admin"])
        .await;
    let t = app
        .login_ok("second-admin@example.com", USER_PASSWORD)
        .await;
    let body = json!({ "email": "x@example.com", "password": "Quarry-Lantern-58x" });
    let resp = app.post_auth("/admin/users", &t.access, Some(&body)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    app.sql("UPDATE users SET roles = 'user' WHERE email = 'second-admin@example.com'");
    let body = json!({ "email": "y@example.com", "password": "Quarry-Lantern-58x" });
    assert_error(
        app.post_auth("/admin/users", &t.access, Some(&body)).await,
        403,
        "forbidden",
    )
    .await;
    app.sql("UPDATE users SET is_active = false WHERE email = 'second-admin@example.com'");
    assert_error(app.validate(&t.access).await, 403, "account_disabled").await;
}

backend_tests!(
    validate_and_me_describe_the_caller,
    a_missing_token_is_token_missing,
    forged_and_tampered_tokens_are_token_invalid,
    a_token_past_exp_is_token_expired,
    a_token_revoked_by_plain_sql_is_refused_on_the_next_request,
    a_restart_keeps_sessions_valid,
    a_different_encryption_key_refuses_to_start,
    a_key_file_others_can_read_refuses_to_start,
    disabling_a_user_or_dropping_a_role_takes_effect_at_once,
);
