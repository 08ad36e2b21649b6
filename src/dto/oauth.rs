//! RFC 7662 / RFC 7009 bodies (form-encoded in, JSON out).

use serde::{Deserialize, Serialize};

/// Form of `POST /oauth/introspect` and `POST /oauth/revoke`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// The token in question.
    pub token: String,
    /// `access_token` or `refresh_token` (a hint only).
    pub token_type_hint: Option<String>,
}

/// Introspection answer: only `active` when inactive.
#[derive(Debug, Serialize, Default, utoipa::ToSchema)]
pub struct IntrospectionResponse {
    /// Whether the token is usable right now.
    pub active: bool,
    /// User id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// `Bearer` (access) or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServerMetadata {
    /// The server's base URL (`TOKENWARD_PUBLIC_URL`).
    pub issuer: String,
    /// Where the public signing keys are.
    pub jwks_uri: String,
    /// RFC 7662 introspection.
    pub introspection_endpoint: String,
    /// RFC 7009 revocation.
    pub revocation_endpoint: String,
    /// How clients authenticate at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How callers authenticate at introspection (a bearer token of role `admin` or `service`).
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How callers authenticate at revocation (no authentication: the token is the proof).
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// No authorization endpoint: none.
    pub response_types_supported: Vec<&'static str>,
}
