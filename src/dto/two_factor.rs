//! Second-factor bodies.

use serde::{Deserialize, Serialize};
use validator::Validate;

/// `POST /auth/login` answer when a second factor is needed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeResponse {
    /// Always true.
    pub two_factor_required: bool,
    /// Single-use challenge for verify-2fa.
    pub challenge_token: String,
    /// Seconds it stays valid.
    pub expires_in: i64,
    /// Accepted kinds of code.
    pub methods: [&'static str; 2],
}

/// `POST /auth/verify-2fa`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct VerifyTwoFactorRequest {
    /// The login challenge.
    #[validate(
        length(max = 8192, message = "must be at most 8192 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 8192)]
    pub challenge_token: String,
    /// A 6-digit TOTP code or a recovery code.
    #[validate(
        length(max = 64, message = "must be at most 64 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    /// Also set HttpOnly cookies.
    #[serde(default)]
    pub cookie: bool,
    /// Remember this device: later logins with the right password skip the
    /// second factor (answers `device_token`).
    #[serde(default)]
    pub remember_device: bool,
}

/// `POST /auth/2fa/setup` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SetupResponse {
    /// Base32 secret (for manual entry).
    pub secret: String,
    /// `otpauth://` URL.
    pub otpauth_url: String,
    /// QR code PNG, base64.
    pub qr_png_base64: String,
}

/// `POST /auth/2fa/enable`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct EnableTwoFactorRequest {
    /// The account password.
    #[validate(
        length(max = 1024, message = "must be at most 1024 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// A current code from the app.
    #[validate(
        length(max = 64, message = "must be at most 64 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}

/// `POST /auth/2fa/enable` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodesResponse {
    /// Ten single-use codes, shown once.
    pub recovery_codes: Vec<String>,
}

/// `POST /auth/2fa/disable` and `POST /auth/2fa/recovery-codes`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct DisableTwoFactorRequest {
    /// The account password.
    #[validate(
        length(max = 1024, message = "must be at most 1024 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// A current code (or a recovery code).
    #[validate(
        length(max = 64, message = "must be at most 64 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}
