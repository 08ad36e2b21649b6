//! Composition root: database, migrations and key material, services, the HTTP
//! server. `Application::build` is what `serve` and the tests both run.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};
use secrecy::ExposeSecret;

use crate::cluster::RedisLink;
use crate::config::Settings;
use crate::controllers::fallback;
use crate::db::{self, build_pool, ConnectionManager, DatabaseUrl, Db, DbPool};
use crate::jobs;
use crate::middleware::cors::{cors, cors_errors};
use crate::middleware::request_id::request_context;
use crate::realtime::{EventPublisher, Hub, HubConfig};
use crate::routes;
use crate::security::crypto::Cipher;
use crate::security::{hashing, password};
use crate::services::account::AccountService;
use crate::services::admin::{AdminService, PasswordSettings};
use crate::services::cleanup::{CleanupPolicy, CleanupService};
use crate::services::console::Console;
use crate::services::devices::DeviceService;
use crate::services::health::HealthService;
use crate::services::issuance::{Lifetimes, TokenIssuer};
use crate::services::keys::{self, KeyStore};
use crate::services::lockout::{Lockout, PasswordCheck};
use crate::services::login::LoginService;
use crate::services::lookup::TokenLookups;
use crate::services::oauth::OAuthService;
use crate::services::rate_limit::{LoginRateLimiter, POLICY_CHECKS_PER_MINUTE};
use crate::services::refresh::RefreshService;
use crate::services::revocation::Revocations;
use crate::services::session::SessionService;
use crate::services::stats::MetricsService;
use crate::services::two_factor::{ChallengeService, Codes, TotpSettings, TwoFactorService};
use crate::services::user::{self, UserService};
use crate::services::validation::TokenValidator;
use crate::services::validation_cache::ValidationCache;
use crate::services::ws::WsService;
use crate::state::AppState;

/// Why the server could not start (printed as is).
pub type StartupError = String;

/// Opens the pool after one direct connection, so a bad URL or a down server is
/// reported with its real cause.
pub fn connect(settings: &Settings, pool_size: u32) -> Result<(DbPool, Db), StartupError> {
    let url = DatabaseUrl::parse(&settings.database_url, settings.db_timeout_secs)?;
    url.prepare()
        .map_err(|e| format!("cannot create the database folder: {e}"))?;
    let manager = ConnectionManager::new(url.clone());
    manager
        .open()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let timeout = Duration::from_secs(settings.db_timeout_secs);
    let pool = build_pool(manager.clone(), pool_size, timeout)
        .map_err(|e| format!("cannot open the connection pool: {e}"))?;
    // The call deadline leaves room for the pool wait and stays under the 5 s promise.
    let db = Db::new(
        pool.clone(),
        url.backend(),
        timeout + Duration::from_secs(1),
    )
    .with_dedicated_connections(manager);
    Ok((pool, db))
}

/// Migrates, checks the encryption key, loads signing keys and bootstraps the
/// first admin, all under the start-up lock. Blocking: call off the executor.
fn prepare(
    pool: &DbPool,
    settings: &Settings,
    cipher: &Cipher,
) -> Result<crate::security::jwt::KeyRing, StartupError> {
    let (ring, boot) = db::migrate_locked(pool, |c| {
        keys::check_cipher(c, cipher)?;
        let resealed = crate::services::two_factor::bind_secrets_to_users(c, cipher)?;
        if resealed > 0 {
            tracing::info!(users = resealed, "bound stored TOTP secrets to their users");
        }
        let ring = keys::load_key_ring(c, settings, cipher, true)?;
        let boot = user::bootstrap_admin(
            c,
            settings.bootstrap_admin_email.as_deref(),
            settings
                .bootstrap_admin_password
                .as_ref()
                .map(|p| p.expose_secret()),
            settings.bcrypt_cost,
            &settings.password_policy(),
        )?;
        Ok((ring, boot))
    })
    .map_err(|e| match e {
        crate::errors::AppError::Internal(msg) => msg,
        other => other.to_string(),
    })?;
    if let Some(boot) = boot {
        tracing::info!(email = %boot.email, "created the first admin account");
        if let Some(password) = boot.generated_password {
            // Standard error, once, never through the logs.
            eprintln!(
                "tokenward: first admin {} created with generated password: {}\n\
                 tokenward: this password is shown only once; change it after logging in.",
                boot.email, password
            );
        }
    }
    Ok(ring)
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    scheduler: Option<tokio_cron_scheduler::JobScheduler>,
    hub: Hub,
}

/// The Redis link (when configured), connected once and then supervised.
async fn redis_link(settings: &Settings) -> Result<Option<RedisLink>, StartupError> {
    let Some(url) = &settings.redis_url else {
        return Ok(None);
    };
    let timeout = Duration::from_millis(settings.redis_timeout_ms);
    let link = RedisLink::open(url.expose_secret(), &settings.redis_prefix, timeout)?;
    link.warm_up().await;
    link.spawn_supervisor();
    Ok(Some(link))
}

/// Waits for Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

impl Application {
    /// Builds everything from `settings` and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let settings = Arc::new(settings);
        let s = settings.clone();
        let (db, ring, dummy_hash, cipher) = tokio::task::spawn_blocking(move || {
            let (pool, db) = connect(&s, s.db_pool_size)?;
            let cipher = keys::load_cipher(&s)?;
            let ring = prepare(&pool, &s, &cipher)?;
            let dummy = password::hash(&hashing::opaque_token(), s.bcrypt_cost)
                .map_err(|e| format!("bcrypt failed: {e}"))?;
            Ok::<_, StartupError>((db, ring, dummy, cipher))
        })
        .await
        .map_err(|e| format!("start-up task failed: {e}"))??;

        let lifetimes = Lifetimes {
            access: settings.access_token_ttl,
            refresh: settings.refresh_token_ttl,
            session_max: settings.session_max_lifetime,
        };
        let cipher = Arc::new(cipher);
        let key_store = Arc::new(KeyStore::new(
            db.clone(),
            cipher.clone(),
            settings.clone(),
            ring,
        ));
        key_store.clone().spawn_reloader();
        let cache = Arc::new(ValidationCache::new(Duration::from_millis(
            settings.validation_cache_ms,
        )));
        // Half the pool for validation lookups in flight: enough that one
        // query stalled in the database (a busy core, a checkpoint) does not
        // hold up every request, while the rest of the pool stays free for
        // logins and writes.
        let lookup_slots = (settings.db_pool_size as usize / 2).max(1);
        let lookups = TokenLookups::start(db.clone(), lookup_slots);
        let validator = TokenValidator::new(db.clone(), key_store.clone(), cache.clone(), lookups);
        let issuer = TokenIssuer::new(key_store, lifetimes);
        let lockout = Lockout {
            threshold: settings.lockout_threshold,
            seconds: settings.lockout_seconds,
        };
        let redis = redis_link(&settings).await?;
        let hub = Hub::new(HubConfig {
            max_per_user: settings.ws_max_per_user,
            queue: settings.ws_send_queue,
            ping_interval: Duration::from_millis(settings.ws_ping_interval_ms),
            idle_timeout: Duration::from_millis(settings.ws_idle_timeout_ms),
        });
        let events = EventPublisher::new(hub.clone(), redis.clone());
        let stale = cache.clone();
        events.spawn_subscriber(move || stale.invalidate_all());
        let revocations = Revocations::new(cache, events.clone());
        let ws = WsService::new(db.clone(), redis.clone(), events.clone(), hub.clone())
            .with_origins(&settings.cors_origins);
        ws.spawn_session_check(
            hub.clone(),
            Duration::from_millis(settings.ws_session_check_ms),
        );
        let codes = Codes::new(
            cipher,
            TotpSettings {
                issuer: settings.totp_issuer.clone(),
                skew: settings.totp_skew,
            },
        );
        let passwords = PasswordCheck::new(db.clone(), lockout);
        let devices = DeviceService::new(
            db.clone(),
            revocations.clone(),
            settings.remember_device_days,
        );
        let state = AppState {
            login: LoginService::new(
                db.clone(),
                issuer.clone(),
                lockout,
                (dummy_hash, settings.bcrypt_cost),
                events.clone(),
                devices.clone(),
            ),
            refresh: RefreshService::new(db.clone(), issuer.clone(), revocations.clone()),
            account: AccountService::new(
                db.clone(),
                (settings.bcrypt_cost, settings.password_policy()),
                passwords.clone(),
                revocations.clone(),
            ),
            sessions: SessionService::new(db.clone(), revocations.clone()),
            oauth: OAuthService::new(
                db.clone(),
                validator.clone(),
                revocations.clone(),
                &settings.public_base_url(),
            ),
            metrics: MetricsService::new(db.clone(), settings.metrics_token.as_ref()),
            users: UserService::new(db.clone(), settings.bcrypt_cost, settings.password_policy()),
            two_factor: TwoFactorService::new(db.clone(), codes.clone(), passwords),
            challenge: ChallengeService::new(
                db.clone(),
                issuer.clone(),
                codes,
                lockout,
                events,
                (revocations.clone(), devices.clone()),
            ),
            login_limiter: LoginRateLimiter::new(settings.login_rate_limit)
                .with_redis(redis.clone()),
            policy_limiter: LoginRateLimiter::new(POLICY_CHECKS_PER_MINUTE),
            admin: AdminService::new(
                db.clone(),
                revocations,
                PasswordSettings {
                    bcrypt_cost: settings.bcrypt_cost,
                    policy: settings.password_policy(),
                },
            ),
            health: HealthService::new(db.clone(), redis),
            devices,
            validator,
            issuer,
            trusted_proxies: settings.trusted_proxies.clone(),
            ws,
            console: Console::new(),
            cookie_secure: settings.cookie_secure,
            openapi: crate::openapi::document(&settings.password_policy())
                .to_string()
                .into(),
        };

        let cleanup = CleanupService::new(db.clone(), CleanupPolicy::from_settings(&settings));
        let scheduler = jobs::start(&settings.cleanup_cron, cleanup).await?;

        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?
            .port();
        let data = web::Data::new(state);
        let limit = settings.max_body_bytes;
        let origins = settings.cors_origins.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
                .wrap(from_fn(cors_errors))
                .wrap(from_fn(request_context))
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(limit))
                .app_data(
                    web::JsonConfig::default()
                        .limit(limit)
                        .error_handler(fallback::json_error),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(limit)
                        .error_handler(fallback::form_error),
                )
                .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
                .app_data(web::PathConfig::default().error_handler(fallback::path_error))
                .configure(routes::configure)
                .default_service(web::to(fallback::not_found))
        })
        .shutdown_timeout(10)
        // Signals are handled in `run_until_stopped`, which closes WebSockets first.
        .disable_signals();
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server
            .listen(listener)
            .map_err(|e| format!("cannot start the HTTP server: {e}"))?
            .run();
        tracing::info!(address = %settings.bind, port, backend = ?db.backend(), "tokenward listening");
        Ok(Self {
            port,
            server,
            scheduler,
            hub,
        })
    }

    /// This instance's WebSocket registry.
    pub fn hub(&self) -> Hub {
        self.hub.clone()
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (Ctrl-C / SIGTERM or `handle().stop`). On a signal
    /// every WebSocket is sent a close frame before the HTTP server drains.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.hub.clone();
        let watcher = tokio::spawn(async move {
            shutdown_signal().await;
            let closed = hub.close_all();
            tracing::info!(websockets = closed, "shutting down");
            handle.stop(true).await;
        });
        let result = self.run_without_signals().await;
        watcher.abort();
        result
    }

    /// Serves until `handle().stop` (tests, embedding); signals are left alone.
    pub async fn run_without_signals(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.hub.close_all();
        if let Some(mut scheduler) = self.scheduler {
            if let Err(e) = scheduler.shutdown().await {
                tracing::warn!(error = %e, "job scheduler did not shut down cleanly");
            }
        }
        result
    }
}
