//! `GET /admin/audit`: shape, order, filters, paging and bad query values.

use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::*;

async fn audit(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let resp = app.get_auth(&format!("/admin/audit{query}"), token).await;
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    resp.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

async fn admins_read_the_audit_trail_newest_first_with_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("audited@example.com", &["user"]).await;
    app.login_ok("audited@example.com", USER_PASSWORD).await;
    assert_error(
        app.login("audited@example.com", "bad-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    // Written by hand at a whole second, with details that are not JSON.
    app.sql(&format!(
        "INSERT INTO audit_events (event, user_id, user_email, created_at, details) \
         VALUES ('logout', {id}, 'audited@example.com', '2030-01-02 03:04:05', 'not json')"
    ));
    let admin = app.admin().await;

    let all = audit(&app, &admin.access, "").await;
    assert_eq!(
        names(&all)[..4],
        [
            "logout",
            "login_succeeded",
            "login_failed",
            "login_succeeded"
        ]
    );
    let stamps: Vec<&str> = all
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {stamps:?}"
    );
    let failed = &all[2];
    assert!(failed["id"].is_string());
    assert_eq!(failed["user_id"], id.as_str());
    assert_eq!(failed["user_email"], "audited@example.com");
    assert!(failed["details"].is_object() && failed["ip_address"].is_string());
    assert!(failed["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(all[0]["details"].as_object().unwrap().is_empty());
    let created = all
        .iter()
        .find(|e| e["event"] == "user_created" && e["user_id"] == id.as_str());
    assert!(created.unwrap()["details"]["actor_id"].is_string());

    let mine = audit(&app, &admin.access, &format!("?user_id={id}")).await;
    assert_eq!(
        names(&mine),
        ["logout", "login_failed", "login_succeeded", "user_created"]
    );
    let failures = audit(&app, &admin.access, "?event=login_failed").await;
    assert_eq!(names(&failures), ["login_failed"]);
    let both = audit(&app, &admin.access, &format!("?event=logout&user_id={id}")).await;
    assert_eq!(both.len(), 1);
    // `since` is inclusive, and offsets are honoured.
    let at = audit(&app, &admin.access, "?since=2030-01-02T03:04:05Z").await;
    assert_eq!(names(&at), ["logout"]);
    let shifted = audit(&app, &admin.access, "?since=2030-01-01T22:04:05-05:00").await;
    assert_eq!(names(&shifted), ["logout"]);
    assert!(audit(&app, &admin.access, "?since=2030-01-02T03:04:06Z")
        .await
        .is_empty());
    assert_eq!(audit(&app, &admin.access, "?limit=2").await.len(), 2);
    assert!(audit(&app, &admin.access, "?user_id=999999")
        .await
        .is_empty());

    let bad = [
        "?user_id=abc",
        "?user_id=-3",
        "?since=yesterday",
        "?since=2030-01-02",
        "?limit=0",
        "?limit=1001",
        "?limit=many",
        "?event=DROP%20TABLE",
    ];
    for query in bad {
        let resp = app
            .get_auth(&format!("/admin/audit{query}"), &admin.access)
            .await;
        assert_error(resp, 400, "invalid_request").await;
    }
}

backend_tests!(admins_read_the_audit_trail_newest_first_with_filters);
