//! `RefreshInput`: the refresh token of `POST /auth/refresh`, from the JSON body
//! or, when the body carries none, from the HttpOnly `refresh_token` cookie
//! (then the CSRF header is required, as for any cookie-authenticated write).

use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::auth::csrf_check;
use super::json::{declares_json, parse_document, parse_value, payload_error};
use crate::dto::auth::RefreshRequest;
use crate::errors::AppError;

/// Name of the refresh-token cookie (cookie mode).
pub const REFRESH_COOKIE: &str = "refresh_token";

/// Where the refresh token came from.
#[derive(Debug)]
pub struct RefreshInput {
    /// The request, validated.
    pub body: RefreshRequest,
    /// True when it was read from the cookie (the answer then sets new cookies).
    pub from_cookie: bool,
}

impl FromRequest for RefreshInput {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = declares_json(req);
        let cookie = req
            .cookie(REFRESH_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|v| !v.is_empty());
        let csrf = csrf_check(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| payload_error(&e))?;
            let blank = bytes.iter().all(u8::is_ascii_whitespace);
            let document = if blank {
                None
            } else {
                Some(parse_document(json, &bytes)?)
            };
            let names_token = document
                .as_ref()
                .is_some_and(|d| d.get("refresh_token").is_some());
            if let (false, Some(token)) = (names_token, cookie) {
                csrf?;
                let body = parse_value(serde_json::json!({ "refresh_token": token }))?;
                return Ok(Self {
                    body,
                    from_cookie: true,
                });
            }
            let Some(document) = document else {
                return Err(AppError::InvalidRequest(
                    "A JSON request body is required.".into(),
                ));
            };
            Ok(Self {
                body: parse_value(document)?,
                from_cookie: false,
            })
        })
    }
}
