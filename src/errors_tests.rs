//! Each error variant's status, code and body.

use super::*;
use actix_web::body::to_bytes;

async fn render(e: AppError) -> (StatusCode, serde_json::Value, HttpResponse) {
    let resp = e.error_response();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body()).await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut probe = HttpResponse::build(status);
    for (k, v) in headers.iter() {
        probe.insert_header((k.clone(), v.clone()));
    }
    (status, json, probe.finish())
}

#[actix_web::test]
async fn every_variant_has_its_status_and_code() {
    let cases: Vec<(AppError, u16, &str)> = vec![
        (AppError::InvalidRequest("x".into()), 400, "invalid_request"),
        (AppError::InvalidCredentials, 401, "invalid_credentials"),
        (AppError::TokenMissing, 401, "token_missing"),
        (AppError::TokenInvalid("sig"), 401, "token_invalid"),
        (AppError::TokenExpired, 401, "token_expired"),
        (AppError::TokenRevoked, 401, "token_revoked"),
        (AppError::TokenReused, 401, "token_reused"),
        (AppError::Forbidden, 403, "forbidden"),
        (AppError::AccountDisabled, 403, "account_disabled"),
        (
            AppError::PasswordChangeRequired,
            403,
            "password_change_required",
        ),
        (AppError::NotFound, 404, "not_found"),
        (AppError::MethodNotAllowed, 405, "method_not_allowed"),
        (AppError::Conflict("dup".into()), 409, "conflict"),
        (AppError::PayloadTooLarge, 413, "payload_too_large"),
        (
            AppError::UnsupportedMediaType,
            415,
            "unsupported_media_type",
        ),
        (AppError::field("email", "bad"), 422, "validation_failed"),
        (
            AppError::AccountLocked {
                locked_until: NaiveDateTime::default(),
            },
            423,
            "account_locked",
        ),
        (
            AppError::TooManyRequests { retry_after: 7 },
            429,
            "too_many_requests",
        ),
        (AppError::Unavailable, 503, "unavailable"),
        (AppError::internal("secret sql"), 500, "internal"),
    ];
    for (err, status, code) in cases {
        let (s, body, resp) = render(err).await;
        assert_eq!(s.as_u16(), status, "{code}");
        assert_eq!(body["error"], code);
        assert!(body["message"].is_string());
        assert!(!body.to_string().contains("secret sql"));
        let www = resp.headers().get(header::WWW_AUTHENTICATE);
        assert_eq!(www.is_some(), status == 401, "{code}");
    }
}

#[actix_web::test]
async fn token_errors_carry_rfc6750_error_and_details_are_shaped() {
    let (_, _, resp) = render(AppError::TokenExpired).await;
    let www = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(www.starts_with("Bearer realm=\"tokenward\""));
    assert!(www.contains("error=\"invalid_token\""));
    let (_, body, _) = render(AppError::field("email", "is required")).await;
    assert_eq!(body["details"]["email"][0], "is required");
    let (_, _, resp) = render(AppError::TooManyRequests { retry_after: 7 }).await;
    assert_eq!(
        resp.headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
}
