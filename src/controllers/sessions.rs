//! `/auth/sessions` and `/auth/devices`: the caller's live sessions and remembered devices.

use actix_web::{web, HttpResponse};

use super::parse_id;
use crate::dto::session::{DeviceResponse, SessionResponse};
use crate::errors::AppResult;
use crate::middleware::auth::Authenticated;
use crate::middleware::client::Client;
use crate::state::AppState;

/// `GET /auth/sessions`
pub async fn list_sessions(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let sessions = state.sessions.list_active(p.user_id).await?;
    let body: Vec<_> = sessions
        .iter()
        .map(|s| SessionResponse::from_session(s, Some(p.session_id)))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /auth/sessions/{id}`
pub async fn delete_session(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    state.sessions.revoke_own(p, id, client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /auth/devices`
pub async fn list_devices(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let devices = state.devices.list(p.user_id).await?;
    let body: Vec<_> = devices.iter().map(DeviceResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /auth/devices/{id}`
pub async fn delete_device(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    state.devices.forget(p, parse_id(&id)?, client).await?;
    Ok(HttpResponse::NoContent().finish())
}
