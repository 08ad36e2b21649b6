//! Service layer: the cleanup rules. Tokens expired for longer than the retention
//! are deleted, the remaining ones past `expires_at` are marked `expired` (which
//! keeps the "active tokens" queries on their partial index), ended sessions with
//! no tokens left are deleted after the same retention, and audit events after
//! theirs. Every step runs in bounded keyset batches until a batch comes back
//! short.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDateTime};

use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::errors::AppResult;
use crate::repositories::cleanup::{self as cleanup_repo, Batch, Key, SessionCursor};
use crate::util;

/// What cleanup keeps and how much it touches per statement.
#[derive(Debug, Clone, Copy)]
pub struct CleanupPolicy {
    /// Most rows per statement.
    pub batch_size: i64,
    /// How long expired tokens (and ended sessions) are kept.
    pub token_retention: Duration,
    /// How long audit events are kept.
    pub audit_retention: Duration,
}

impl CleanupPolicy {
    /// The policy the settings describe.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            batch_size: s.cleanup_batch_size.max(1),
            token_retention: Duration::hours(s.token_retention_hours),
            audit_retention: Duration::days(s.audit_retention_days),
        }
    }
}

/// The slowest statement of a run, for spotting lock-holding batches.
#[derive(Debug, Clone, Copy)]
pub struct SlowStatement {
    /// Which step issued it.
    pub step: &'static str,
    /// How long it took.
    pub duration: StdDuration,
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct CleanupReport {
    /// True when another instance held the cleanup lock, so nothing was done.
    pub skipped: bool,
    /// Tokens newly marked `expired`.
    pub tokens_marked: usize,
    /// Tokens deleted.
    pub tokens_deleted: usize,
    /// Sessions deleted.
    pub sessions_deleted: usize,
    /// Audit events deleted.
    pub audit_events_deleted: usize,
    /// Statements issued.
    pub statements: usize,
    /// The slowest of them.
    pub slowest: Option<SlowStatement>,
    /// Wall time of the whole run.
    pub duration: StdDuration,
}

impl CleanupReport {
    /// Rows deleted, all tables together.
    pub fn rows_deleted(&self) -> usize {
        self.tokens_deleted + self.sessions_deleted + self.audit_events_deleted
    }
}

/// Runs cleanup passes over one database.
#[derive(Clone)]
pub struct CleanupService {
    db: Db,
    policy: CleanupPolicy,
}

impl CleanupService {
    /// A service over `db` applying `policy`.
    pub fn new(db: Db, policy: CleanupPolicy) -> Self {
        Self { db, policy }
    }

    /// One full pass, on a dedicated connection holding the cleanup lock; a pass
    /// that finds the lock taken returns at once with `skipped` set.
    #[tracing::instrument(skip_all)]
    pub async fn run_once(&self) -> AppResult<CleanupReport> {
        let policy = self.policy;
        let started = Instant::now();
        let mut report = self
            .db
            .run_dedicated(move |conn| {
                if !cleanup_repo::try_lock(conn)? {
                    return Ok(CleanupReport {
                        skipped: true,
                        ..CleanupReport::default()
                    });
                }
                let outcome = sweep(conn, policy, util::now());
                if let Err(e) = cleanup_repo::unlock(conn) {
                    // Closing the dedicated connection releases it anyway.
                    tracing::warn!(error = %e, "could not release the cleanup lock");
                }
                outcome
            })
            .await?;
        report.duration = started.elapsed();
        Ok(report)
    }
}

/// Every step, in an order that does no wasted work: rows due for deletion are
/// deleted before the rest is marked, and sessions go once their tokens are gone.
/// Each step walks its index once, batch after batch, from where the last one
/// stopped.
fn sweep(
    conn: &mut DbConnection,
    policy: CleanupPolicy,
    now: NaiveDateTime,
) -> AppResult<CleanupReport> {
    let n = policy.batch_size;
    let token_cutoff = now - policy.token_retention;
    let audit_cutoff = now - policy.audit_retention;
    let mut r = CleanupReport::default();
    r.tokens_deleted = drain(conn, &mut r, "delete_tokens", n, None, |c, after| {
        cleanup_repo::delete_tokens_expired_before(c, token_cutoff, after, n)
    })?;
    // Everything that expired before the cutoff was just deleted, so marking
    // starts there rather than among the deleted rows' dead index entries.
    let mark_from = Some(Key::before(token_cutoff));
    r.tokens_marked = drain(conn, &mut r, "mark_expired", n, mark_from, |c, after| {
        cleanup_repo::mark_expired(c, now, after, n)
    })?;
    let sessions_from = SessionCursor::default();
    r.sessions_deleted = drain(
        conn,
        &mut r,
        "delete_sessions",
        n,
        sessions_from,
        |c, at| cleanup_repo::delete_sessions_ended_before(c, token_cutoff, at, n),
    )?;
    r.audit_events_deleted = drain(conn, &mut r, "delete_audit_events", n, None, |c, after| {
        cleanup_repo::delete_audit_before(c, audit_cutoff, after, n)
    })?;
    Ok(r)
}

/// Repeats one batch statement, each starting where the previous one stopped,
/// until one touches fewer than `limit` rows (each statement commits on its
/// own), timing every statement into `report`.
fn drain<C: Copy>(
    conn: &mut DbConnection,
    report: &mut CleanupReport,
    step: &'static str,
    limit: i64,
    start: C,
    mut batch: impl FnMut(&mut DbConnection, C) -> diesel::QueryResult<Batch<C>>,
) -> AppResult<usize> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut position = start;
    let mut total = 0;
    loop {
        let started = Instant::now();
        let done = batch(conn, position)?;
        let took = started.elapsed();
        tracing::debug!(
            step,
            rows = done.rows,
            ms = took.as_secs_f64() * 1000.0,
            "cleanup statement"
        );
        report.statements += 1;
        if report.slowest.is_none_or(|s| took > s.duration) {
            report.slowest = Some(SlowStatement {
                step,
                duration: took,
            });
        }
        total += done.rows;
        position = done.next;
        if done.rows < limit {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_follows_the_settings() {
        let s = Settings {
            cleanup_batch_size: 10,
            token_retention_hours: 6,
            audit_retention_days: 30,
            ..Settings::default()
        };
        let p = CleanupPolicy::from_settings(&s);
        assert_eq!(p.batch_size, 10);
        assert_eq!(p.token_retention, Duration::hours(6));
        assert_eq!(p.audit_retention, Duration::days(30));
    }
}
