//! `LoginRateLimit`: an extractor placed first in login and verify-2fa, so a
//! client over its per-IP budget gets 429 before any work is done.

use std::net::IpAddr;

use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::client::client_ip;
use crate::errors::AppError;
use crate::state::AppState;

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
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip: Option<IpAddr> = client_ip(
            req.peer_addr().map(|a| a.ip()),
            forwarded,
            &state.trusted_proxies,
        );
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
