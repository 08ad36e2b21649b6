//! The console in a real Chromium, as staff and admins use it: sign-in with
//! and without 2FA, remembered devices, lock messages, enrolling 2FA, ending
//! sessions seen live in another browser, the forced password change, and the
//! admin screens. Every page ends free of script errors and CSP violations;
//! screenshots land in `target/console-screenshots/`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::browser::{driver, Page};
use crate::helpers::*;
use crate::totp::code_now;

const NURSE: &str = "nurse@example.com";

/// A test app for the browser: cookies without `Secure` (plain HTTP).
async fn console_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.cookie_secure = false).await
}

/// Signs in on `/ui/` with the first factor.
async fn sign_in(page: &Page, email: &str, password: &str) {
    page.goto("/ui/").await;
    page.shown("view-signin").await;
    page.fill("signin-email", email).await;
    page.fill("signin-password", password).await;
    page.click("signin-submit").await;
}

/// Signs in and waits for the account page.
async fn signed_in(page: &Page, email: &str, password: &str) {
    sign_in(page, email, password).await;
    page.wait_text("me-email", email).await;
}

async fn sign_in_without_2fa_shows_the_account_and_signs_out(backend: Backend) {
    let Some(driver) = driver("sign_in_without_2fa").await else {
        return;
    };
    // The first-start defaults: `Secure` cookies, which browsers take from 127.0.0.1.
    let app = spawn_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let page = driver.open(&app.address).await;
    page.goto("/ui/").await;
    page.shown("view-signin").await;
    page.screenshots("signin").await;
    signed_in(&page, NURSE, USER_PASSWORD).await;
    page.wait_count("#sessions-list [data-session-id].current", 1)
        .await;
    page.gone("admin-link").await;
    page.screenshots("account").await;
    // The session the page holds is the one the API lists for the nurse.
    let t = app.login_ok(NURSE, USER_PASSWORD).await;
    let sessions: Vec<Value> = app
        .get_auth("/auth/sessions", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    page.click("signout").await;
    page.shown("view-signin").await;
    // Signed out for real: a reload lands on the sign-in form again.
    page.goto("/ui/").await;
    page.shown("view-signin").await;
    page.assert_clean().await;
    page.close().await;
}

async fn wrong_passwords_then_the_lock_are_told_plainly(backend: Backend) {
    let Some(driver) = driver("wrong_passwords").await else {
        return;
    };
    let app = console_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let page = driver.open(&app.address).await;
    sign_in(&page, NURSE, "not-the-password-1").await;
    page.wait_text("signin-error", "email or password is wrong")
        .await;
    // Four more failures elsewhere lock the account.
    for _ in 0..4 {
        app.login(NURSE, "not-the-password-1").await;
    }
    // The lock holds for the right password too, and says when it ends.
    page.fill("signin-password", USER_PASSWORD).await;
    page.click("signin-submit").await;
    let text = page.wait_text("signin-error", "unlocks at").await;
    assert!(text.chars().any(|c| c.is_ascii_digit()), "{text}");
    page.screenshots("signin-locked").await;
    page.assert_clean().await;
    page.close().await;
}

/// Enrolls 2FA on the account page; returns the secret the page showed.
async fn enrol_two_factor(page: &Page) -> String {
    page.click("twofa-enrol").await;
    page.shown("twofa-qr").await;
    let secret: String = page
        .text("twofa-secret")
        .await
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    assert!(secret.len() >= 16, "{secret}");
    page.screenshots("twofa-enrol").await;
    page.fill("twofa-enrol-code", &code_now(&secret, 0)).await;
    page.fill("twofa-enrol-password", USER_PASSWORD).await;
    page.click("twofa-enrol-submit").await;
    page.wait_count("#recovery-codes li", 10).await;
    page.shown("recovery-download").await;
    page.screenshots("recovery-codes").await;
    page.click("recovery-done").await;
    page.wait_text("twofa-state", "on").await;
    secret
}

async fn enrol_2fa_then_sign_in_with_a_code_and_a_remembered_device(backend: Backend) {
    let Some(driver) = driver("enrol_2fa").await else {
        return;
    };
    let app = console_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let page = driver.open(&app.address).await;
    signed_in(&page, NURSE, USER_PASSWORD).await;
    page.wait_text("twofa-state", "off").await;
    let secret = enrol_two_factor(&page).await;
    page.click("signout").await;

    // The second step, with "remember this device".
    sign_in(&page, NURSE, USER_PASSWORD).await;
    page.shown("view-twofa").await;
    page.screenshots("signin-2fa").await;
    page.fill("twofa-code", "000000").await;
    page.click("twofa-submit").await;
    page.wait_text("twofa-error", "not right").await;
    page.fill("twofa-code", &code_now(&secret, 1)).await;
    page.click("twofa-remember").await;
    page.click("twofa-submit").await;
    page.wait_text("me-email", NURSE).await;
    page.wait_count("#devices-list [data-device-id]", 1).await;
    page.click("signout").await;

    // This browser is remembered: the password alone signs in.
    signed_in(&page, NURSE, USER_PASSWORD).await;
    // Another browser is not.
    let other = driver.open(&app.address).await;
    sign_in(&other, NURSE, USER_PASSWORD).await;
    other.shown("view-twofa").await;
    page.assert_clean().await;
    other.assert_clean().await;
    page.close().await;
    other.close().await;
}

async fn ending_another_session_signs_that_browser_out_at_once(backend: Backend) {
    let Some(driver) = driver("ending_another_session").await else {
        return;
    };
    let app = console_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let desk = driver.open(&app.address).await;
    signed_in(&desk, NURSE, USER_PASSWORD).await;
    desk.wait_count("#sessions-list [data-session-id]", 1).await;
    let ward = driver.open(&app.address).await;
    signed_in(&ward, NURSE, USER_PASSWORD).await;
    // The first browser hears of the new sign-in and lists it.
    desk.wait_text("notice", "sign-in").await;
    desk.wait_count("#sessions-list [data-session-id]", 2).await;
    // Ending one session is a single click (ending all others asks first).
    desk.click_css("#sessions-list [data-end-session]").await;
    ward.wait_text("signin-notice", "signed out").await;
    ward.shown("view-signin").await;
    desk.wait_count("#sessions-list [data-session-id]", 1).await;
    desk.wait_count("#sessions-list [data-session-id].current", 1)
        .await;
    desk.assert_clean().await;
    ward.assert_clean().await;
    desk.close().await;
    ward.close().await;
}

async fn a_reset_password_must_be_changed_before_anything_else(backend: Backend) {
    let Some(driver) = driver("forced_change").await else {
        return;
    };
    let app = console_app(backend).await;
    let id = app.create_user(NURSE, &["user"]).await;
    let admin = app.admin().await.access;
    let temporary = "Harbour-Violet-Tundra-42";
    let path = format!("/admin/users/{id}/password");
    let resp = app
        .post_auth(&path, &admin, Some(&json!({ "password": temporary })))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let page = driver.open(&app.address).await;
    sign_in(&page, NURSE, temporary).await;
    page.shown("view-forced").await;
    page.fill("forced-current", temporary).await;
    page.fill("forced-new", "short").await;
    page.wait_text("forced-reasons", "at least 12 characters")
        .await;
    page.screenshots("forced-change").await;
    page.fill("forced-new", "Meadow-Copper-Lantern-77").await;
    page.click("forced-submit").await;
    page.wait_text("me-email", NURSE).await;
    assert_eq!(
        app.login(NURSE, "Meadow-Copper-Lantern-77").await.status(),
        200
    );
    page.assert_clean().await;
    page.close().await;
}

async fn admins_create_users_reset_passwords_end_sessions_and_see_charts(backend: Backend) {
    let Some(driver) = driver("admin_console").await else {
        return;
    };
    let app = console_app(backend).await;
    let admin = driver.open(&app.address).await;
    signed_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    admin.click("admin-link").await;
    admin.shown("admin-main").await;

    // Create an account through the form, with the policy's reasons live.
    admin.fill("create-email", NURSE).await;
    admin.fill("create-name", "Nurse Joy").await;
    admin.fill("create-password", "password1234").await;
    admin.wait_text("create-reasons", "too common").await;
    admin.fill("create-password", USER_PASSWORD).await;
    admin.click("create-submit").await;
    admin.wait_count("#users-table tr[data-user-id]", 2).await;
    assert_eq!(
        app.login(NURSE, USER_PASSWORD).await.status(),
        StatusCode::OK
    );

    // Reset the password: the temporary one is shown once.
    let token = app.admin().await.access;
    let found: Value = app
        .get_auth("/admin/users?email=nurse", &token)
        .await
        .json()
        .await
        .unwrap();
    let open = format!("[data-open-user=\"{}\"]", found[0]["id"].as_str().unwrap());
    admin.click_css(&open).await;
    admin.wait_text("user-detail-email", NURSE).await;
    admin.click("user-reset-password").await;
    admin.click("confirm-yes").await;
    let temporary = admin.text("temp-password").await;
    assert!(temporary.len() >= 12, "{temporary}");

    // The nurse signs in elsewhere (changing the temporary password), then the
    // admin ends every session of hers: her page signs out at once.
    let nurse = driver.open(&app.address).await;
    sign_in(&nurse, NURSE, &temporary).await;
    nurse.fill("forced-current", &temporary).await;
    nurse.fill("forced-new", "Meadow-Copper-Lantern-77").await;
    nurse.click("forced-submit").await;
    nurse.wait_text("me-email", NURSE).await;
    admin.click_css(&open).await;
    admin
        .wait_count("#user-sessions [data-session-id]", 1)
        .await;
    admin.click("user-end-sessions").await;
    admin.click("confirm-yes").await;
    nurse.wait_text("signin-notice", "administrator").await;
    admin
        .wait_count("#user-sessions [data-session-id]", 0)
        .await;

    // Charts drawn from the hourly figures, and the audit trail.
    admin.goto("/ui/admin").await;
    admin.shown("admin-main").await;
    for series in [
        "logins",
        "failed_logins",
        "active_sessions",
        "refreshes",
        "revocations",
    ] {
        let chart = format!("#charts svg.chart[data-series=\"{series}\"]");
        admin.wait_count(&chart, 1).await;
        let marks = format!("{chart} path, {chart} rect, {chart} circle, {chart} polyline");
        admin.wait_at_least(&marks, 1).await;
    }
    admin
        .wait_at_least("#audit-table tr[data-audit-id]", 3)
        .await;
    admin.screenshots("admin").await;
    admin.assert_clean().await;
    nurse.assert_clean().await;
    admin.close().await;
    nurse.close().await;
}

async fn the_admin_page_turns_away_other_roles(backend: Backend) {
    let Some(driver) = driver("admin_page_roles").await else {
        return;
    };
    let app = console_app(backend).await;
    app.create_user(NURSE, &["user"]).await;
    let page = driver.open(&app.address).await;
    signed_in(&page, NURSE, USER_PASSWORD).await;
    page.goto("/ui/admin").await;
    page.shown("admin-denied").await;
    page.gone("admin-main").await;
    page.assert_clean().await;
    page.close().await;
}

backend_tests!(
    sign_in_without_2fa_shows_the_account_and_signs_out,
    enrol_2fa_then_sign_in_with_a_code_and_a_remembered_device,
);

mod sqlite_only {
    use super::*;

    macro_rules! on_sqlite {
        ($($name:ident),+ $(,)?) => {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(Backend::Sqlite).await;
                }
            )+
        };
    }

    on_sqlite!(
        wrong_passwords_then_the_lock_are_told_plainly,
        ending_another_session_signs_that_browser_out_at_once,
        a_reset_password_must_be_changed_before_anything_else,
        admins_create_users_reset_passwords_end_sessions_and_see_charts,
        the_admin_page_turns_away_other_roles,
    );
}
