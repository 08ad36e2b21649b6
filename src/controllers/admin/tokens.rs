//! `/admin/tokens/*` and `/admin/stats/*`: a user's sessions, revocation, metrics.

use actix_web::{web, HttpResponse};

use crate::controllers::parse_id;
use crate::dto::admin::{HourlyStatsQuery, RevokeTokenRequest, RevokeTokenResponse};
use crate::dto::session::SessionResponse;
use crate::errors::AppResult;
use crate::middleware::auth::Admin;
use crate::middleware::client::Client;
use crate::middleware::json::ApiJson;
use crate::state::AppState;

/// `GET /admin/tokens/sessions/{user_id}`
pub async fn list_user_sessions(
    _admin: Admin,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let sessions = state.admin.user_sessions(parse_id(&user_id)?).await?;
    let body: Vec<_> = sessions
        .iter()
        .map(|s| SessionResponse::from_session(s, None))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /admin/tokens/sessions/{user_id}`
pub async fn revoke_user_sessions(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    user_id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user_id = parse_id(&user_id)?;
    let counts = state
        .admin
        .revoke_user_sessions(actor, user_id, client)
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}

/// `POST /admin/tokens/revoke`: `{"token"}` or `{"jti"}`.
pub async fn revoke_token(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<RevokeTokenRequest>,
) -> AppResult<HttpResponse> {
    let revoked = state
        .admin
        .revoke_token(actor, body.into_ref()?, client)
        .await?;
    Ok(HttpResponse::Ok().json(RevokeTokenResponse { revoked }))
}

/// `GET /admin/stats/hourly?hours`
pub async fn hourly_stats(
    _admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<HourlyStatsQuery>,
) -> AppResult<HttpResponse> {
    let hours = query.into_inner().parse()?;
    Ok(HttpResponse::Ok().json(state.admin.hourly_stats(hours).await?))
}

/// `GET /admin/tokens/metrics`
pub async fn token_metrics(_admin: Admin, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.admin.token_metrics().await?))
}
