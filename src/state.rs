//! What every handler can reach: the services and request-level settings.

use ipnet::IpNet;

use crate::services::account::AccountService;
use crate::services::admin::AdminService;
use crate::services::console::Console;
use crate::services::devices::DeviceService;
use crate::services::health::HealthService;
use crate::services::issuance::TokenIssuer;
use crate::services::login::LoginService;
use crate::services::oauth::OAuthService;
use crate::services::rate_limit::LoginRateLimiter;
use crate::services::refresh::RefreshService;
use crate::services::session::SessionService;
use crate::services::stats::MetricsService;
use crate::services::two_factor::{ChallengeService, TwoFactorService};
use crate::services::user::UserService;
use crate::services::validation::TokenValidator;
use crate::services::ws::WsService;

/// Shared application state (cheap to clone: every service is a handle).
#[derive(Clone)]
pub struct AppState {
    /// Double validation of bearer tokens.
    pub validator: TokenValidator,
    /// Signing keys (JWKS).
    pub issuer: TokenIssuer,
    /// Password logins.
    pub login: LoginService,
    /// Refresh-token rotation.
    pub refresh: RefreshService,
    /// The caller's own account (password change).
    pub account: AccountService,
    /// Sessions and logout.
    pub sessions: SessionService,
    /// Accounts.
    pub users: UserService,
    /// Prometheus rendering.
    pub metrics: MetricsService,
    /// Introspection and revocation.
    pub oauth: OAuthService,
    /// Second-factor enrollment.
    pub two_factor: TwoFactorService,
    /// The login challenge (verify-2fa).
    pub challenge: ChallengeService,
    /// Per-IP budget for login and verify-2fa.
    pub login_limiter: LoginRateLimiter,
    /// Per-IP budget for password checks (this instance only).
    pub policy_limiter: LoginRateLimiter,
    /// Admin operations.
    pub admin: AdminService,
    /// Readiness.
    pub health: HealthService,
    /// Remembered devices.
    pub devices: DeviceService,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// WebSocket tickets, connections and admin notifications.
    pub ws: WsService,
    /// The browser console's pages and assets.
    pub console: Console,
    /// Whether session cookies carry `Secure`.
    pub cookie_secure: bool,
    /// The OpenAPI document, serialized once (it states the configured password length).
    pub openapi: actix_web::web::Bytes,
}
