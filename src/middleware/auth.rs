//! `Authenticated` and `Admin` extractors: every bearer-protected handler takes
//! one of them first, so a missing or bad token wins over a bad body. Without
//! an `Authorization` header the HttpOnly `access_token` cookie is accepted,
//! and then a state-changing request must carry `X-Requested-With: tokenward`.

use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::errors::AppError;
use crate::models::Role;
use crate::principal::Principal;
use crate::state::AppState;

/// A caller whose access token passed double validation (and whose account
/// is not waiting for a forced password change).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// A validated caller, also while an admin reset requires a password change:
/// only `GET /auth/me`, `POST /auth/password` and `POST /auth/logout` take it.
#[derive(Debug, Clone)]
pub struct MayChangePassword(pub Principal);

/// A validated caller who currently holds the `admin` role.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

/// The raw bearer token from `Authorization: Bearer ...`.
fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(AppError::TokenMissing);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::TokenInvalid("unreadable authorization header"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AppError::TokenMissing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AppError::TokenMissing);
    }
    Ok(token.to_string())
}

/// Name of the access-token cookie (cookie mode).
pub const ACCESS_COOKIE: &str = "access_token";
/// The CSRF header a cookie-authenticated state-changing request must carry.
pub const CSRF_HEADER: &str = "x-requested-with";
/// Its required value.
pub const CSRF_VALUE: &str = "tokenward";

/// The CSRF rule of cookie mode: safe methods pass, others need the header.
pub fn csrf_check(req: &HttpRequest) -> Result<(), AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if sent.is_some_and(|v| v.eq_ignore_ascii_case(CSRF_VALUE)) {
        Ok(())
    } else {
        Err(AppError::CsrfHeaderMissing)
    }
}

/// The bearer token, or else the access cookie (checked against the CSRF rule).
fn credential(req: &HttpRequest) -> Result<String, AppError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return bearer(req);
    }
    match req.cookie(ACCESS_COOKIE) {
        Some(c) if !c.value().is_empty() => {
            csrf_check(req)?;
            Ok(c.value().to_string())
        }
        _ => Err(AppError::TokenMissing),
    }
}

fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Principal, AppError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = credential(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
        let token = token?;
        state.validator.authenticate(&token).await
    })
}

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move {
            let principal = fut.await?;
            if principal.must_change_password {
                return Err(AppError::PasswordChangeRequired);
            }
            Ok(Authenticated(principal))
        })
    }
}

impl FromRequest for MayChangePassword {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move { fut.await.map(MayChangePassword) })
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        // An admin is first an authenticated caller (a forced change included).
        let fut = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(principal) = fut.await?;
            if !principal.has_role(&Role::Admin) {
                return Err(AppError::Forbidden);
            }
            Ok(Admin(principal))
        })
    }
}
