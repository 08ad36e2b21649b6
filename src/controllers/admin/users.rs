//! `/admin/users`.

use actix_web::{web, HttpResponse};

use crate::dto::user::{CreateUserRequest, UserResponse};
use crate::errors::AppResult;
use crate::middleware::auth::Admin;
use crate::middleware::client::Client;
use crate::middleware::json::ApiJson;
use crate::state::AppState;

/// `POST /admin/users`
pub async fn create_user(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> AppResult<HttpResponse> {
    let user = state.users.create(actor, body, client).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(&user)))
}
