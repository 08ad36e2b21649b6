//! `/admin/users`: create, list, read, edit, unlock.

use actix_web::{web, HttpResponse};

use crate::controllers::no_store;
use crate::controllers::parse_id;
use crate::dto::admin::{
    ResetPasswordRequest, TemporaryPasswordResponse, UpdateUserRequest, UserListQuery,
};
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

/// `GET /admin/users?limit&offset&email`: oldest first; `email` matches any
/// part of the address, whatever its case.
pub async fn list_users(
    _admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<UserListQuery>,
) -> AppResult<HttpResponse> {
    let users = state.admin.list_users(query.into_inner().parse()?).await?;
    let body: Vec<_> = users.iter().map(UserResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /admin/users/{id}`
pub async fn get_user(
    _admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = state.admin.get_user(parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `PATCH /admin/users/{id}`
pub async fn update_user(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let user = state.admin.update_user(actor, id, body, client).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `POST /admin/users/{id}/password`
pub async fn reset_password(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let generated = state
        .admin
        .reset_password(actor, id, body.password, client)
        .await?;
    Ok(match generated {
        Some(temporary_password) => no_store(&TemporaryPasswordResponse { temporary_password }),
        None => HttpResponse::NoContent().finish(),
    })
}

/// `POST /admin/users/{id}/unlock`
pub async fn unlock_user(
    Admin(actor): Admin,
    state: web::Data<AppState>,
    Client(client): Client,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    state
        .admin
        .unlock_user(actor, parse_id(&id)?, client)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
