//! Service layer: the cleanup rules. Tokens expired for longer than the retention
//! are deleted, the remaining ones past `expires_at` are marked `expired`, ended
//! sessions with no tokens left are deleted after the same retention, and audit
//! events after theirs. Every step runs in bounded keyset batches until its walk
//! ends; the batch size adapts so that each statement stays near
//! `TARGET_STATEMENT`, whatever the machine and its load.

use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDateTime};

use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::errors::AppResult;
use crate::repositories::cleanup::{self as cleanup_repo, Aged, Batch, Key, SessionCursor};
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

/// How long a batch statement should take: well under the 250 ms that any one
/// statement may hold its row locks, while keeping the per-statement overhead
/// small.
pub const TARGET_STATEMENT: StdDuration = StdDuration::from_millis(80);

/// The smallest batch the adaptation goes down to (unless the configured
/// batch is smaller still).
const MIN_BATCH: i64 = 100;

/// How far before the previous run's "now" marking starts again, for tokens
/// written meanwhile by an instance whose clock runs behind.
const MARK_OVERLAP_MINUTES: i64 = 5;

/// Runs cleanup passes over one database.
#[derive(Clone)]
pub struct CleanupService {
    db: Db,
    policy: CleanupPolicy,
    /// Everything that expired before this was marked by an earlier run of this
    /// service; the next run starts marking there (None: at the retention cutoff).
    marked_until: Arc<Mutex<Option<NaiveDateTime>>>,
}

impl CleanupService {
    /// A service over `db` applying `policy`.
    pub fn new(db: Db, policy: CleanupPolicy) -> Self {
        Self {
            db,
            policy,
            marked_until: Arc::new(Mutex::new(None)),
        }
    }

    /// One full pass, on a dedicated connection holding the cleanup lock; a pass
    /// that finds the lock taken returns at once with `skipped` set.
    #[tracing::instrument(skip_all)]
    pub async fn run_once(&self) -> AppResult<CleanupReport> {
        let policy = self.policy;
        let started = Instant::now();
        let now = util::now();
        let marked_until = self.marked_until.lock().map(|m| *m).unwrap_or(None);
        let mut report = self
            .db
            .run_dedicated(move |conn| {
                if !cleanup_repo::try_lock(conn)? {
                    return Ok(CleanupReport {
                        skipped: true,
                        ..CleanupReport::default()
                    });
                }
                let outcome = sweep(conn, policy, now, marked_until);
                if let Err(e) = cleanup_repo::unlock(conn) {
                    // Closing the dedicated connection releases it anyway.
                    tracing::warn!(error = %e, "could not release the cleanup lock");
                }
                outcome
            })
            .await?;
        if !report.skipped {
            if let Ok(mut m) = self.marked_until.lock() {
                *m = Some(now);
            }
        }
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
    marked_until: Option<NaiveDateTime>,
) -> AppResult<CleanupReport> {
    let token_cutoff = now - policy.token_retention;
    let audit_cutoff = now - policy.audit_retention;
    let mut s = Sweeper {
        conn,
        max: policy.batch_size,
        report: CleanupReport::default(),
    };
    s.report.tokens_deleted = s.drain("delete_tokens", None, |c, after, n| {
        cleanup_repo::delete_before(c, Aged::Tokens, token_cutoff, after, n)
    })?;
    // Everything that expired before the cutoff was just deleted, and what an
    // earlier run marked need not be walked again.
    let mark_from = marked_until
        .map(|t| t - Duration::minutes(MARK_OVERLAP_MINUTES))
        .map_or(token_cutoff, |t| t.max(token_cutoff));
    let marked_after = Some(Key::before(mark_from));
    s.report.tokens_marked = s.drain("mark_expired", marked_after, |c, after, n| {
        cleanup_repo::mark_expired(c, now, after, n)
    })?;
    let sessions = SessionCursor::default();
    s.report.sessions_deleted = s.drain("delete_sessions", sessions, |c, at, n| {
        cleanup_repo::delete_sessions_ended_before(c, token_cutoff, at, n)
    })?;
    s.report.audit_events_deleted = s.drain("delete_audit_events", None, |c, after, n| {
        cleanup_repo::delete_before(c, Aged::AuditEvents, audit_cutoff, after, n)
    })?;
    Ok(s.report)
}

/// The next batch size: halved after a statement slower than the target, grown
/// by half after one under half of it, always within `[min(MIN_BATCH, max), max]`.
fn next_limit(limit: i64, took: StdDuration, max: i64) -> i64 {
    let floor = MIN_BATCH.min(max);
    if took > TARGET_STATEMENT {
        (limit / 2).max(floor)
    } else if took < TARGET_STATEMENT / 2 {
        (limit + limit / 2 + 1).min(max)
    } else {
        limit
    }
}

/// One run's walks over one connection, and what they did so far.
struct Sweeper<'c> {
    conn: &'c mut DbConnection,
    /// Most rows per statement.
    max: i64,
    report: CleanupReport,
}

impl Sweeper<'_> {
    /// Repeats one batch statement, each starting where the previous one
    /// stopped, until the walk ends (each statement commits on its own), timing
    /// every statement into the report and steering the batch size towards
    /// `TARGET_STATEMENT`.
    fn drain<C: Copy>(
        &mut self,
        step: &'static str,
        start: C,
        mut batch: impl FnMut(&mut DbConnection, C, i64) -> diesel::QueryResult<Batch<C>>,
    ) -> AppResult<usize> {
        let (max, report) = (self.max, &mut self.report);
        let mut limit = max;
        let mut position = start;
        let mut total = 0;
        loop {
            let started = Instant::now();
            let done = batch(self.conn, position, limit)?;
            let took = started.elapsed();
            tracing::debug!(
                step,
                limit,
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
            if !done.more {
                return Ok(total);
            }
            limit = next_limit(limit, took, max);
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

    #[test]
    fn the_batch_size_follows_the_statement_time() {
        let slow = TARGET_STATEMENT * 2;
        let quick = TARGET_STATEMENT / 4;
        let steady = TARGET_STATEMENT * 3 / 4;
        assert_eq!(next_limit(2000, slow, 2000), 1000);
        assert_eq!(next_limit(150, slow, 2000), MIN_BATCH);
        assert_eq!(next_limit(MIN_BATCH, slow, 2000), MIN_BATCH);
        assert_eq!(next_limit(1000, quick, 2000), 1501);
        assert_eq!(next_limit(1900, quick, 2000), 2000);
        assert_eq!(next_limit(1000, steady, 2000), 1000);
        // A configured batch below the floor is kept as it is.
        assert_eq!(next_limit(3, slow, 3), 3);
        assert_eq!(next_limit(1, quick, 3), 2);
    }
}
