//! The contract's error type: one enum, an exhaustive mapping to status and
//! `error` code, and the shared JSON body `{"error","message","details"}`.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use chrono::NaiveDateTime;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

/// Result alias used across services and controllers.
pub type AppResult<T> = Result<T, AppError>;

/// Field name -> messages, as carried in a 422's `details`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Every failure a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed JSON, missing body, bad query string or form field.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Wrong email, password or second factor.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// No bearer token where one is required.
    #[error("token missing")]
    TokenMissing,
    /// Bad signature, malformed, wrong claims, unknown to the database.
    #[error("token invalid: {0}")]
    TokenInvalid(&'static str),
    /// Past `exp`.
    #[error("token expired")]
    TokenExpired,
    /// Revoked or logged out.
    #[error("token revoked")]
    TokenRevoked,
    /// A WebSocket ticket presented a second time (401 `token_revoked`).
    #[error("ticket already used")]
    TicketSpent,
    /// A rotated refresh token presented again.
    #[error("refresh token reused")]
    TokenReused,
    /// Authenticated but lacking the role.
    #[error("forbidden")]
    Forbidden,
    /// A cookie-authenticated write without the CSRF header (403 `forbidden`).
    #[error("csrf header missing")]
    CsrfHeaderMissing,
    /// The account is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// An admin reset the password: only a password change is allowed.
    #[error("password change required")]
    PasswordChangeRequired,
    /// Unknown route or id, or one the caller may not see.
    #[error("not found")]
    NotFound,
    /// Known path, unserved method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A uniqueness rule was hit.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Body over the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A JSON route given another content type.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A form route given a body that is not a form (415 `unsupported_media_type`).
    #[error("form body expected")]
    FormExpected,
    /// Well-formed input with invalid fields.
    #[error("validation failed")]
    ValidationFailed(FieldErrors),
    /// Too many failed logins.
    #[error("account locked")]
    AccountLocked {
        /// When the lock lifts (UTC).
        locked_until: NaiveDateTime,
    },
    /// Rate limited.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// Database (or required Redis) unreachable.
    #[error("service unavailable")]
    Unavailable,
    /// More password checks waiting than this instance serves in a few seconds.
    #[error("password checks saturated")]
    Busy {
        /// Seconds until a retry may be served.
        retry_after: u64,
    },
    /// Anything else; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An internal error carrying a message for the log only.
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }

    /// A 422 with one message on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut details = FieldErrors::new();
        details.insert(field.to_string(), vec![message.into()]);
        Self::ValidationFailed(details)
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TokenMissing => "token_missing",
            Self::TokenInvalid(_) => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked | Self::TicketSpent => "token_revoked",
            Self::TokenReused => "token_reused",
            Self::Forbidden | Self::CsrfHeaderMissing => "forbidden",
            Self::AccountDisabled => "account_disabled",
            Self::PasswordChangeRequired => "password_change_required",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType | Self::FormExpected => "unsupported_media_type",
            Self::ValidationFailed(_) => "validation_failed",
            Self::AccountLocked { .. } => "account_locked",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable | Self::Busy { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The human sentence sent to the client (never internals).
    fn public_message(&self) -> String {
        match self {
            Self::InvalidRequest(m) => m.clone(),
            Self::InvalidCredentials => "The email, password or code is incorrect.".into(),
            Self::TokenMissing => "A bearer token is required.".into(),
            Self::TokenInvalid(_) => "The token is invalid.".into(),
            Self::TokenExpired => "The token has expired.".into(),
            Self::TokenRevoked => "The token has been revoked.".into(),
            Self::TicketSpent => {
                "This WebSocket ticket was already used; ask POST /api/ws/token for a new one."
                    .into()
            }
            Self::TokenReused => {
                "The refresh token was already used; the session has been revoked.".into()
            }
            Self::Forbidden => "You do not have permission to do this.".into(),
            Self::CsrfHeaderMissing => {
                "A request authenticated by cookie must send the header X-Requested-With: tokenward."
                    .into()
            }
            Self::AccountDisabled => "The account is disabled.".into(),
            Self::PasswordChangeRequired => {
                "Change your password (POST /auth/password) before anything else.".into()
            }
            Self::NotFound => "Not found.".into(),
            Self::MethodNotAllowed => "This method is not allowed on this path.".into(),
            Self::Conflict(m) => m.clone(),
            Self::PayloadTooLarge => "The request body is too large.".into(),
            Self::UnsupportedMediaType => "The request body must be application/json.".into(),
            Self::FormExpected => {
                "The request body must be a form (application/x-www-form-urlencoded).".into()
            }
            Self::ValidationFailed(_) => "Some fields are missing or invalid.".into(),
            Self::AccountLocked { .. } => {
                "The account is locked after too many failed logins.".into()
            }
            Self::TooManyRequests { .. } => "Too many requests; retry later.".into(),
            Self::Unavailable => "The service is temporarily unavailable.".into(),
            Self::Busy { .. } => "Too many sign-ins are waiting; retry shortly.".into(),
            Self::Internal(_) => "An internal error occurred.".into(),
        }
    }

    /// `error_description` for the RFC 6750 header of token errors.
    fn bearer_description(&self) -> Option<&'static str> {
        match self {
            Self::TokenInvalid(_) => Some("The access token is invalid"),
            Self::TokenExpired => Some("The access token expired"),
            Self::TokenRevoked => Some("The access token was revoked"),
            Self::TicketSpent => Some("The ticket was already used"),
            Self::TokenReused => Some("The refresh token was reused"),
            _ => None,
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::ValidationFailed(fields) => serde_json::to_value(fields).ok(),
            Self::AccountLocked { locked_until } => Some(serde_json::json!({
                "locked_until": crate::util::rfc3339(*locked_until)
            })),
            Self::TooManyRequests { retry_after } => {
                Some(serde_json::json!({ "retry_after": retry_after }))
            }
            _ => None,
        }
    }
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The contract's error code (e.g. `token_expired`).
    #[schema(value_type = String)]
    error: &'static str,
    /// One sentence for a human.
    message: String,
    /// Per-field messages (422), `locked_until` (423), `retry_after` (429).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InvalidCredentials
            | Self::TokenMissing
            | Self::TokenInvalid(_)
            | Self::TokenExpired
            | Self::TokenRevoked
            | Self::TicketSpent
            | Self::TokenReused => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::CsrfHeaderMissing
            | Self::AccountDisabled
            | Self::PasswordChangeRequired => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::FormExpected => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ValidationFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::AccountLocked { .. } => StatusCode::LOCKED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed with an internal error");
        }
        let rejected = match self {
            Self::TokenMissing => Some("missing"),
            Self::TokenInvalid(_) => Some("invalid"),
            Self::TokenExpired => Some("expired"),
            Self::TokenRevoked | Self::TicketSpent => Some("revoked"),
            Self::TokenReused => Some("reused"),
            _ => None,
        };
        if let Some(reason) = rejected {
            metrics::counter!(crate::metrics::TOKENS_REJECTED, "reason" => reason).increment(1);
        }
        let mut builder = HttpResponse::build(status);
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        if status == StatusCode::UNAUTHORIZED {
            let value = match self.bearer_description() {
                Some(desc) => format!(
                    "Bearer realm=\"tokenward\", error=\"invalid_token\", error_description=\"{desc}\""
                ),
                None => "Bearer realm=\"tokenward\"".to_string(),
            };
            builder.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let Self::TooManyRequests { retry_after } | Self::Busy { retry_after } = self {
            builder.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        builder.json(ErrorBody {
            error: self.code(),
            message: self.public_message(),
            details: self.details(),
        })
    }
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => {
                tracing::warn!(error = %e, "database connection lost");
                Self::Unavailable
            }
            DieselError::NotFound => Self::NotFound,
            _ => Self::Internal(format!("database error: {e}")),
        }
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut details = FieldErrors::new();
        for (field, errs) in errors.field_errors() {
            let messages = errs
                .iter()
                .map(|e| match &e.message {
                    Some(m) => m.to_string(),
                    None => format!("is invalid ({})", e.code),
                })
                .collect();
            details.insert(field.to_string(), messages);
        }
        Self::ValidationFailed(details)
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
