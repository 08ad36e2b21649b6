//! `DELETE /admin/users/{id}/2fa`: an admin resets a user's second factor.

use actix_web::{web, HttpResponse};

use crate::controllers::parse_id;
use crate::errors::AppResult;
use crate::middleware::auth::Admin;
use crate::middleware::client::Client;
use crate::state::AppState;

/// `DELETE /admin/users/{id}/2fa`
pub async fn reset_two_factor(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    state.two_factor.admin_reset(actor, id, client).await?;
    Ok(HttpResponse::NoContent().finish())
}
