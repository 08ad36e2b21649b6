//! The lockout under concurrency and through the side doors: the count is
//! decided in the database, so parallel requests get no extra guesses.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

const NURSE: &str = "nurse@example.com";

async fn thirty_parallel_wrong_logins_check_at_most_five_passwords(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let burst = (0..30).map(|_| app.login(NURSE, "wrong-password"));
    let statuses: Vec<u16> = join_all(burst)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 423).count();
    assert!(
        refused <= 5,
        "{refused} wrong passwords were checked: {statuses:?}"
    );
    assert_eq!(refused + locked, 30, "{statuses:?}");
    // During and after the burst the right password is refused too.
    let body = assert_error(app.login(NURSE, USER_PASSWORD).await, 423, "account_locked").await;
    assert!(body["details"]["locked_until"].is_string(), "{body}");
    let locks =
        app.sql_i64("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'account_locked'");
    assert_eq!(locks, 1);
}

async fn a_right_password_inside_a_burst_cannot_lift_the_lock(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let mut burst: Vec<_> = (0..29)
        .map(|_| app.login(NURSE, "wrong-password"))
        .collect();
    burst.push(app.login(NURSE, USER_PASSWORD));
    let statuses: Vec<u16> = join_all(burst)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert!(refused <= 5, "{statuses:?}");
    // Five wrong passwords were checked (or four and the right one): either
    // way the account ends the burst locked or with its count intact.
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        refused + ok <= 5,
        "more than five passwords checked: {statuses:?}"
    );
    if refused == 5 {
        assert_eq!(ok, 0, "{statuses:?}");
        assert_error(app.login(NURSE, USER_PASSWORD).await, 423, "account_locked").await;
    }
}

async fn wrong_current_passwords_on_the_password_change_lock_the_account(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let wrong = json!({ "current_password": "not-it", "new_password": "another-password-9" });
    for _ in 0..5 {
        assert_error(
            app.post_auth("/auth/password", &t.access, Some(&wrong))
                .await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let right = json!({ "current_password": USER_PASSWORD, "new_password": "another-password-9" });
    assert_error(
        app.post_auth("/auth/password", &t.access, Some(&right))
            .await,
        423,
        "account_locked",
    )
    .await;
    assert_error(app.login(NURSE, USER_PASSWORD).await, 423, "account_locked").await;
    // The session that tried stays valid; the password did not change.
    assert_eq!(app.validate(&t.access).await.status(), StatusCode::OK);
    app.sql("UPDATE users SET locked_until = NULL WHERE email = 'nurse@example.com'");
    assert_eq!(
        app.login(NURSE, USER_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_success_clears_the_count_so_failures_must_be_consecutive(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    for _ in 0..4 {
        assert_error(
            app.login(NURSE, "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(
        app.login(NURSE, USER_PASSWORD).await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        assert_error(
            app.login(NURSE, "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(
        app.login(NURSE, USER_PASSWORD).await.status(),
        StatusCode::OK
    );
}

backend_tests!(
    thirty_parallel_wrong_logins_check_at_most_five_passwords,
    a_right_password_inside_a_burst_cannot_lift_the_lock,
    wrong_current_passwords_on_the_password_change_lock_the_account,
    a_success_clears_the_count_so_failures_must_be_consecutive,
);
