//! The one route table. Each path is a resource whose unserved methods answer 405.

use actix_web::http::Method;
use actix_web::{web, Resource};

use crate::controllers::{admin, auth, console, fallback, health, oauth, sessions, two_factor, ws};

/// A path serving `allow` (e.g. `"GET, DELETE"`); other methods get 405 with
/// that `Allow` header (RFC 9110).
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || fallback::method_not_allowed(allow)))
}

/// Registers each `"path": METHOD handler, ...;` as one resource whose `Allow`
/// names exactly the methods listed for it.
macro_rules! routes {
    ($cfg:ident; $($path:literal: $($method:ident $handler:path),+;)*) => {
        $(
            $cfg.service(
                resource($path, routes!(@allow $($method),+))
                    $(.route(web::method(Method::$method).to($handler)))+
            );
        )*
    };
    (@allow $first:ident $(, $rest:ident)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($rest))*)
    };
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes! { cfg;
        "/auth/login": POST auth::login;
        "/auth/verify-2fa": POST auth::verify_two_factor;
        "/auth/refresh": POST auth::refresh;
        "/auth/validate": GET auth::validate;
        "/auth/me": GET auth::me;
        "/auth/logout": POST auth::logout;
        "/auth/logout-all": POST auth::logout_all;
        "/auth/password": POST auth::change_password;
        "/auth/password/check": POST auth::check_password;
        "/auth/sessions": GET sessions::list_sessions;
        "/auth/sessions/{id}": DELETE sessions::delete_session;
        "/auth/devices": GET sessions::list_devices;
        "/auth/devices/{id}": DELETE sessions::delete_device;
        "/auth/2fa/setup": POST two_factor::setup;
        "/auth/2fa/enable": POST two_factor::enable;
        "/auth/2fa/disable": POST two_factor::disable;
        "/auth/2fa/recovery-codes": POST two_factor::renew_recovery_codes;
        "/admin/users": POST admin::users::create_user, GET admin::users::list_users;
        "/admin/users/{id}/password": POST admin::users::reset_password;
        "/admin/users/{id}/2fa": DELETE admin::two_factor::reset_two_factor;
        "/.well-known/jwks.json": GET oauth::jwks;
        "/.well-known/oauth-authorization-server": GET oauth::metadata;
        "/oauth/introspect": POST oauth::introspect;
        "/oauth/revoke": POST oauth::revoke;
        "/admin/notifications": POST admin::notifications::send_notification;
        "/api/ws/token": POST ws::issue_ticket;
        "/ws": GET ws::connect;
        "/health/live": GET health::live;
        "/health/ready": GET health::ready;
        "/metrics": GET health::metrics;
        "/api-docs/openapi.json": GET health::openapi_json;
        "/docs": GET health::docs_redirect;
        "/admin/users/{id}": GET admin::users::get_user, PATCH admin::users::update_user;
        "/admin/users/{id}/unlock": POST admin::users::unlock_user;
        "/admin/tokens/sessions/{user_id}":
            GET admin::tokens::list_user_sessions, DELETE admin::tokens::revoke_user_sessions;
        "/admin/tokens/revoke": POST admin::tokens::revoke_token;
        "/admin/tokens/metrics": GET admin::tokens::token_metrics;
        "/admin/stats/hourly": GET admin::tokens::hourly_stats;
        "/admin/audit": GET admin::audit::list_audit;
        "/ui": GET console::to_console;
        "/ui/": GET console::account_page;
        "/ui/admin": GET console::admin_page;
        "/ui/assets/{version}/{path:.+}": GET console::asset;
    }
    cfg.service(
        utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
            .config(utoipa_swagger_ui::Config::new(["/api-docs/openapi.json"])),
    );
}
