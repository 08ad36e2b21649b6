//! Scrape-time figures: gauges read from the database (at most every 15 s,
//! whatever the scrape rate) and the pool, then the Prometheus text rendering.
//! With a metrics token set, a scrape must present it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::db::Db;
use crate::errors::{AppError, AppResult};
use crate::metrics::{self as m};
use crate::repositories::metrics as counts;
use crate::security::hashing::token_hash;
use crate::util;

/// How long the database gauges are reused between scrapes.
const GAUGE_TTL: Duration = Duration::from_secs(15);

/// Renders `/metrics`.
#[derive(Clone)]
pub struct MetricsService {
    db: Db,
    /// SHA-256 of the scrape token, when one is required.
    token_hash: Option<Arc<str>>,
    /// When the database gauges were last read; held while reading, so
    /// concurrent scrapes wait for one query instead of each running their own.
    last_read: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

impl MetricsService {
    /// Builds the service (installing the recorder if needed); with `token`,
    /// scrapes must present it.
    pub fn new(db: Db, token: Option<&SecretString>) -> Self {
        let _ = m::handle();
        Self {
            db,
            token_hash: token.map(|t| token_hash(t.expose_secret().trim()).into()),
            last_read: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// Checks the presented bearer token when one is required (401 otherwise).
    pub fn authorize(&self, presented: Option<&str>) -> AppResult<()> {
        let Some(expected) = &self.token_hash else {
            return Ok(());
        };
        let presented = presented.ok_or(AppError::TokenMissing)?;
        // Hashes are compared, so the time taken says nothing about the token.
        if token_hash(presented) == **expected {
            Ok(())
        } else {
            Err(AppError::TokenInvalid("wrong metrics token"))
        }
    }

    /// Refreshes the gauges and renders every metric in the text format.
    pub async fn render(&self) -> AppResult<String> {
        let pool = self.db.pool_state();
        metrics::gauge!(m::DB_POOL, "state" => "in_use")
            .set(f64::from(pool.0.saturating_sub(pool.1)));
        metrics::gauge!(m::DB_POOL, "state" => "idle").set(f64::from(pool.1));
        self.refresh_database_gauges().await;
        let handle =
            m::handle().ok_or_else(|| AppError::internal("metrics recorder not installed"))?;
        Ok(handle.render())
    }

    /// Reads the active sessions and tokens unless they were read within
    /// `GAUGE_TTL`: a scrape flood costs the database one query per window.
    async fn refresh_database_gauges(&self) {
        let mut last = self.last_read.lock().await;
        if last.is_some_and(|t| t.elapsed() < GAUGE_TTL) {
            return;
        }
        let counts = self
            .db
            .run(|c| {
                let now = util::now();
                Ok((
                    counts::active_sessions(c, now)?,
                    counts::active_tokens(c, now)?,
                ))
            })
            .await;
        // A scrape during an outage still shows the request and pool figures,
        // and tries the database again next time.
        if let Ok((sessions, tokens)) = counts {
            metrics::gauge!(m::ACTIVE_SESSIONS).set(sessions as f64);
            metrics::gauge!(m::ACTIVE_TOKENS).set(tokens as f64);
            *last = Some(Instant::now());
        }
    }
}
