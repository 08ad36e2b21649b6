//! A login flood against the bounded password queue. Its own test binary (its
//! own process), because the password threads are shared by every server in a
//! process and the flood must not slow the other tests' logins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../api/helpers.rs"]
mod helpers;

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::*;

async fn a_login_flood_past_the_bound_is_turned_away_while_validation_answers(backend: Backend) {
    // A realistic bcrypt cost, so a few seconds of work is a short queue.
    let app = spawn_app_with(backend, |s| s.bcrypt_cost = 12).await;
    let admin = app.admin().await;
    let emails: Vec<String> = (0..60).map(|i| format!("nobody{i}@example.com")).collect();
    let flood = emails.iter().map(|e| app.login(e, "wrong-password"));
    let validate = async {
        let mut ok = 0;
        for _ in 0..5 {
            if app.validate(&admin.access).await.status() == StatusCode::OK {
                ok += 1;
            }
        }
        ok
    };
    let (answers, validated) = tokio::join!(join_all(flood), validate);
    assert_eq!(validated, 5, "validation kept answering during the flood");
    let mut busy = 0;
    for resp in answers {
        match resp.status().as_u16() {
            401 => {}
            503 => {
                busy += 1;
                let retry: u64 = resp
                    .headers()
                    .get("retry-after")
                    .expect("Retry-After on 503")
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&retry), "{retry}");
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["error"], "unavailable", "{body}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        busy > 0,
        "a 60-login flood at cost 12 was queued without end"
    );
    // Once the flood has drained, a login is served again.
    let resp = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Both backends in one test, one after the other: two floods at once would
/// share the password threads.
#[tokio::test]
async fn a_login_flood_is_bounded_on_both_backends() {
    a_login_flood_past_the_bound_is_turned_away_while_validation_answers(Backend::Sqlite).await;
    if postgres_enabled("a_login_flood_is_bounded_on_both_backends") {
        a_login_flood_past_the_bound_is_turned_away_while_validation_answers(Backend::Postgres)
            .await;
    }
}
