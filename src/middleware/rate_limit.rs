//! `LoginRateLimit`: an extractor placed first in login and verify-2fa, so a
//! client over its budget gets 429 before any work is done. The client is the
//! one stored on tokens (`client::request_ip`: the `X-Forwarded-For` client
//! behind a trusted proxy, else the peer); the limiter keys IPv6 by its /64.

use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::client::request_ip;
use crate::errors::AppError;
use crate::state::AppState;

/// Proof that the request is within the per-IP budget of password checks
/// (`POST /auth/password/check`, which costs a strength estimate each).
#[derive(Debug, Clone, Copy)]
pub struct PolicyCheckRateLimit;

impl FromRequest for PolicyCheckRateLimit {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let checked = match req.app_data::<web::Data<AppState>>() {
            None => Err(AppError::internal("application state missing")),
            Some(state) => {
                let ip = request_ip(req, &state.trusted_proxies);
                state
                    .policy_limiter
                    .check(ip)
                    .map(|()| PolicyCheckRateLimit)
            }
        };
        std::future::ready(checked)
    }
}

/// Proof that the request is within the login rate limit.
#[derive(Debug, Clone, Copy)]
pub struct LoginRateLimit;

impl FromRequest for LoginRateLimit {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Box::pin(async { Err(AppError::internal("application state missing")) });
        };
        let ip = request_ip(req, &state.trusted_proxies);
        Box::pin(async move {
            let checked = state.login_limiter.check_shared(ip).await;
            if checked.is_err() {
                crate::metrics::login("rate_limited");
            }
            checked?;
            Ok(LoginRateLimit)
        })
    }
}
