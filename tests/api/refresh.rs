//! `POST /auth/refresh`: rotation, reuse detection, the concurrent race, expiry.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::*;

async fn refresh_rotates_the_pair_within_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.admin().await;
    let resp = app.refresh(&first.refresh).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    let second = tokens_of(&body);
    assert_eq!(second.session_id, first.session_id);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    // Both access tokens work: the old one lives until it expires.
    assert_eq!(app.validate(&first.access).await.status(), StatusCode::OK);
    assert_eq!(app.validate(&second.access).await.status(), StatusCode::OK);
    let rotated = app.sql_i64(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'refresh' AND revoked = true AND revoked_reason = 'rotated'",
    );
    assert_eq!(rotated, 1);
    let refreshed =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'token_refreshed'");
    assert_eq!(refreshed, 1);
    // The new refresh token rotates again.
    assert_eq!(app.refresh(&second.refresh).await.status(), StatusCode::OK);
}

async fn a_reused_refresh_token_revokes_the_whole_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let other_session = app.admin().await;
    let first = app.admin().await;
    let second = tokens_of(
        &app.refresh(&first.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_error(app.refresh(&first.refresh).await, 401, "token_reused").await;
    // Everything of that session is dead, including the fresh pair.
    assert_error(app.validate(&second.access).await, 401, "token_revoked").await;
    assert_error(app.validate(&first.access).await, 401, "token_revoked").await;
    assert_error(app.refresh(&second.refresh).await, 401, "token_revoked").await;
    // Presenting it yet again stays token_reused; other sessions are untouched.
    assert_error(app.refresh(&first.refresh).await, 401, "token_reused").await;
    assert_eq!(
        app.validate(&other_session.access).await.status(),
        StatusCode::OK
    );
    let reused =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'refresh_token_reused'");
    assert!(reused >= 1);
    let reason = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM sessions WHERE id = {} AND revoked = true AND revoked_reason = 'reuse'",
        first.session_id
    ));
    assert_eq!(reason, 1);
}

async fn concurrent_refreshes_of_one_token_let_exactly_one_win(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    let attempts = (0..8).map(|_| app.refresh(&t.refresh));
    let responses = futures_util::future::join_all(attempts).await;
    let mut ok = 0;
    for resp in responses {
        if resp.status() == StatusCode::OK {
            ok += 1;
        } else {
            assert_error(resp, 401, "token_reused").await;
        }
    }
    assert_eq!(ok, 1, "exactly one concurrent refresh wins");
    let issued = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'refresh' AND session_id = {}",
        t.session_id
    ));
    assert_eq!(issued, 2, "one original and one rotated refresh token");
}

async fn bad_refresh_tokens_are_refused_with_their_own_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    assert_error(app.refresh("garbage").await, 401, "token_invalid").await;
    assert_error(
        app.refresh("'; DROP TABLE tokens; --").await,
        401,
        "token_invalid",
    )
    .await;
    // An access token is not a refresh token.
    assert_error(app.refresh(&t.access).await, 401, "token_invalid").await;
    assert_error(
        app.post_json("/auth/refresh", &serde_json::json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    // After logout the refresh token is revoked, not reused.
    assert_eq!(
        app.post_auth("/auth/logout", &t.access, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(app.refresh(&t.refresh).await, 401, "token_revoked").await;
}

async fn refresh_tokens_expire_and_sessions_end_at_their_max_lifetime(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.refresh_token_ttl = 60;
        s.session_max_lifetime = 2;
    })
    .await;
    let t = app.admin().await;
    let body: Value = app.refresh(&t.refresh).await.json().await.unwrap();
    assert!(body["refresh_expires_in"].as_i64().unwrap() <= 2, "{body}");
    assert!(body["expires_in"].as_i64().unwrap() <= 2, "{body}");
    let next = tokens_of(&body);
    // The access token is capped at the session's end too: wait for it to lapse.
    let app2 = &app;
    let ended = eventually(Duration::from_secs(5), || {
        let token = next.access.clone();
        async move { app2.validate(&token).await.status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(ended);
    assert_error(app.refresh(&next.refresh).await, 401, "token_expired").await;
}

backend_tests!(
    refresh_rotates_the_pair_within_the_session,
    a_reused_refresh_token_revokes_the_whole_session,
    concurrent_refreshes_of_one_token_let_exactly_one_win,
    bad_refresh_tokens_are_refused_with_their_own_codes,
    refresh_tokens_expire_and_sessions_end_at_their_max_lifetime,
);
