//! The OpenAPI 3 document of every route `routes.rs` serves, with request,
//! response and error bodies; served at `/api-docs/openapi.json` and browsed at
//! `/docs`. Operations are listed here, next to each other, so that the test
//! comparing this document with the route table stays easy to keep true.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, OneOfBuilder, Schema, SchemaFormat,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi as OpenApiDoc, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder, Type,
};
use utoipa::OpenApi;

use crate::dto::{admin, audit, auth, oauth, session, two_factor, user, ws};
use crate::errors::ErrorBody;
use crate::security::password_policy::PasswordPolicy;

mod shapes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tokenward",
        description = "Token and session server: persisted JWTs, double validation, refresh rotation, TOTP, live revocation."
    ),
    components(schemas(
        ErrorBody,
        auth::LoginRequest,
        auth::RefreshRequest,
        auth::ChangePasswordRequest,
        auth::PasswordCheckRequest,
        auth::PasswordCheckResponse,
        auth::TokenResponse,
        auth::ValidateResponse,
        auth::RevokedCounts,
        user::UserResponse,
        user::MeResponse,
        user::CreateUserRequest,
        session::SessionResponse,
        session::DeviceResponse,
        two_factor::ChallengeResponse,
        two_factor::VerifyTwoFactorRequest,
        two_factor::SetupResponse,
        two_factor::EnableTwoFactorRequest,
        two_factor::RecoveryCodesResponse,
        two_factor::DisableTwoFactorRequest,
        oauth::TokenForm,
        oauth::IntrospectionResponse,
        oauth::ServerMetadata,
        admin::UpdateUserRequest,
        admin::ResetPasswordRequest,
        admin::TemporaryPasswordResponse,
        admin::RevokeTokenRequest,
        admin::RevokeTokenResponse,
        admin::TokenMetricsResponse,
        admin::HourlyStats,
        audit::AuditEventResponse,
        ws::WsTicketResponse,
        ws::NotificationRequest,
    ))
)]
struct Components;

/// How an operation is described: method, path, tag, summary, auth, body.
struct Op {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    bearer: bool,
    /// Schema name of a JSON body, or `form:Schema` for a form body.
    body: Option<&'static str>,
    /// (status, description, schema name or "" for none, "text" for plain text)
    ok: (u16, &'static str, &'static str),
    /// Error statuses the operation documents (all share `ErrorBody`).
    errors: &'static [u16],
}

const AUTH_ERRORS: &[u16] = &[401, 403, 503];
const BODY_ERRORS: &[u16] = &[400, 401, 403, 413, 415, 422, 503];
const ADMIN_ERRORS: &[u16] = &[401, 403, 404, 503];

fn ops() -> Vec<Op> {
    use HttpMethod::{Delete, Get, Patch, Post};
    let op = |method, path, tag, summary, bearer, body, ok, errors| Op {
        method,
        path,
        tag,
        summary,
        bearer,
        body,
        ok,
        errors,
    };
    vec![
        op(Post, "/auth/login", "auth", "Log in with email and password (tokens, or a second-factor challenge)", false, Some("LoginRequest"), (200, "Token response, or `ChallengeResponse` when 2FA is on", "TokenResponse|ChallengeResponse"), &[400, 401, 403, 413, 415, 422, 423, 429, 503]),
        op(Post, "/auth/verify-2fa", "auth", "Answer a login challenge with a TOTP or recovery code", false, Some("VerifyTwoFactorRequest"), (200, "Token response", "TokenResponse"), &[400, 401, 403, 415, 422, 423, 429, 503]),
        op(Post, "/auth/refresh", "auth", "Rotate a refresh token (a reused one revokes its session)", false, Some("RefreshRequest"), (200, "Token response", "TokenResponse"), &[400, 401, 403, 415, 422, 503]),
        op(Get, "/auth/validate", "auth", "Double-validate the bearer token", true, None, (200, "The caller", "ValidateResponse"), AUTH_ERRORS),
        op(Get, "/auth/me", "auth", "The caller's account", true, None, (200, "The caller", "MeResponse"), AUTH_ERRORS),
        op(Post, "/auth/logout", "auth", "End the current session", true, None, (204, "Session ended", ""), AUTH_ERRORS),
        op(Post, "/auth/logout-all", "auth", "End every session of the caller", true, None, (200, "Counts", "RevokedCounts"), AUTH_ERRORS),
        op(Post, "/auth/password", "auth", "Change password; other sessions end", true, Some("ChangePasswordRequest"), (204, "Changed", ""), BODY_ERRORS),
        op(Post, "/auth/password/check", "auth", "Judge a candidate password by the policy (no account needed; 120 a minute per client IP)", false, Some("PasswordCheckRequest"), (200, "Acceptable, or the reasons not", "PasswordCheckResponse"), &[400, 413, 415, 422, 429]),
        op(Get, "/auth/sessions", "sessions", "The caller's live sessions", true, None, (200, "Sessions (array)", "SessionResponse[]"), AUTH_ERRORS),
        op(Delete, "/auth/sessions/{id}", "sessions", "End one of the caller's sessions", true, None, (204, "Ended", ""), &[401, 403, 404, 503]),
        op(Get, "/auth/devices", "sessions", "The caller's remembered devices", true, None, (200, "Devices (array)", "DeviceResponse[]"), AUTH_ERRORS),
        op(Delete, "/auth/devices/{id}", "sessions", "Forget one of the caller's remembered devices", true, None, (204, "Forgotten", ""), &[401, 403, 404, 503]),
        op(Post, "/auth/2fa/setup", "two-factor", "New TOTP secret (inactive until enabled)", true, None, (200, "Enrollment data", "SetupResponse"), &[401, 403, 409, 503]),
        op(Post, "/auth/2fa/enable", "two-factor", "Enable TOTP with the password and a current code", true, Some("EnableTwoFactorRequest"), (200, "Recovery codes, shown once", "RecoveryCodesResponse"), &[400, 401, 403, 409, 415, 422, 423, 503]),
        op(Post, "/auth/2fa/disable", "two-factor", "Disable TOTP (password and code)", true, Some("DisableTwoFactorRequest"), (204, "Disabled", ""), &[400, 401, 403, 409, 415, 422, 423, 503]),
        op(Post, "/auth/2fa/recovery-codes", "two-factor", "Replace the recovery codes (password and code)", true, Some("DisableTwoFactorRequest"), (200, "New recovery codes, shown once", "RecoveryCodesResponse"), &[400, 401, 403, 409, 415, 422, 423, 503]),
        op(Post, "/admin/users", "admin", "Create an account", true, Some("CreateUserRequest"), (201, "The user", "UserResponse"), &[400, 401, 403, 409, 413, 415, 422, 503]),
        op(Get, "/admin/users", "admin", "List accounts (?limit&offset&email), oldest first", true, None, (200, "Users (array)", "UserResponse[]"), &[400, 401, 403, 503]),
        op(Get, "/admin/users/{id}", "admin", "One account", true, None, (200, "The user", "UserResponse"), ADMIN_ERRORS),
        op(Patch, "/admin/users/{id}", "admin", "Edit an account (disabling revokes every session)", true, Some("UpdateUserRequest"), (200, "The user", "UserResponse"), &[400, 401, 403, 404, 415, 422, 503]),
        op(Post, "/admin/users/{id}/unlock", "admin", "Lift a lockout", true, None, (204, "Unlocked", ""), ADMIN_ERRORS),
        op(Post, "/admin/users/{id}/password", "admin", "Reset another account's password (given, or generated and answered once); ends every session and requires a change at the next login", true, Some("ResetPasswordRequest"), (200, "The generated temporary password (204 when one was given)", "TemporaryPasswordResponse"), &[400, 401, 403, 404, 413, 415, 422, 503]),
        op(Delete, "/admin/users/{id}/2fa", "admin", "Reset a user's second factor", true, None, (204, "Reset", ""), ADMIN_ERRORS),
        op(Get, "/admin/tokens/sessions/{user_id}", "admin", "A user's live sessions", true, None, (200, "Sessions (array)", "SessionResponse[]"), ADMIN_ERRORS),
        op(Delete, "/admin/tokens/sessions/{user_id}", "admin", "End every session of a user", true, None, (200, "Counts", "RevokedCounts"), ADMIN_ERRORS),
        op(Post, "/admin/tokens/revoke", "admin", "Revoke one token by value or jti", true, Some("RevokeTokenRequest"), (200, "Whether it was revoked", "RevokeTokenResponse"), &[400, 401, 403, 415, 422, 503]),
        op(Get, "/admin/tokens/metrics", "admin", "Today's token and login counts", true, None, (200, "Counts", "TokenMetricsResponse"), AUTH_ERRORS),
        op(Get, "/admin/stats/hourly", "admin", "Hourly logins, failed logins, refreshes, revocations and live sessions (?hours, default 24, at most 168), oldest first", true, None, (200, "One entry per hour (array)", "HourlyStats[]"), &[400, 401, 403, 503]),
        op(Get, "/admin/audit", "admin", "Audit events (?user_id&event&since&limit), newest first", true, None, (200, "Events (array)", "AuditEventResponse[]"), &[400, 401, 403, 503]),
        op(Post, "/admin/notifications", "admin", "Push a notification over WebSocket", true, Some("NotificationRequest"), (202, "Accepted", ""), &[400, 401, 403, 404, 415, 422, 503]),
        op(Get, "/.well-known/jwks.json", "standards", "Public signing keys (RFC 7517)", false, None, (200, "JWK set", "object"), &[]),
        op(Get, "/.well-known/oauth-authorization-server", "standards", "Authorization server metadata (RFC 8414)", false, None, (200, "Metadata", "ServerMetadata"), &[]),
        op(Post, "/oauth/introspect", "standards", "RFC 7662 introspection (admin or service caller)", true, Some("form:TokenForm"), (200, "Introspection answer", "IntrospectionResponse"), &[400, 401, 403, 415, 503]),
        op(Post, "/oauth/revoke", "standards", "RFC 7009 revocation", false, Some("form:TokenForm"), (200, "Revoked (or unknown)", ""), &[400, 415, 503]),
        op(Post, "/api/ws/token", "websocket", "A single-use 30-second WebSocket ticket", true, None, (200, "Ticket", "WsTicketResponse"), AUTH_ERRORS),
        op(Get, "/ws", "websocket", "WebSocket upgrade (?token=ticket); events `session.revoked`, `session.created`, `notification`", false, None, (101, "Switching protocols", ""), &[400, 401, 503]),
        op(Get, "/ui/", "console", "The browser console: sign-in and the account page (HTML)", false, None, (200, "The page", "html"), &[]),
        op(Get, "/ui/admin", "console", "The browser console's admin screens (HTML; the page checks the role through the API)", false, None, (200, "The page", "html"), &[]),
        op(Get, "/ui", "console", "Redirects to /ui/", false, None, (308, "To /ui/", ""), &[]),
        op(Get, "/ui/assets/{version}/{path}", "console", "A console asset of the running version (cached for a year)", false, None, (200, "The file", "text"), &[404]),
        op(Get, "/health/live", "operations", "Process is up", false, None, (200, "Up", "object"), &[]),
        op(Get, "/health/ready", "operations", "Database (and Redis when configured) reachable", false, None, (200, "Ready", "object"), &[503]),
        op(Get, "/metrics", "operations", "Prometheus metrics", false, None, (200, "Prometheus text format", "text"), &[]),
        op(Get, "/api-docs/openapi.json", "operations", "This OpenAPI document", false, None, (200, "OpenAPI 3", "object"), &[]),
        op(Get, "/docs", "operations", "Interactive API documentation (redirects to /docs/)", false, None, (308, "To /docs/", ""), &[]),
    ]
}

/// A body by schema name: `Name`, `Name[]` (an array of them), `A|B` (one
/// of the two shapes), or `object`.
fn json_ref(name: &str) -> utoipa::openapi::Content {
    let schema: RefOr<Schema> = if name == "object" {
        ObjectBuilder::new().schema_type(Type::Object).into()
    } else if let Some(item) = name.strip_suffix("[]") {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(item))
            .into()
    } else if name.contains('|') {
        name.split('|')
            .fold(OneOfBuilder::new(), |b, n| b.item(Ref::from_schema_name(n)))
            .into()
    } else {
        Ref::from_schema_name(name).into()
    };
    ContentBuilder::new().schema(Some(schema)).build()
}

/// Query parameters: (name, JSON type, format or "", required).
fn query_parameters(path: &str) -> &'static [(&'static str, Type, &'static str, bool)] {
    match path {
        "/admin/users" => &[
            ("limit", Type::Integer, "", false),
            ("offset", Type::Integer, "", false),
            ("email", Type::String, "", false),
        ],
        "/admin/audit" => &[
            ("user_id", Type::Integer, "int64", false),
            ("event", Type::String, "", false),
            ("since", Type::String, "date-time", false),
            ("limit", Type::Integer, "", false),
        ],
        "/admin/stats/hourly" => &[("hours", Type::Integer, "", false)],
        "/ws" => &[("token", Type::String, "", true)],
        _ => &[],
    }
}

fn operation(op: &Op) -> utoipa::openapi::path::Operation {
    let mut b = OperationBuilder::new()
        .operation_id(Some(operation_id(op)))
        .tag(op.tag)
        .summary(Some(op.summary));
    for segment in op.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
    }
    // A query string belongs to the path's GET only (POST /admin/users has none).
    let query = match op.method {
        HttpMethod::Get => query_parameters(op.path),
        _ => &[],
    };
    for (name, kind, format, required) in query {
        let mut schema = ObjectBuilder::new().schema_type(kind.clone());
        if !format.is_empty() {
            schema = schema.format(Some(SchemaFormat::Custom((*format).to_string())));
        }
        b = b.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(if *required {
                    Required::True
                } else {
                    Required::False
                })
                .schema(Some(schema)),
        );
    }
    if let Some(body) = op.body {
        let (ctype, name) = match body.strip_prefix("form:") {
            Some(name) => ("application/x-www-form-urlencoded", name),
            None => ("application/json", body),
        };
        b = b.request_body(Some(
            RequestBodyBuilder::new()
                .content(ctype, json_ref(name))
                .required(Some(Required::True))
                .build(),
        ));
    }
    let (status, description, schema) = op.ok;
    let ok = match schema {
        "" => ResponseBuilder::new().description(description),
        "html" => ResponseBuilder::new().description(description).content(
            "text/html",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        ),
        "text" => ResponseBuilder::new().description(description).content(
            "text/plain",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        ),
        name => ResponseBuilder::new()
            .description(description)
            .content("application/json", json_ref(name)),
    };
    b = b.response(status.to_string(), ok.build());
    // A body can always be malformed, too large, of another type or, for
    // JSON, of the wrong shape: those answers hold for every body route.
    let mut errors = op.errors.to_vec();
    if let Some(body) = op.body {
        let json = !body.starts_with("form:");
        errors.extend([400, 413, 415].into_iter().chain(json.then_some(422)));
        errors.sort_unstable();
        errors.dedup();
    }
    for code in &errors {
        let resp = ResponseBuilder::new()
            .description(error_description(*code))
            .content("application/json", json_ref("ErrorBody"));
        b = b.response(code.to_string(), resp.build());
    }
    if op.bearer {
        b = b.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    b.build()
}

/// `post_auth_login`, `delete_admin_users_id_2fa`: the method and the path's
/// words, so generated clients get stable function names.
fn operation_id(op: &Op) -> String {
    let method = match op.method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
        _ => "call",
    };
    let words: Vec<String> = op
        .path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    // `/ui/` (the page) and `/ui` (its redirect) need different names.
    let index = if op.path.len() > 1 && op.path.ends_with('/') {
        "_index"
    } else {
        ""
    };
    format!("{method}_{}{index}", words.join("_"))
}

fn error_description(code: u16) -> &'static str {
    match code {
        400 => "invalid_request",
        401 => "token_missing, token_invalid, token_expired, token_revoked, token_reused or invalid_credentials",
        403 => "forbidden or account_disabled",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed (details: field -> messages)",
        423 => "account_locked (details.locked_until)",
        429 => "too_many_requests (Retry-After)",
        503 => "unavailable",
        _ => "error",
    }
}

/// The whole document as served: the derived schemas with the limits the
/// server enforces (the configured password length among them).
pub fn document(policy: &PasswordPolicy) -> serde_json::Value {
    let mut doc = serde_json::to_value(derived()).unwrap_or_default();
    shapes::tighten(&mut doc, policy);
    doc
}

/// The document from the DTO types and the operation list.
fn derived() -> OpenApiDoc {
    let mut doc = Components::openapi();
    let mut paths = PathsBuilder::new();
    for op in ops() {
        paths = paths.path(op.path, PathItem::new(op.method.clone(), operation(&op)));
    }
    doc.paths = paths.build();
    if let Some(components) = doc.components.as_mut() {
        // Exactly one of the two fields: a shape the derive cannot express.
        let one = |field: &str, max: usize| {
            ObjectBuilder::new()
                .property(
                    field,
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(max))
                        .pattern(Some(crate::dto::validate::NOT_BLANK_PATTERN)),
                )
                .required(field)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        components.schemas.insert(
            "RevokeTokenRequest".into(),
            OneOfBuilder::new()
                .item(one("token", 4096))
                .item(one("jti", 64))
                .into(),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
    doc
}

#[cfg(test)]
mod tests;
