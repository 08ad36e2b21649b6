//! Readiness: the database, and Redis when configured, answer.

use crate::cluster::RedisLink;
use crate::db::Db;
use crate::errors::{AppError, AppResult};

/// What readiness found (everything up, or an error).
#[derive(Debug, Clone, Copy)]
pub struct Readiness {
    /// True when Redis is configured (and answered).
    pub redis: bool,
}

/// Readiness checks.
#[derive(Clone)]
pub struct HealthService {
    db: Db,
    redis: Option<RedisLink>,
}

impl HealthService {
    /// Checks `db`, and `redis` when configured.
    pub fn new(db: Db, redis: Option<RedisLink>) -> Self {
        Self { db, redis }
    }

    /// Up, or 503 `unavailable` naming nothing internal.
    pub async fn ready(&self) -> AppResult<Readiness> {
        if !self.db.ping().await {
            return Err(AppError::Unavailable);
        }
        let Some(redis) = &self.redis else {
            return Ok(Readiness { redis: false });
        };
        if !redis.ping().await {
            tracing::warn!("readiness: redis unreachable");
            return Err(AppError::Unavailable);
        }
        Ok(Readiness { redis: true })
    }
}
