//! `/admin/audit`: the audit trail, filtered, newest first.

use actix_web::{web, HttpResponse};

use crate::dto::audit::{AuditEventResponse, AuditQuery};
use crate::errors::AppResult;
use crate::middleware::auth::Admin;
use crate::state::AppState;

/// `GET /admin/audit?user_id&event&since&limit`
pub async fn list_audit(
    _admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let events = state
        .admin
        .audit_events(query.into_inner().parse()?)
        .await?;
    let body: Vec<_> = events.into_iter().map(AuditEventResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}
