//! `/oauth/*` (RFC 7662, RFC 7009) and `/.well-known/jwks.json` (RFC 7517).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::dto::oauth::TokenForm;
use crate::errors::AppResult;
use crate::middleware::auth::Authenticated;
use crate::middleware::client::Client;
use crate::services::oauth::may_introspect;
use crate::state::AppState;

/// `POST /oauth/introspect`
pub async fn introspect(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> AppResult<HttpResponse> {
    may_introspect(&caller)?;
    let answer = state.oauth.introspect(form.into_inner().token).await?;
    Ok(super::no_store(&answer))
}

/// `POST /oauth/revoke`
pub async fn revoke(
    state: web::Data<AppState>,
    Client(client): Client,
    form: web::Form<TokenForm>,
) -> AppResult<HttpResponse> {
    state.oauth.revoke(form.into_inner().token, client).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `GET /.well-known/oauth-authorization-server`
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(state.oauth.metadata())
}

/// `GET /.well-known/jwks.json`
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let ring = state.issuer.keys().current();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(ring.jwks())
}
