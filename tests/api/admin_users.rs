//! `/admin/users` list, read, edit and unlock; who may call the admin API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::*;

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_auth(path, token).await;
    assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
    resp.json().await.unwrap()
}

fn emails(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect()
}

async fn admins_list_users_oldest_first_with_paging_and_an_email_filter(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in [
        "nurse.a@example.com",
        "Nurse_B@example.com",
        "porter@example.org",
    ] {
        app.create_user(email, &["user"]).await;
    }
    let admin = app.admin().await;
    let all = get_json(&app, "/admin/users", &admin.access).await;
    assert_eq!(
        emails(&all),
        [
            ADMIN_EMAIL,
            "nurse.a@example.com",
            "nurse_b@example.com",
            "porter@example.org"
        ]
    );
    assert!(all[0]["id"].is_string() && all[0]["is_active"] == true);
    let text = all.to_string();
    assert!(
        !text.contains("password_hash") && !text.contains("$2b$") && !text.contains("sha256+"),
        "no hashes: {all}"
    );
    let page = get_json(&app, "/admin/users?limit=2&offset=1", &admin.access).await;
    assert_eq!(
        emails(&page),
        ["nurse.a@example.com", "nurse_b@example.com"]
    );
    let nurses = get_json(&app, "/admin/users?email=NURSE", &admin.access).await;
    assert_eq!(emails(&nurses).len(), 2);
    // LIKE wildcards are literal: `_` matches only an underscore.
    let underscore = get_json(&app, "/admin/users?email=e_b", &admin.access).await;
    assert_eq!(emails(&underscore), ["nurse_b@example.com"]);
    let none = get_json(&app, "/admin/users?email=%25", &admin.access).await;
    assert_eq!(none, json!([]));
    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "offset=-1",
        "limit=1&limit=2",
    ] {
        let resp = app
            .get_auth(&format!("/admin/users?{bad}"), &admin.access)
            .await;
        assert_error(resp, 400, "invalid_request").await;
    }
}

async fn admins_read_and_edit_a_user_and_every_edit_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("clerk@example.com", &["user"]).await;
    let admin = app.admin().await;
    let user = get_json(&app, &format!("/admin/users/{id}"), &admin.access).await;
    assert_eq!(user["email"], "clerk@example.com");
    for missing in ["999999", "abc", "-1", "0", "99999999999999999999999"] {
        let resp = app
            .get_auth(&format!("/admin/users/{missing}"), &admin.access)
            .await;
        assert_error(resp, 404, "not_found").await;
    }
    let path = format!("/admin/users/{id}");
    let body = json!({ "roles": ["user", "ward-7", "user"], "full_name": "  Clerk Kent " });
    let resp = patch(&app, &path, &admin.access, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["roles"], json!(["user", "ward-7"]));
    assert_eq!(user["full_name"], "Clerk Kent");
    let audited = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'user_updated' AND user_id = {id} \
         AND details LIKE '%actor_id%'"
    ));
    assert_eq!(audited, 1);
    let cases = [
        json!({}),
        json!({ "roles": [] }),
        json!({ "roles": ["Admin"] }),
        json!({ "is_active": "no" }),
        json!({ "email": "x@example.com" }),
        json!({ "full_name": "a\u{0}b" }),
    ];
    for body in cases {
        assert_error(
            patch(&app, &path, &admin.access, &body).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let missing = patch(
        &app,
        "/admin/users/424242",
        &admin.access,
        &json!({ "full_name": "x" }),
    )
    .await;
    assert_error(missing, 404, "not_found").await;
    // Nobody can lock the last admin out by accident.
    let me = get_json(&app, "/admin/users?limit=1", &admin.access).await[0]["id"].clone();
    let me = format!("/admin/users/{}", me.as_str().unwrap());
    let off = patch(&app, &me, &admin.access, &json!({ "is_active": false })).await;
    assert_error(off, 422, "validation_failed").await;
    let demote = patch(&app, &me, &admin.access, &json!({ "roles": ["user"] })).await;
    assert_error(demote, 422, "validation_failed").await;
}

async fn disabling_a_user_kills_its_tokens_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .create_user("leaver@example.com", &["user", "admin"])
        .await;
    let first = app.login_ok("leaver@example.com", USER_PASSWORD).await;
    let second = app.login_ok("leaver@example.com", USER_PASSWORD).await;
    assert_eq!(app.validate(&first.access).await.status(), StatusCode::OK);
    let admin = app.admin().await;
    let path = format!("/admin/users/{id}");
    let resp = patch(&app, &path, &admin.access, &json!({ "is_active": false })).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["is_active"], false);
    for t in [&first, &second] {
        assert_error(app.validate(&t.access).await, 401, "token_revoked").await;
        assert_error(app.refresh(&t.refresh).await, 401, "token_revoked").await;
    }
    let still_admin = app.get_auth("/admin/users", &first.access).await;
    assert_error(still_admin, 401, "token_revoked").await;
    assert_error(
        app.login("leaver@example.com", USER_PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;
    let reasons = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE user_id = {id} AND revoked_reason = 'user_disabled'"
    ));
    assert_eq!(reasons, 4);
    let back = patch(&app, &path, &admin.access, &json!({ "is_active": true })).await;
    assert_eq!(back.status(), StatusCode::OK);
    app.login_ok("leaver@example.com", USER_PASSWORD).await;
}

async fn a_demoted_admin_loses_the_admin_api_at_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("deputy@example.com", &["admin"]).await;
    let deputy = app.login_ok("deputy@example.com", USER_PASSWORD).await;
    assert_eq!(
        app.get_auth("/admin/users", &deputy.access).await.status(),
        StatusCode::OK
    );
    let admin = app.admin().await;
    let resp = patch(
        &app,
        &format!("/admin/users/{id}"),
        &admin.access,
        &json!({ "roles": ["user"] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error(
        app.get_auth("/admin/users", &deputy.access).await,
        403,
        "forbidden",
    )
    .await;
}

async fn an_admin_unlocks_a_locked_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("fumble@example.com", &["user"]).await;
    for _ in 0..5 {
        assert_error(
            app.login("fumble@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(
        app.login("fumble@example.com", USER_PASSWORD).await,
        423,
        "account_locked",
    )
    .await;
    let admin = app.admin().await;
    let resp = app
        .post_auth(&format!("/admin/users/{id}/unlock"), &admin.access, None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    app.login_ok("fumble@example.com", USER_PASSWORD).await;
    let audited = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'account_unlocked' AND user_id = {id}"
    ));
    assert_eq!(audited, 1);
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT CAST(failed_login_count AS BIGINT) AS n FROM users WHERE id = {id}"
        )),
        0
    );
    for missing in ["777777", "nope"] {
        let resp = app
            .post_auth(
                &format!("/admin/users/{missing}/unlock"),
                &admin.access,
                None,
            )
            .await;
        assert_error(resp, 404, "not_found").await;
    }
}

async fn the_admin_api_refuses_non_admins_and_anonymous_callers(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_user("plain@example.com", &["user"]).await;
    let user = app.login_ok("plain@example.com", USER_PASSWORD).await;
    let endpoints = [
        ("GET", "/admin/users".to_string(), None),
        ("GET", format!("/admin/users/{id}"), None),
        (
            "PATCH",
            format!("/admin/users/{id}"),
            Some(json!({ "full_name": "x" })),
        ),
        ("POST", format!("/admin/users/{id}/unlock"), None),
        ("GET", format!("/admin/tokens/sessions/{id}"), None),
        ("DELETE", format!("/admin/tokens/sessions/{id}"), None),
        (
            "POST",
            "/admin/tokens/revoke".to_string(),
            Some(json!({ "jti": "x" })),
        ),
        ("GET", "/admin/tokens/metrics".to_string(), None),
        ("GET", "/admin/audit".to_string(), None),
    ];
    for (method, path, body) in endpoints {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let send = |token: Option<&str>| {
            let mut req = app.client.request(method.clone(), app.url(&path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            req.send()
        };
        assert_error(send(Some(&user.access)).await.unwrap(), 403, "forbidden").await;
        assert_error(send(None).await.unwrap(), 401, "token_missing").await;
    }
    // Unserved methods on admin paths are 405, not 404.
    let resp = app
        .client
        .put(app.url("/admin/tokens/metrics"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 405, "method_not_allowed").await;
}

backend_tests!(
    admins_list_users_oldest_first_with_paging_and_an_email_filter,
    admins_read_and_edit_a_user_and_every_edit_is_audited,
    disabling_a_user_kills_its_tokens_on_the_next_request,
    a_demoted_admin_loses_the_admin_api_at_the_next_request,
    an_admin_unlocks_a_locked_account,
    the_admin_api_refuses_non_admins_and_anonymous_callers,
);
