//! Answers for unknown routes, unserved methods and extractor failures, in the
//! contract's error shape.

use crate::errors::AppError;

/// Unknown route.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Known path, unserved method: 405 with the `Allow` header RFC 9110 asks for.
pub async fn method_not_allowed(allow: &'static str) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let mut resp = AppError::MethodNotAllowed.error_response();
    resp.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static(allow),
    );
    resp
}

/// Bad query string.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    tracing::debug!(error = %err, "bad query string");
    AppError::InvalidRequest("The query string is invalid.".into()).into()
}

/// Bad path segment: names nothing.
pub fn path_error(
    err: actix_web::error::PathError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    tracing::debug!(error = %err, "bad path parameter");
    AppError::NotFound.into()
}

/// Bad form body.
pub fn form_error(
    err: actix_web::error::UrlencodedError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    match err {
        actix_web::error::UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge.into(),
        actix_web::error::UrlencodedError::ContentType => AppError::FormExpected.into(),
        _ => AppError::InvalidRequest("The form body is invalid.".into()).into(),
    }
}

/// Bad JSON through actix's own extractor (kept consistent with `ApiJson`).
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => AppError::PayloadTooLarge.into(),
        E::ContentType => AppError::UnsupportedMediaType.into(),
        _ => AppError::InvalidRequest("The request body is not valid JSON.".into()).into(),
    }
}
