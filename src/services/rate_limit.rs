//! Per-client-IP rate limit for login and verify-2fa (GCRA via `governor`):
//! a burst of `per_minute` requests, refilled evenly over a minute. With Redis
//! the count is shared by every instance (a fixed one-minute window, INCR +
//! EXPIRE); when Redis does not answer, the in-process limiter decides.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::cluster::RedisLink;
use crate::errors::{AppError, AppResult};

/// Keys tracked before stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

/// The limiter; `None` inside when disabled.
#[derive(Clone)]
pub struct LoginRateLimiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    clock: DefaultClock,
    per_minute: u32,
    redis: Option<RedisLink>,
}

impl LoginRateLimiter {
    /// `per_minute` requests per IP; 0 disables.
    pub fn new(per_minute: u32) -> Self {
        let inner = NonZeroU32::new(per_minute)
            .map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))));
        Self {
            inner,
            clock: DefaultClock::default(),
            per_minute,
            redis: None,
        }
    }

    /// Shares the counts through Redis.
    pub fn with_redis(mut self, redis: Option<RedisLink>) -> Self {
        self.redis = redis;
        self
    }

    /// Counts one request from `ip` in the shared window when Redis answers,
    /// else in this process.
    pub async fn check_shared(&self, ip: Option<IpAddr>) -> AppResult<()> {
        let (Some(link), Some(addr), true) = (&self.redis, ip, self.inner.is_some()) else {
            return self.check(ip);
        };
        let now = chrono::Utc::now().timestamp();
        let window = now.div_euclid(60);
        let key = link.key(&format!("rl:login:{}:{window}", addr.to_canonical()));
        let counted = link
            .run(|mut c| async move {
                let (n,): (u64,) = redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&key)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(61)
                    .ignore()
                    .query_async(&mut c)
                    .await?;
                Ok(n)
            })
            .await;
        match counted {
            Some(n) if n > u64::from(self.per_minute) => Err(AppError::TooManyRequests {
                retry_after: u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60),
            }),
            Some(_) => Ok(()),
            None => self.check(ip),
        }
    }

    /// Counts one request from `ip`; 429 with a retry delay once over the limit.
    pub fn check(&self, ip: Option<IpAddr>) -> AppResult<()> {
        let (Some(limiter), Some(ip)) = (&self.inner, ip) else {
            return Ok(());
        };
        if limiter.len() > SWEEP_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_ip_and_zero_disables() {
        let l = LoginRateLimiter::new(3);
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = IpAddr::from([192, 0, 2, 2]);
        for _ in 0..3 {
            assert!(l.check(Some(a)).is_ok());
        }
        match l.check(Some(a)) {
            Err(AppError::TooManyRequests { retry_after }) => {
                assert!((1..=20).contains(&retry_after))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check(Some(b)).is_ok());
        let off = LoginRateLimiter::new(0);
        for _ in 0..100 {
            assert!(off.check(Some(a)).is_ok());
        }
    }
}
