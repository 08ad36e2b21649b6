//! Thin HTTP handlers: extract, make one service call, shape the answer.

pub mod admin;
pub mod auth;
pub mod console;
pub mod cookies;
pub mod fallback;
pub mod health;
pub mod oauth;
pub mod sessions;
pub mod two_factor;
pub mod ws;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

/// A 200 JSON answer that must never be cached (token responses, RFC 6749 5.1).
pub fn no_store<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// Parses a path id; anything that is not one names nothing (404).
pub fn parse_id(raw: &str) -> Result<i64, crate::errors::AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(crate::errors::AppError::NotFound)
}
