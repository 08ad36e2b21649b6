//! `/auth/2fa/*`: enrollment and removal of the caller's TOTP second factor.

use actix_web::{web, HttpResponse};

use super::no_store;
use crate::dto::two_factor::{
    DisableTwoFactorRequest, EnableTwoFactorRequest, RecoveryCodesResponse, SetupResponse,
};
use crate::errors::AppResult;
use crate::middleware::auth::Authenticated;
use crate::middleware::client::Client;
use crate::middleware::json::ApiJson;
use crate::state::AppState;

/// `POST /auth/2fa/setup`
pub async fn setup(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
) -> AppResult<HttpResponse> {
    let data = state.two_factor.setup(p, client).await?;
    Ok(no_store(&SetupResponse {
        secret: data.secret,
        otpauth_url: data.otpauth_url,
        qr_png_base64: data.qr_png_base64,
    }))
}

/// `POST /auth/2fa/enable`
pub async fn enable(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<EnableTwoFactorRequest>,
) -> AppResult<HttpResponse> {
    let recovery_codes = state
        .two_factor
        .enable(p, body.code, body.password, client)
        .await?;
    Ok(no_store(&RecoveryCodesResponse { recovery_codes }))
}

/// `POST /auth/2fa/recovery-codes`
pub async fn renew_recovery_codes(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<DisableTwoFactorRequest>,
) -> AppResult<HttpResponse> {
    let recovery_codes = state
        .two_factor
        .renew_recovery_codes(p, body.password, body.code, client)
        .await?;
    Ok(no_store(&RecoveryCodesResponse { recovery_codes }))
}

/// `POST /auth/2fa/disable`
pub async fn disable(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<DisableTwoFactorRequest>,
) -> AppResult<HttpResponse> {
    state
        .two_factor
        .disable(p, body.password, body.code, client)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
