//! The validation cache keeps the contract's revocation bounds: the next request
//! on the same instance, within one second elsewhere (other instances, SQL).

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::backend_tests;
use crate::helpers::*;

fn cached(s: &mut tokenward::config::Settings) {
    s.validation_cache_ms = 1000;
}

async fn a_revocation_through_this_instance_is_honoured_by_the_next_request(backend: Backend) {
    let app = spawn_app_with(backend, cached).await;
    let t = app.admin().await;
    let other = app.admin().await;
    for _ in 0..3 {
        assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
        assert_eq!(app.validate(&other.access).await.status(), StatusCode::OK);
    }
    app.post_auth("/auth/logout", &t.access, None).await;
    assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
    assert_eq!(app.validate(&other.access).await.status(), StatusCode::OK);
    // Same for logout-all and RFC 7009.
    app.post_auth("/auth/logout-all", &other.access, None).await;
    assert_error(app.validate(&other.access).await, 401, "token_revoked").await;
}

/// Polls until `token` is refused; returns how long that took.
async fn refused_within(app: &TestApp, token: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let ok = eventually(limit, || async {
        app.validate(token).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(ok, "still accepted after {limit:?}");
    started.elapsed()
}

async fn a_plain_sql_revocation_is_honoured_within_a_second(backend: Backend) {
    let app = spawn_app_with(backend, cached).await;
    let t = app.admin().await;
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    app.sql(&format!(
        "UPDATE tokens SET revoked = true WHERE user_email = '{ADMIN_EMAIL}'"
    ));
    // One second is the bound; the margin covers a loaded test machine.
    let took = refused_within(&app, &t.access, Duration::from_millis(1500)).await;
    assert!(took <= Duration::from_millis(1500), "{took:?}");
    assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
}

async fn a_revocation_on_one_instance_is_honoured_by_another_within_a_second(backend: Backend) {
    let a = spawn_app_with(backend, cached).await;
    let b = start(a.db.clone(), a.settings.clone()).await;
    let t = a.admin().await;
    assert_eq!(b.validate(&t.access).await.status(), StatusCode::OK);
    assert_eq!(b.validate(&t.access).await.status(), StatusCode::OK);
    a.post_auth("/auth/logout", &t.access, None).await;
    assert_error(a.validate(&t.access).await, 401, "token_revoked").await;
    refused_within(&b, &t.access, Duration::from_millis(1500)).await;
    assert_error(b.validate(&t.access).await, 401, "token_revoked").await;
}

backend_tests!(
    a_revocation_through_this_instance_is_honoured_by_the_next_request,
    a_plain_sql_revocation_is_honoured_within_a_second,
    a_revocation_on_one_instance_is_honoured_by_another_within_a_second,
);
