//! Scrape-time figures: gauges read from the database and the pool, then the
//! Prometheus text rendering.

use crate::db::Db;
use crate::errors::{AppError, AppResult};
use crate::metrics::{self as m};
use crate::repositories::metrics as counts;
use crate::util;

/// Renders `/metrics`.
#[derive(Clone)]
pub struct MetricsService {
    db: Db,
}

impl MetricsService {
    /// Builds the service (installing the recorder if needed).
    pub fn new(db: Db) -> Self {
        let _ = m::handle();
        Self { db }
    }

    /// Refreshes the gauges and renders every metric in the text format.
    pub async fn render(&self) -> AppResult<String> {
        let pool = self.db.pool_state();
        metrics::gauge!(m::DB_POOL, "state" => "in_use")
            .set(f64::from(pool.0.saturating_sub(pool.1)));
        metrics::gauge!(m::DB_POOL, "state" => "idle").set(f64::from(pool.1));
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
        // A scrape during an outage still shows the request and pool figures.
        if let Ok((sessions, tokens)) = counts {
            metrics::gauge!(m::ACTIVE_SESSIONS).set(sessions as f64);
            metrics::gauge!(m::ACTIVE_TOKENS).set(tokens as f64);
        }
        let handle =
            m::handle().ok_or_else(|| AppError::internal("metrics recorder not installed"))?;
        Ok(handle.render())
    }
}
