//! Cookie mode: the HttpOnly, SameSite=Strict cookies set next to a token
//! response when the client asked for them.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpResponse;

use crate::middleware::auth::ACCESS_COOKIE;
use crate::middleware::refresh::REFRESH_COOKIE;

/// The tokens to put in cookies, with their lifetimes in seconds.
pub struct CookieTokens<'a> {
    /// Access JWT.
    pub access: &'a str,
    /// Access lifetime.
    pub access_ttl: i64,
    /// Refresh token.
    pub refresh: &'a str,
    /// Refresh lifetime.
    pub refresh_ttl: i64,
}

fn cookie<'a>(name: &'a str, value: &'a str, path: &'a str, ttl: i64, secure: bool) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::seconds(ttl.max(0)))
        .finish()
}

/// Adds `access_token` (Path=/) and `refresh_token` (Path=/auth/refresh).
pub fn set_token_cookies(resp: &mut HttpResponse, tokens: &CookieTokens<'_>, secure: bool) {
    let pairs = [
        cookie(ACCESS_COOKIE, tokens.access, "/", tokens.access_ttl, secure),
        cookie(
            REFRESH_COOKIE,
            tokens.refresh,
            "/auth/refresh",
            tokens.refresh_ttl,
            secure,
        ),
    ];
    for c in pairs {
        if let Err(e) = resp.add_cookie(&c) {
            tracing::warn!(error = %e, "could not set a session cookie");
        }
    }
}

/// Name of the remember-this-device cookie (cookie mode).
pub const DEVICE_COOKIE: &str = "device_token";

/// Adds `device_token` (Path=/auth: only login reads it) for `ttl` seconds.
pub fn set_device_cookie(resp: &mut HttpResponse, token: &str, ttl: i64, secure: bool) {
    if let Err(e) = resp.add_cookie(&cookie(DEVICE_COOKIE, token, "/auth", ttl, secure)) {
        tracing::warn!(error = %e, "could not set the device cookie");
    }
}

/// Tells the browser to drop both token cookies (same names and paths, empty,
/// already expired): sent by logout and logout-all, whose tokens are revoked.
pub fn clear_token_cookies(resp: &mut HttpResponse, secure: bool) {
    for c in [
        cookie(ACCESS_COOKIE, "", "/", 0, secure),
        cookie(REFRESH_COOKIE, "", "/auth/refresh", 0, secure),
    ] {
        if let Err(e) = resp.add_removal_cookie(&c) {
            tracing::warn!(error = %e, "could not clear a session cookie");
        }
    }
}
