//! What every handler can reach: the services and request-level settings.

use ipnet::IpNet;

use crate::cluster::RedisLink;
use crate::db::Db;
use crate::realtime::{EventPublisher, Hub};
use crate::services::admin::AdminService;
use crate::services::auth::AuthService;
use crate::services::oauth::OAuthService;
use crate::services::rate_limit::LoginRateLimiter;
use crate::services::session::SessionService;
use crate::services::stats::MetricsService;
use crate::services::token::TokenService;
use crate::services::two_factor::TwoFactorService;
use crate::services::user::UserService;
use crate::services::ws::WsService;

/// Shared application state (cheap to clone: every service is a handle).
#[derive(Clone)]
pub struct AppState {
    /// Database handle (health checks).
    pub db: Db,
    /// Issuance and double validation.
    pub tokens: TokenService,
    /// Login, refresh, password.
    pub auth: AuthService,
    /// Sessions and logout.
    pub sessions: SessionService,
    /// Accounts.
    pub users: UserService,
    /// Prometheus rendering.
    pub metrics: MetricsService,
    /// Introspection and revocation.
    pub oauth: OAuthService,
    /// Second factor.
    pub two_factor: TwoFactorService,
    /// Per-IP budget for login and verify-2fa.
    pub login_limiter: LoginRateLimiter,
    /// Admin operations.
    pub admin: AdminService,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// WebSocket tickets and admin notifications.
    pub ws: WsService,
    /// This instance's open WebSockets.
    pub hub: Hub,
    /// Announces session events (for callers outside the services, e.g. admin revocation).
    pub events: EventPublisher,
    /// The Redis link, when configured (readiness).
    pub redis: Option<RedisLink>,
    /// Whether session cookies carry `Secure`.
    pub cookie_secure: bool,
}
