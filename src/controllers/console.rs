//! `/ui/*`: the browser console's pages and assets. Pages are never cached and
//! carry a strict Content-Security-Policy (no inline script or style, nothing
//! from another origin); assets are versioned and cached for a year.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse, HttpResponseBuilder};

use crate::errors::{AppError, AppResult};
use crate::services::console::Page;
use crate::state::AppState;

/// The console's Content-Security-Policy: its own files only; the QR code of
/// 2FA enrollment is a `data:` image; sockets and fetches go to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn secured(mut b: HttpResponseBuilder) -> HttpResponseBuilder {
    b.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"));
    b
}

fn page(state: &AppState, which: Page) -> AppResult<HttpResponse> {
    let html = state
        .console
        .page(which)
        .ok_or_else(|| AppError::internal("console page missing from the build"))?;
    Ok(secured(HttpResponse::Ok())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `GET /ui/`: sign-in and the account page.
pub async fn account_page(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    page(&state, Page::Account)
}

/// `GET /ui/admin`: the admin screens (the page checks the role through the API).
pub async fn admin_page(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    page(&state, Page::Admin)
}

/// `GET /ui`: to `/ui/`, so relative links resolve under it.
pub async fn to_console() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, HeaderValue::from_static("/ui/")))
        .finish()
}

/// `GET /ui/assets/{version}/{path}`: one asset of the running version.
pub async fn asset(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (version, file) = path.into_inner();
    let found = state
        .console
        .asset(&version, &file)
        .ok_or(AppError::NotFound)?;
    Ok(secured(HttpResponse::Ok())
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .content_type(found.content_type)
        .body(found.body.into_owned()))
}
