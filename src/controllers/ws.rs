//! `POST /api/ws/token` (a single-use ticket) and `GET /ws` (the upgrade).
//! The ticket is checked before any upgrade; the query string is never logged.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::no_store;
use crate::dto::ws::{WsQuery, WsTicketResponse};
use crate::errors::{AppError, AppResult};
use crate::middleware::auth::Authenticated;
use crate::middleware::client::Client;
use crate::realtime::socket::Upgraded;
use crate::state::AppState;

/// `POST /api/ws/token`
pub async fn issue_ticket(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
) -> AppResult<HttpResponse> {
    let ticket = state.ws.issue_ticket(&p, client).await?;
    Ok(no_store(&WsTicketResponse {
        token: ticket.token,
        expires_in: ticket.expires_in,
    }))
}

/// `GET /ws?token=...`
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    Client(client): Client,
    query: web::Query<WsQuery>,
) -> AppResult<HttpResponse> {
    // Origin and handshake are checked before the ticket is spent, so a
    // refused request leaves a good ticket usable.
    let origin = req.headers().get(header::ORIGIN).map(|v| v.to_str().ok());
    let host = req.connection_info().host().to_string();
    if !state.ws.origin_allowed(origin, &host) {
        tracing::warn!(ip = ?client.ip, "websocket origin refused");
        return Err(AppError::Forbidden);
    }
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|_| AppError::InvalidRequest("A WebSocket upgrade request is required.".into()))?;
    let raw = query.into_inner().token.unwrap_or_default();
    let owner = match state.ws.redeem_ticket(raw.trim()).await {
        Ok(owner) => owner,
        Err(e) => {
            tracing::warn!(reason = e.code(), ip = ?client.ip, "websocket ticket refused");
            return Err(e);
        }
    };
    state
        .ws
        .connect(owner, client, Upgraded { session, stream });
    Ok(response)
}
