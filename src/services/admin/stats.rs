//! Hourly figures for the console's charts: logins, failures and refreshes from
//! the audit trail, revocations and live sessions from the sessions table.

use std::collections::HashMap;

use chrono::{Duration, DurationRound, NaiveDateTime};

use super::AdminService;
use crate::dto::admin::HourlyStats;
use crate::errors::{AppError, AppResult};
use crate::repositories::stats::{self as stats_repo, HourCount};
use crate::services::audit::event;
use crate::util;

impl AdminService {
    /// The last `hours` hours (the current one included), oldest first.
    pub async fn hourly_stats(&self, hours: i64) -> AppResult<Vec<HourlyStats>> {
        let now = util::now();
        let current = now
            .duration_trunc(Duration::hours(1))
            .map_err(|_| AppError::internal("clock out of range"))?;
        let since = current - Duration::hours(hours - 1);
        let until = now + Duration::microseconds(1);
        let (counts, live_at_start) = self
            .db
            .run(move |c| {
                let mut counts = stats_repo::audit_events_by_hour(
                    c,
                    &[
                        event::LOGIN_SUCCEEDED,
                        event::LOGIN_FAILED,
                        event::TWO_FACTOR_FAILED,
                        event::TOKEN_REFRESHED,
                    ],
                    since,
                    until,
                )?;
                counts.extend(stats_repo::sessions_by_hour(c, since, until)?);
                Ok((counts, stats_repo::sessions_live_at(c, since)?))
            })
            .await?;
        Ok(series(since, hours, &counts, live_at_start))
    }
}

/// One entry per hour from `since`, zeros where nothing happened; live
/// sessions run from `live_at_start` by the hour's starts and ends.
fn series(
    since: NaiveDateTime,
    hours: i64,
    counts: &[HourCount],
    live_at_start: i64,
) -> Vec<HourlyStats> {
    let by_key: HashMap<(NaiveDateTime, &str), i64> = counts
        .iter()
        .map(|c| ((c.hour, c.kind.as_str()), c.n))
        .collect();
    let mut live = live_at_start;
    (0..hours)
        .map(|i| {
            let hour = since + Duration::hours(i);
            let n = |kind: &str| by_key.get(&(hour, kind)).copied().unwrap_or(0);
            live += n("session_started") - n("session_ended");
            HourlyStats {
                hour,
                logins: n(event::LOGIN_SUCCEEDED),
                failed_logins: n(event::LOGIN_FAILED) + n(event::TWO_FACTOR_FAILED),
                refreshes: n(event::TOKEN_REFRESHED),
                revocations: n("session_revoked"),
                active_sessions: live.max(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap_or_default()
    }

    fn count(h: u32, kind: &str, n: i64) -> HourCount {
        HourCount {
            hour: at(h),
            kind: kind.to_string(),
            n,
        }
    }

    #[test]
    fn hours_without_events_are_zero_and_live_sessions_accumulate() {
        let counts = [
            count(10, "login_succeeded", 3),
            count(10, "session_started", 3),
            count(11, "login_failed", 2),
            count(11, "two_factor_failed", 1),
            count(12, "session_ended", 2),
            count(12, "session_revoked", 2),
        ];
        let s = series(at(10), 4, &counts, 5);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].hour, at(10));
        assert_eq!((s[0].logins, s[0].active_sessions), (3, 8));
        assert_eq!((s[1].failed_logins, s[1].active_sessions), (3, 8));
        assert_eq!((s[2].revocations, s[2].active_sessions), (2, 6));
        assert_eq!((s[3].logins, s[3].active_sessions), (0, 6));
    }
}
