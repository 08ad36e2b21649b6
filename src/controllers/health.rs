//! `/health/*`: liveness and readiness.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::errors::AppResult;
use crate::state::AppState;

/// `GET /health/live`: the process answers.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /health/ready`: the database, and Redis when configured, answer (else 503).
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let ready = state.health.ready().await?;
    if !ready.redis {
        return Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "up" })));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "up", "redis": "up" })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    state.metrics.authorize(presented)?;
    let body = state.metrics.render().await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// `GET /api-docs/openapi.json`: the OpenAPI document of every route.
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

/// `GET /docs`: to the interactive UI, served under `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
