//! `POST /admin/notifications`: a message pushed over WebSocket.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::dto::ws::NotificationRequest;
use crate::errors::AppResult;
use crate::middleware::auth::Admin;
use crate::middleware::json::ApiJson;
use crate::state::AppState;

/// `POST /admin/notifications`
pub async fn send_notification(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<NotificationRequest>,
) -> AppResult<HttpResponse> {
    let recipient = body.recipient()?;
    state
        .ws
        .notify(actor.user_id, recipient, body.message)
        .await?;
    Ok(HttpResponse::Accepted().json(json!({ "status": "accepted" })))
}
