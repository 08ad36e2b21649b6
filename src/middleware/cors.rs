//! CORS from `TOKENWARD_CORS_ORIGINS`: only listed origins, credentials
//! allowed. A refused preflight is answered in the contract's error shape.

use actix_cors::{Cors, CorsError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::errors::AppError;

/// The CORS middleware for `origins` (call only when the list is not empty).
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-requested-with"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .supports_credentials()
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Rewrites actix-cors's plain-text refusals into the contract's error body.
pub async fn cors_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let refused = res
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
        .map(|e| match e {
            CorsError::OriginNotAllowed => AppError::Forbidden,
            _ => AppError::InvalidRequest("The cross-origin request is not allowed.".into()),
        });
    match refused {
        Some(err) => {
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::new(req, err.error_response()))
        }
        None => Ok(res.map_into_boxed_body()),
    }
}
