//! `/auth/*`: login, validate, me, refresh, logout, logout-all, password.

use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies::{self, set_token_cookies, CookieTokens};
use super::no_store;
use crate::dto::auth::{
    ChangePasswordRequest, LoginRequest, PasswordCheckRequest, PasswordCheckResponse,
    TokenResponse, ValidateResponse,
};
use crate::dto::two_factor::{ChallengeResponse, VerifyTwoFactorRequest};
use crate::dto::user::{MeResponse, UserResponse};
use crate::errors::AppResult;
use crate::middleware::auth::{Authenticated, MayChangePassword};
use crate::middleware::client::Client;
use crate::middleware::json::ApiJson;
use crate::middleware::rate_limit::{LoginRateLimit, PolicyCheckRateLimit};
use crate::middleware::refresh::RefreshInput;
use crate::services::login::LoginOutcome;
use crate::services::session::Issued;
use crate::state::AppState;

/// The contract's token response, never cached; in cookie mode without the
/// tokens, which then travel only in HttpOnly cookies a script cannot read.
pub fn token_response(issued: Issued, cookie_mode: bool) -> HttpResponse {
    let (access, refresh, device) = match cookie_mode {
        true => (None, None, None),
        false => (
            Some(issued.pair.access_token),
            Some(issued.pair.refresh_token),
            issued.device_token,
        ),
    };
    no_store(&TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: issued.pair.access_expires_in,
        refresh_token: refresh,
        refresh_expires_in: issued.pair.refresh_expires_in,
        session_id: issued.session_id,
        device_token: device,
        password_change_required: issued.user.must_change_password,
        user: UserResponse::from(&issued.user),
    })
}

/// The token response, plus the HttpOnly cookies when `cookie` is set.
pub fn token_response_for(issued: Issued, cookie: bool, state: &AppState) -> HttpResponse {
    if !cookie {
        return token_response(issued, false);
    }
    let (access, refresh) = (
        issued.pair.access_token.clone(),
        issued.pair.refresh_token.clone(),
    );
    let tokens = CookieTokens {
        access: &access,
        access_ttl: issued.pair.access_expires_in,
        refresh: &refresh,
        refresh_ttl: issued.pair.refresh_expires_in,
    };
    let device = issued.device_token.clone();
    let mut resp = token_response(issued, true);
    set_token_cookies(&mut resp, &tokens, state.cookie_secure);
    if let Some(device) = device {
        let ttl = state.devices.ttl_secs();
        cookies::set_device_cookie(&mut resp, &device, ttl, state.cookie_secure);
    }
    resp
}

/// `POST /auth/login`
pub async fn login(
    _: LoginRateLimit,
    req: HttpRequest,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(mut body): ApiJson<LoginRequest>,
) -> AppResult<HttpResponse> {
    let cookie = body.cookie;
    if body.device_token.is_none() {
        body.device_token = req
            .cookie(cookies::DEVICE_COOKIE)
            .map(|c| c.value().to_string());
    }
    match state.login.login(body, client).await? {
        LoginOutcome::Tokens(issued) => Ok(token_response_for(*issued, cookie, &state)),
        LoginOutcome::TwoFactor {
            challenge_token,
            expires_in,
        } => Ok(no_store(&ChallengeResponse {
            two_factor_required: true,
            challenge_token,
            expires_in,
            methods: ["totp", "recovery_code"],
        })),
    }
}

/// `POST /auth/verify-2fa`
pub async fn verify_two_factor(
    _: LoginRateLimit,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<VerifyTwoFactorRequest>,
) -> AppResult<HttpResponse> {
    let cookie = body.cookie;
    let issued = state
        .challenge
        .verify(
            body.challenge_token,
            body.code,
            body.remember_device,
            client,
        )
        .await?;
    Ok(token_response_for(issued, cookie, &state))
}

/// `POST /auth/refresh`
pub async fn refresh(
    state: web::Data<AppState>,
    Client(client): Client,
    input: RefreshInput,
) -> AppResult<HttpResponse> {
    let issued = state.refresh.refresh(input.body, client).await?;
    Ok(token_response_for(issued, input.from_cookie, &state))
}

/// `GET /auth/validate`
pub async fn validate(Authenticated(p): Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(ValidateResponse {
        valid: true,
        user_id: p.user_id,
        email: p.email.clone(),
        roles: p.roles.names(),
        session_id: p.session_id,
        token_id: p.jti,
        expires_at: p.expires_at,
    })
}

/// `GET /auth/me`
pub async fn me(
    MayChangePassword(p): MayChangePassword,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let user = state.users.find(p.user_id).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(&user)))
}

/// `POST /auth/logout`
pub async fn logout(
    MayChangePassword(p): MayChangePassword,
    state: web::Data<AppState>,
    Client(client): Client,
) -> AppResult<HttpResponse> {
    state.sessions.logout(p, client).await?;
    let mut resp = HttpResponse::NoContent().finish();
    cookies::clear_token_cookies(&mut resp, state.cookie_secure);
    Ok(resp)
}

/// `POST /auth/logout-all`
pub async fn logout_all(
    Authenticated(p): Authenticated,
    state: web::Data<AppState>,
    Client(client): Client,
) -> AppResult<HttpResponse> {
    let counts = state.sessions.logout_all(p, client).await?;
    let mut resp = HttpResponse::Ok().json(counts);
    cookies::clear_token_cookies(&mut resp, state.cookie_secure);
    Ok(resp)
}

/// `POST /auth/password/check`: what the policy says of a candidate, as the
/// person types it (no account needed: a sign-up or forced-change form asks).
pub async fn check_password(
    _budget: PolicyCheckRateLimit,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<PasswordCheckRequest>,
) -> AppResult<HttpResponse> {
    let email = body.email.as_deref().unwrap_or_default();
    let reasons = state.account.judge_password(&body.password, email);
    Ok(HttpResponse::Ok().json(PasswordCheckResponse {
        acceptable: reasons.is_empty(),
        reasons,
    }))
}

/// `POST /auth/password`
pub async fn change_password(
    MayChangePassword(p): MayChangePassword,
    state: web::Data<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    state.account.change_password(p, body, client).await?;
    Ok(HttpResponse::NoContent().finish())
}
