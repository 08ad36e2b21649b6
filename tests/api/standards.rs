//! Resource-server view: JWKS verified by an independent JWT library, key
//! rotation and retirement, forged headers, RFC 7662 introspection, RFC 7009.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_simple::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenward::config::JwtAlgorithm;

use crate::backend_tests;
use crate::helpers::*;

fn b64(v: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap()
}

/// Verifies `token` with jwt-simple using only the JWK published for its kid.
fn verify_with_jwks(jwks: &Value, token: &str) -> Result<JWTClaims<Value>, String> {
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("kid not in JWKS")?;
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&["tokenward"])),
        allowed_audiences: Some(HashSet::from_strings(&["tokenward"])),
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(0)),
        ..Default::default()
    };
    let result = match jwk["kty"].as_str().unwrap() {
        "RSA" => RS256PublicKey::from_components(&b64(&jwk["n"]), &b64(&jwk["e"]))
            .unwrap()
            .verify_token::<Value>(token, Some(options)),
        "EC" => {
            let mut sec1 = vec![4u8];
            sec1.extend(b64(&jwk["x"]));
            sec1.extend(b64(&jwk["y"]));
            ES256PublicKey::from_bytes(&sec1)
                .unwrap()
                .verify_token::<Value>(token, Some(options))
        }
        "OKP" => Ed25519PublicKey::from_bytes(&b64(&jwk["x"]))
            .unwrap()
            .verify_token::<Value>(token, Some(options)),
        other => return Err(format!("unexpected kty {other}")),
    };
    result.map_err(|e| e.to_string())
}

async fn jwks(app: &TestApp) -> Value {
    let resp = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn every_algorithm_verifies_from_the_jwks_alone(backend: Backend) {
    for (alg, name) in [
        (JwtAlgorithm::RS256, "RS256"),
        (JwtAlgorithm::ES256, "ES256"),
        (JwtAlgorithm::EdDSA, "EdDSA"),
    ] {
        let app = spawn_app_with(backend, |s| s.jwt_algorithm = alg).await;
        let t = app.admin().await;
        assert_eq!(
            tokenward::security::jwt::algorithm_name(
                jsonwebtoken::decode_header(&t.access).unwrap().alg
            ),
            name
        );
        let set = jwks(&app).await;
        assert_eq!(set["keys"].as_array().unwrap().len(), 1, "{set}");
        assert!(
            set["keys"][0].get("d").is_none(),
            "no private material: {set}"
        );
        let claims = verify_with_jwks(&set, &t.access).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(claims.custom["sid"], t.session_id.as_str());
        assert_eq!(claims.custom["email"], ADMIN_EMAIL);
        assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    }
    // HS256 keys are secret: nothing is published.
    let app = spawn_app_with(backend, |s| s.jwt_algorithm = JwtAlgorithm::HS256).await;
    assert_eq!(jwks(&app).await, json!({ "keys": [] }));
}

async fn rotation_keeps_old_tokens_and_retirement_ends_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = app.admin().await;
    let old_kid = jsonwebtoken::decode_header(&old.access)
        .unwrap()
        .kid
        .unwrap();
    // Rotate as `tokenward keys rotate` does, then start a second instance.
    {
        let mut conn = app.db.connect();
        let cipher = tokenward::services::keys::load_cipher(&app.settings).unwrap();
        tokenward::services::keys::insert_new_key(
            &mut conn,
            jsonwebtoken::Algorithm::RS256,
            &cipher,
        )
        .unwrap();
    }
    let b = start(app.db.clone(), app.settings.clone()).await;
    let new = b.admin().await;
    let new_kid = jsonwebtoken::decode_header(&new.access)
        .unwrap()
        .kid
        .unwrap();
    assert_ne!(old_kid, new_kid);
    let set = jwks(&b).await;
    assert_eq!(
        set["keys"].as_array().unwrap().len(),
        2,
        "both keys published: {set}"
    );
    verify_with_jwks(&set, &old.access).unwrap();
    verify_with_jwks(&set, &new.access).unwrap();
    assert_eq!(b.validate(&old.access).await.status(), StatusCode::OK);
    // The first instance learns the new key when it meets its kid.
    let a = &app;
    let token = new.access.clone();
    let learned = eventually(Duration::from_secs(5), || {
        let token = token.clone();
        async move { a.validate(&token).await.status() == StatusCode::OK }
    })
    .await;
    assert!(
        learned,
        "instance A accepts tokens signed by the rotated key"
    );

    // Retirement: once nothing the old key signed is alive, it leaves.
    app.sql(&format!(
        "UPDATE tokens SET expires_at = '2000-01-01 00:00:00' WHERE key_id = '{old_kid}'"
    ));
    app.sql(&format!(
        "UPDATE signing_keys SET created_at = '2000-06-01 00:00:00' WHERE kid = '{old_kid}'"
    ));
    app.sql(&format!(
        "UPDATE signing_keys SET created_at = '2001-01-01 00:00:00' WHERE kid = '{new_kid}'"
    ));
    {
        let mut conn = app.db.connect();
        let retired = tokenward::services::keys::retire_unused(&mut conn, &new_kid).unwrap();
        assert_eq!(retired, vec![old_kid.clone()]);
    }
    app.sql(&format!(
        "UPDATE tokens SET expires_at = '2999-01-01 00:00:00' WHERE key_id = '{old_kid}'"
    ));
    let c = start(app.db.clone(), app.settings.clone()).await;
    assert_eq!(jwks(&c).await["keys"].as_array().unwrap().len(), 1);
    assert_error(c.validate(&old.access).await, 401, "token_invalid").await;
    assert_eq!(c.validate(&new.access).await.status(), StatusCode::OK);
}

fn forge_header(token: &str, header: Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[0] = URL_SAFE_NO_PAD.encode(header.to_string());
    parts.join(".")
}

async fn forged_headers_and_algorithm_confusion_are_token_invalid(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    let kid = jsonwebtoken::decode_header(&t.access).unwrap().kid.unwrap();
    let set = jwks(&app).await;
    for header in [
        json!({ "alg": "none", "kid": kid }),
        json!({ "alg": "HS256", "kid": kid }),
        json!({ "alg": "RS256", "kid": "unknown" }),
        json!({ "alg": "RS256" }),
        json!({ "alg": "RS256", "kid": kid, "jku": "http://127.0.0.1:1/keys" }),
        json!({ "alg": "RS256", "kid": kid, "x5u": "http://127.0.0.1:1/cert" }),
        json!({ "alg": "RS256", "kid": kid, "jwk": set["keys"][0] }),
    ] {
        let forged = forge_header(&t.access, header.clone());
        assert_error(app.validate(&forged).await, 401, "token_invalid").await;
    }
    // HS256 signed with the public key's modulus as the secret.
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t.access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid);
    let secret = b64(&set["keys"][0]["n"]);
    let confused = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_error(app.validate(&confused).await, 401, "token_invalid").await;
}

async fn introspect(app: &TestApp, caller: &str, token: &str) -> Value {
    let resp = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(caller)
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn introspection_tells_resource_servers_what_a_token_is(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    app.create_user("api@example.com", &["service"]).await;
    app.create_user("nurse@example.com", &["user"]).await;
    let service = app.login_ok("api@example.com", USER_PASSWORD).await;
    let nurse = app.login_ok("nurse@example.com", USER_PASSWORD).await;

    let body = introspect(&app, &service.access, &nurse.access).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["username"], "nurse@example.com");
    assert_eq!(body["sid"], nurse.session_id.as_str());
    assert_eq!(body["iss"], "tokenward");
    assert_eq!(body["aud"], "tokenward");
    for f in ["sub", "exp", "iat", "jti"] {
        assert!(body.get(f).is_some(), "{f} in {body}");
    }
    let body = introspect(&app, &admin.access, &nurse.refresh).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");

    for inactive in ["garbage", "", "' OR 1=1 --"] {
        assert_eq!(
            introspect(&app, &admin.access, inactive).await,
            json!({ "active": false })
        );
    }
    // Revoked (here by logout) is inactive, exactly like the bearer check says.
    app.post_auth("/auth/logout", &nurse.access, None).await;
    assert_eq!(
        introspect(&app, &admin.access, &nurse.access).await,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(&app, &admin.access, &nurse.refresh).await,
        json!({ "active": false })
    );

    // Callers: anonymous 401, plain user 403; no token field 400.
    let resp = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "token_missing").await;
    let other = app.login_ok("nurse@example.com", USER_PASSWORD).await;
    let resp = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&other.access)
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&admin.access)
        .form(&[("token_type_hint", "x")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_request").await;
}

async fn an_expired_token_introspects_inactive(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.access_token_ttl = 1).await;
    let admin_refresh = app.admin().await.refresh;
    let nurse = app.admin().await;
    let a = &app;
    let expired = eventually(Duration::from_secs(5), || {
        let token = nurse.access.clone();
        async move { a.validate(&token).await.status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(expired);
    let fresh = tokens_of(
        &app.refresh(&admin_refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(
        introspect(&app, &fresh.access, &nurse.access).await,
        json!({ "active": false })
    );
}

async fn rfc7009_revocation_ends_tokens_and_always_answers_200(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.admin().await;
    let b = app.admin().await;
    let revoke = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth/revoke"))
                .form(&[
                    ("token", token.as_str()),
                    ("token_type_hint", "refresh_token"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(revoke(a.access.clone()).await.status(), StatusCode::OK);
    assert_error(app.validate(&a.access).await, 401, "token_revoked").await;
    // A refresh token takes its whole session with it.
    assert_eq!(revoke(b.refresh.clone()).await.status(), StatusCode::OK);
    assert_error(app.validate(&b.access).await, 401, "token_revoked").await;
    assert_error(app.refresh(&b.refresh).await, 401, "token_revoked").await;
    assert_eq!(revoke("unknown".into()).await.status(), StatusCode::OK);
    assert_eq!(revoke(b.refresh.clone()).await.status(), StatusCode::OK);
    let n = app.sql_i64("SELECT COUNT(*) AS n FROM tokens WHERE revoked_reason = 'rfc7009'");
    assert_eq!(n, 3);
    let resp = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("nothing", "here")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_request").await;
    let resp = app
        .client
        .post(app.url("/oauth/revoke"))
        .json(&json!({ "token": "x" }))
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
}

async fn rfc8414_metadata_names_every_endpoint_by_absolute_url(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.public_url = "https://auth.ward.example.org/".into()
    })
    .await;
    let resp = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let m: Value = resp.json().await.unwrap();
    let base = "https://auth.ward.example.org";
    assert_eq!(m["issuer"], base);
    assert_eq!(m["jwks_uri"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(
        m["introspection_endpoint"],
        format!("{base}/oauth/introspect")
    );
    assert_eq!(m["revocation_endpoint"], format!("{base}/oauth/revoke"));
    for field in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "response_types_supported",
    ] {
        assert!(m[field].is_array(), "{field}: {m}");
    }
    // The endpoints it names answer where it says (here, under the test's own address).
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert!(jwks["keys"].is_array());
}

backend_tests!(
    rfc8414_metadata_names_every_endpoint_by_absolute_url,
    every_algorithm_verifies_from_the_jwks_alone,
    rotation_keeps_old_tokens_and_retirement_ends_them,
    forged_headers_and_algorithm_confusion_are_token_invalid,
    introspection_tells_resource_servers_what_a_token_is,
    an_expired_token_introspects_inactive,
    rfc7009_revocation_ends_tokens_and_always_answers_200,
);
