//! The one route table. Each path is a resource whose unserved methods answer 405.

use actix_web::{web, Resource};

use crate::controllers::{admin, auth, fallback, health, sessions, two_factor, ws};

fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(fallback::method_not_allowed))
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/login").route(web::post().to(auth::login)))
        .service(resource("/auth/verify-2fa").route(web::post().to(auth::verify_two_factor)))
        .service(resource("/auth/refresh").route(web::post().to(auth::refresh)))
        .service(resource("/auth/validate").route(web::get().to(auth::validate)))
        .service(resource("/auth/me").route(web::get().to(auth::me)))
        .service(resource("/auth/logout").route(web::post().to(auth::logout)))
        .service(resource("/auth/logout-all").route(web::post().to(auth::logout_all)))
        .service(resource("/auth/password").route(web::post().to(auth::change_password)))
        .service(resource("/auth/sessions").route(web::get().to(sessions::list_sessions)))
        .service(resource("/auth/sessions/{id}").route(web::delete().to(sessions::delete_session)))
        .service(resource("/auth/2fa/setup").route(web::post().to(two_factor::setup)))
        .service(resource("/auth/2fa/enable").route(web::post().to(two_factor::enable)))
        .service(resource("/auth/2fa/disable").route(web::post().to(two_factor::disable)))
        .service(resource("/admin/users").route(web::post().to(admin::users::create_user)))
        .service(
            resource("/admin/users/{id}/2fa")
                .route(web::delete().to(admin::two_factor::reset_two_factor)),
        )
        .service(
            resource("/admin/notifications")
                .route(web::post().to(admin::notifications::send_notification)),
        )
        .service(resource("/api/ws/token").route(web::post().to(ws::issue_ticket)))
        .service(resource("/ws").route(web::get().to(ws::connect)))
        .service(resource("/health/live").route(web::get().to(health::live)))
        .service(resource("/health/ready").route(web::get().to(health::ready)));
}
