//! `Authenticated` and `Admin` extractors: every bearer-protected handler takes
//! one of them first, so a missing or bad token wins over a bad body.

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::errors::AppError;
use crate::services::token::Principal;
use crate::services::user::ADMIN_ROLE;
use crate::state::AppState;

/// A caller whose access token passed double validation.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

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

fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Principal, AppError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
        let token = token?;
        state.tokens.authenticate(&token).await
    })
}

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move { fut.await.map(Authenticated) })
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move {
            let principal = fut.await?;
            if !principal.has_role(ADMIN_ROLE) {
                return Err(AppError::Forbidden);
            }
            Ok(Admin(principal))
        })
    }
}
