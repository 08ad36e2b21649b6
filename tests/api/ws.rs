//! WebSocket tickets, upgrades, events, heartbeat and limits, through real sockets.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::backend_tests;
use crate::helpers::*;
use crate::ws_client::*;

const NURSE: &str = "nurse@example.com";

async fn a_ticket_is_issued_hashed_and_upgrades_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    let ticket = app.ws_ticket(&t.access).await;
    let hash = tokenward::security::hashing::token_hash(&ticket);
    let stored = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_type = 'ws' AND token_hash = '{hash}'"
    ));
    assert_eq!(stored, 1);
    let raw = app.sql_i64(&format!(
        "SELECT COUNT(*) AS n FROM tokens WHERE token_hash = '{ticket}'"
    ));
    assert_eq!(raw, 0);
    let ws = app.ws_try(&ticket).await.expect("first use upgrades");
    assert!(
        eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await,
        "socket registered"
    );
    assert_refused(app.ws_try(&ticket).await, "token_revoked");
    drop(ws);
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 0 }).await);
}

async fn forged_expired_missing_and_revoked_tickets_are_refused_before_upgrade(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    assert_refused(app.ws_try("forged-ticket-value").await, "token_invalid");
    assert_refused(app.ws_try(&"x".repeat(5000)).await, "token_invalid");
    assert_refused(app.ws_try("").await, "token_missing");
    // A bearer access token is not a ticket.
    assert_refused(app.ws_try(&t.access).await, "token_invalid");

    let expired = app.ws_ticket(&t.access).await;
    app.sql("UPDATE tokens SET expires_at = created_at WHERE token_type = 'ws'");
    assert_refused(app.ws_try(&expired).await, "token_expired");

    let other = app.admin().await;
    let orphan = app.ws_ticket(&other.access).await;
    app.post_auth("/auth/logout", &other.access, None).await;
    assert_refused(app.ws_try(&orphan).await, "token_revoked");

    assert_error(
        app.client
            .post(app.url("/api/ws/token"))
            .send()
            .await
            .unwrap(),
        401,
        "token_missing",
    )
    .await;
    // A valid ticket on a plain GET (no upgrade) is a bad request, never a 500.
    let plain = app.ws_ticket(&t.access).await;
    let resp = app
        .client
        .get(app.url(&format!("/ws?token={plain}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_request").await;
    assert_eq!(app.hub.count(), 0);
}

async fn two_sockets_of_one_user_both_receive_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let uid = app.create_user(NURSE, &["user"]).await;
    let phone = app.login_ok(NURSE, USER_PASSWORD).await;
    let laptop = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut a = app.ws_open(&phone.access).await;
    let mut b = app.ws_open(&laptop.access).await;
    let admin = app.admin().await;
    let mut admin_ws = app.ws_open(&admin.access).await;

    let body = json!({ "user_id": uid, "message": "Ward 3 handover at 14:00" });
    let resp = app
        .post_auth("/admin/notifications", &admin.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    for ws in [&mut a, &mut b] {
        let e = expect_event(ws, "notification").await;
        assert_eq!(e["message"], "Ward 3 handover at 14:00");
    }
    // Everyone, the admin included, gets a broadcast.
    let all = json!({ "message": "Maintenance tonight" });
    app.post_auth("/admin/notifications", &admin.access, Some(&all))
        .await;
    for ws in [&mut a, &mut b, &mut admin_ws] {
        assert_eq!(
            expect_event(ws, "notification").await["message"],
            "Maintenance tonight"
        );
    }
    // A new login is announced to the user's existing sockets.
    let third = app
        .client
        .post(app.url("/auth/login"))
        .header("user-agent", "NewDevice/1.0")
        .json(&json!({ "email": NURSE, "password": USER_PASSWORD }))
        .send()
        .await
        .unwrap();
    let third: Value = third.json().await.unwrap();
    for ws in [&mut a, &mut b] {
        let e = expect_event(ws, "session.created").await;
        assert_eq!(e["session_id"], third["session_id"]);
        assert_eq!(e["user_agent"], "NewDevice/1.0");
        assert_eq!(e["ip_address"], "127.0.0.1");
    }
}

async fn notifications_need_an_admin_a_message_and_a_known_user(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let nurse = app.login_ok(NURSE, USER_PASSWORD).await;
    let admin = app.admin().await;
    let path = "/admin/notifications";
    let msg = json!({ "message": "hi" });
    assert_error(
        app.post_auth(path, &nurse.access, Some(&msg)).await,
        403,
        "forbidden",
    )
    .await;
    for (body, code) in [
        (json!({ "message": "   " }), "validation_failed"),
        (json!({}), "validation_failed"),
        (
            json!({ "message": "hi", "user_id": "abc" }),
            "validation_failed",
        ),
        (json!({ "message": "hi", "extra": 1 }), "validation_failed"),
    ] {
        assert_error(
            app.post_auth(path, &admin.access, Some(&body)).await,
            422,
            code,
        )
        .await;
    }
    let unknown = json!({ "message": "hi", "user_id": "987654321" });
    assert_error(
        app.post_auth(path, &admin.access, Some(&unknown)).await,
        404,
        "not_found",
    )
    .await;
    let resp = app
        .client
        .post(app.url(path))
        .bearer_auth(&admin.access)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
}

async fn logout_on_one_device_revokes_and_closes_only_that_sessions_socket(backend: Backend) {
    let app = spawn_app(backend).await;
    let uid = app.create_user(NURSE, &["user"]).await;
    let phone = app.login_ok(NURSE, USER_PASSWORD).await;
    let laptop = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut a = app.ws_open(&phone.access).await;
    let mut b = app.ws_open(&laptop.access).await;
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 2 }).await);

    let resp = app.post_auth("/auth/logout", &phone.access, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (events, code) = expect_close(&mut a, Duration::from_secs(5)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "session.revoked");
    assert_eq!(events[0]["session_id"], phone.session_id.as_str());
    assert_eq!(events[0]["reason"], "logout");
    assert_eq!(code, Some(CloseCode::Policy));
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await);

    // The other device's socket is untouched and still receives events.
    let admin = app.admin().await;
    let body = json!({ "user_id": uid, "message": "still here" });
    app.post_auth("/admin/notifications", &admin.access, Some(&body))
        .await;
    assert_eq!(
        expect_event(&mut b, "notification").await["message"],
        "still here"
    );

    // Logout-all ends the laptop's session with its own reason.
    let resp = app
        .post_auth("/auth/logout-all", &laptop.access, None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (events, _) = expect_close(&mut b, Duration::from_secs(5)).await;
    assert_eq!(events[0]["type"], "session.revoked");
    assert_eq!(events[0]["reason"], "logout_all");
}

async fn refresh_token_reuse_and_password_change_revoke_sockets(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let stolen = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut ws = app.ws_open(&stolen.access).await;
    assert_eq!(app.refresh(&stolen.refresh).await.status(), StatusCode::OK);
    assert_error(app.refresh(&stolen.refresh).await, 401, "token_reused").await;
    let (events, _) = expect_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(events[0]["reason"], "reuse");

    let kept = app.login_ok(NURSE, USER_PASSWORD).await;
    let other = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut kept_ws = app.ws_open(&kept.access).await;
    let mut other_ws = app.ws_open(&other.access).await;
    let body = json!({ "current_password": USER_PASSWORD, "new_password": "brand-new-pass" });
    let resp = app
        .post_auth("/auth/password", &kept.access, Some(&body))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (events, _) = expect_close(&mut other_ws, Duration::from_secs(5)).await;
    assert_eq!(events[0]["session_id"], other.session_id.as_str());
    assert_eq!(events[0]["reason"], "password_change");
    assert!(matches!(
        next(&mut kept_ws, Duration::from_millis(300)).await,
        Next::Timeout
    ));
}

async fn rfc7009_revocation_of_a_refresh_token_pushes_session_revoked_at_once(backend: Backend) {
    // The periodic sweep is off: only the revocation's own push can close it.
    let app = spawn_app_with(backend, |s| s.ws_session_check_ms = 0).await;
    app.create_user(NURSE, &["user"]).await;
    let phone = app.login_ok(NURSE, USER_PASSWORD).await;
    let laptop = app.login_ok(NURSE, USER_PASSWORD).await;
    let mut revoked = app.ws_open(&phone.access).await;
    let mut kept = app.ws_open(&laptop.access).await;
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 2 }).await);

    let resp = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", phone.refresh.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (events, code) = expect_close(&mut revoked, Duration::from_secs(1)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "session.revoked");
    assert_eq!(events[0]["session_id"], phone.session_id.as_str());
    assert_eq!(events[0]["reason"], "rfc7009");
    assert_eq!(code, Some(CloseCode::Policy));
    assert_error(app.validate(&phone.access).await, 401, "token_revoked").await;

    // The same user's other session keeps its socket.
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await);
    let resp = app.post_auth("/auth/logout", &laptop.access, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (events, _) = expect_close(&mut kept, Duration::from_secs(1)).await;
    assert_eq!(events[0]["reason"], "logout");
}

async fn a_foreign_origin_or_a_plain_get_leaves_the_ticket_usable(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.cors_origins = vec!["https://ward.example.org".into()];
    })
    .await;
    let t = app.admin().await;
    let ticket = app.ws_ticket(&t.access).await;
    let refused = app
        .ws_try_from(&ticket, Some("https://evil.example.com"))
        .await;
    let Err(refused) = refused else {
        panic!("a foreign origin was let in")
    };
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.body["error"], "forbidden", "{refused:?}");
    let plain = app
        .client
        .get(app.url(&format!("/ws?token={ticket}")))
        .send()
        .await
        .unwrap();
    assert_error(plain, 400, "invalid_request").await;
    // Neither refusal spent the ticket: an allowed origin still upgrades with it.
    let ws = app
        .ws_try_from(&ticket, Some("https://ward.example.org"))
        .await
        .expect("allowed origin upgrades");
    drop(ws);
    // The server's own origin is allowed too.
    let own = app.address.replace("https://", "http://");
    let ticket = app.ws_ticket(&t.access).await;
    assert!(app.ws_try_from(&ticket, Some(&own)).await.is_ok());
}

async fn a_silent_client_is_dropped_by_the_heartbeat(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.ws_ping_interval_ms = 100;
        s.ws_idle_timeout_ms = 500;
    })
    .await;
    let t = app.admin().await;
    // This one never reads, so it never answers a ping.
    let mut silent = app.ws_open(&t.access).await;
    // This one reads all the time (tungstenite answers pings while reading).
    let mut lively = app.ws_open(&t.access).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        while let Next::Event(v) = next(&mut lively, Duration::from_secs(30)).await {
            let _ = tx.send(v);
        }
    });
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 2 }).await);
    assert!(
        eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await,
        "the silent socket is dropped"
    );
    let (_, code) = expect_close(&mut silent, Duration::from_secs(5)).await;
    assert_eq!(code, Some(CloseCode::Policy));
    let msg = json!({ "message": "ping test" });
    app.post_auth("/admin/notifications", &t.access, Some(&msg))
        .await;
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["message"], "ping test");
    reader.abort();
}

async fn the_oldest_socket_is_closed_past_the_per_user_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.ws_max_per_user = 2).await;
    let t = app.admin().await;
    let mut first = app.ws_open(&t.access).await;
    let _second = app.ws_open(&t.access).await;
    let _third = app.ws_open(&t.access).await;
    let (_, code) = expect_close(&mut first, Duration::from_secs(5)).await;
    assert_eq!(code, Some(CloseCode::Policy));
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 2 }).await);
}

async fn stopping_the_server_sends_close_frames(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.admin().await;
    let mut ws = app.ws_open(&t.access).await;
    assert!(eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await);
    app.stop().await;
    let (_, code) = expect_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(code, Some(CloseCode::Away));
}

backend_tests!(
    a_ticket_is_issued_hashed_and_upgrades_exactly_once,
    forged_expired_missing_and_revoked_tickets_are_refused_before_upgrade,
    two_sockets_of_one_user_both_receive_events,
    notifications_need_an_admin_a_message_and_a_known_user,
    logout_on_one_device_revokes_and_closes_only_that_sessions_socket,
    refresh_token_reuse_and_password_change_revoke_sockets,
    rfc7009_revocation_of_a_refresh_token_pushes_session_revoked_at_once,
    a_foreign_origin_or_a_plain_get_leaves_the_ticket_usable,
    a_silent_client_is_dropped_by_the_heartbeat,
    the_oldest_socket_is_closed_past_the_per_user_limit,
    stopping_the_server_sends_close_frames,
);
