//! The one route table. Each path is a resource whose unserved methods answer 405.

use actix_web::{web, Resource};

use crate::controllers::{admin, auth, console, fallback, health, oauth, sessions, two_factor, ws};

/// A path serving `allow` (e.g. `"GET, DELETE"`); other methods get 405 with
/// that `Allow` header (RFC 9110).
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || fallback::method_not_allowed(allow)))
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/login", "POST").route(web::post().to(auth::login)))
        .service(
            resource("/auth/verify-2fa", "POST").route(web::post().to(auth::verify_two_factor)),
        )
        .service(resource("/auth/refresh", "POST").route(web::post().to(auth::refresh)))
        .service(resource("/auth/validate", "GET").route(web::get().to(auth::validate)))
        .service(resource("/auth/me", "GET").route(web::get().to(auth::me)))
        .service(resource("/auth/logout", "POST").route(web::post().to(auth::logout)))
        .service(resource("/auth/logout-all", "POST").route(web::post().to(auth::logout_all)))
        .service(resource("/auth/password", "POST").route(web::post().to(auth::change_password)))
        .service(
            resource("/auth/password/check", "POST").route(web::post().to(auth::check_password)),
        )
        .service(resource("/auth/sessions", "GET").route(web::get().to(sessions::list_sessions)))
        .service(
            resource("/auth/sessions/{id}", "DELETE")
                .route(web::delete().to(sessions::delete_session)),
        )
        .service(resource("/auth/devices", "GET").route(web::get().to(sessions::list_devices)))
        .service(
            resource("/auth/devices/{id}", "DELETE")
                .route(web::delete().to(sessions::delete_device)),
        )
        .service(resource("/auth/2fa/setup", "POST").route(web::post().to(two_factor::setup)))
        .service(resource("/auth/2fa/enable", "POST").route(web::post().to(two_factor::enable)))
        .service(resource("/auth/2fa/disable", "POST").route(web::post().to(two_factor::disable)))
        .service(
            resource("/auth/2fa/recovery-codes", "POST")
                .route(web::post().to(two_factor::renew_recovery_codes)),
        )
        .service(
            resource("/admin/users", "POST, GET")
                .route(web::post().to(admin::users::create_user))
                .route(web::get().to(admin::users::list_users)),
        )
        .service(
            resource("/admin/users/{id}/password", "POST")
                .route(web::post().to(admin::users::reset_password)),
        )
        .service(
            resource("/admin/users/{id}/2fa", "DELETE")
                .route(web::delete().to(admin::two_factor::reset_two_factor)),
        )
        .service(resource("/.well-known/jwks.json", "GET").route(web::get().to(oauth::jwks)))
        .service(
            resource("/.well-known/oauth-authorization-server", "GET")
                .route(web::get().to(oauth::metadata)),
        )
        .service(resource("/oauth/introspect", "POST").route(web::post().to(oauth::introspect)))
        .service(resource("/oauth/revoke", "POST").route(web::post().to(oauth::revoke)))
        .service(
            resource("/admin/notifications", "POST")
                .route(web::post().to(admin::notifications::send_notification)),
        )
        .service(resource("/api/ws/token", "POST").route(web::post().to(ws::issue_ticket)))
        .service(resource("/ws", "GET").route(web::get().to(ws::connect)))
        .service(resource("/health/live", "GET").route(web::get().to(health::live)))
        .service(resource("/health/ready", "GET").route(web::get().to(health::ready)))
        .service(resource("/metrics", "GET").route(web::get().to(health::metrics)))
        .service(
            resource("/api-docs/openapi.json", "GET").route(web::get().to(health::openapi_json)),
        )
        .service(resource("/docs", "GET").route(web::get().to(health::docs_redirect)))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::new(["/api-docs/openapi.json"])),
        )
        .service(
            resource("/admin/users/{id}", "GET, PATCH")
                .route(web::get().to(admin::users::get_user))
                .route(web::patch().to(admin::users::update_user)),
        )
        .service(
            resource("/admin/users/{id}/unlock", "POST")
                .route(web::post().to(admin::users::unlock_user)),
        )
        .service(
            resource("/admin/tokens/sessions/{user_id}", "GET, DELETE")
                .route(web::get().to(admin::tokens::list_user_sessions))
                .route(web::delete().to(admin::tokens::revoke_user_sessions)),
        )
        .service(
            resource("/admin/tokens/revoke", "POST")
                .route(web::post().to(admin::tokens::revoke_token)),
        )
        .service(
            resource("/admin/tokens/metrics", "GET")
                .route(web::get().to(admin::tokens::token_metrics)),
        )
        .service(
            resource("/admin/stats/hourly", "GET")
                .route(web::get().to(admin::tokens::hourly_stats)),
        )
        .service(resource("/admin/audit", "GET").route(web::get().to(admin::audit::list_audit)))
        .service(resource("/ui", "GET").route(web::get().to(console::to_console)))
        .service(resource("/ui/", "GET").route(web::get().to(console::account_page)))
        .service(resource("/ui/admin", "GET").route(web::get().to(console::admin_page)))
        .service(
            resource("/ui/assets/{version}/{path:.+}", "GET").route(web::get().to(console::asset)),
        );
}
