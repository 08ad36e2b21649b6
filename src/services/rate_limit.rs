//! Per-client rate limit for login and verify-2fa (GCRA via `governor`): a
//! burst of `per_minute` requests, refilled evenly over a minute. The key is the
//! client's IPv4 address, or the /64 of its IPv6 address (one host commonly
//! holds a whole /64); the IP stored on tokens stays the full address. With
//! Redis the count is shared by every instance (a fixed one-minute window,
//! INCR + EXPIRE); when Redis does not answer, the in-process limiter decides.
//!
//! The in-process table is bounded and costs O(1) amortised per request: keys
//! whose budget is full again are swept by a background tick once a minute and,
//! between ticks, on the request path only once the table has doubled since the
//! last sweep. If a sweep leaves half of `MAX_KEYS` or more keys live, the
//! table starts over (every budget full again): a client that can present that
//! many distinct keys a minute already holds that many budgets.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::cluster::RedisLink;
use crate::errors::{AppError, AppResult};

/// Keys tracked before the first on-path sweep.
const SWEEP_ABOVE: usize = 10_000;

/// Most keys the in-process table holds (a few MB).
const MAX_KEYS: usize = 200_000;

/// How often the background tick sweeps.
const TICK: Duration = Duration::from_secs(60);

/// Prefix length that IPv6 clients are limited by.
const IPV6_PREFIX: u8 = 64;

/// The limiter key of a client IP: the IPv4 address itself (`/32`), or the
/// `/64` holding an IPv6 address. IPv4-mapped IPv6 counts as IPv4.
pub fn limit_key(ip: IpAddr) -> IpNet {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpNet::V4(Ipv4Net::from(v4)),
        IpAddr::V6(v6) => match Ipv6Net::new(v6, IPV6_PREFIX) {
            Ok(net) => IpNet::V6(net.trunc()),
            Err(_) => IpNet::V6(Ipv6Net::from(v6)),
        },
    }
}

/// The key's name in Redis: the bare address for IPv4, the CIDR for IPv6.
fn redis_name(key: &IpNet) -> String {
    match key {
        IpNet::V4(net) => net.addr().to_string(),
        IpNet::V6(net) => net.to_string(),
    }
}

/// The keyed GCRA table.
type Table = DefaultKeyedRateLimiter<IpNet>;

/// The in-process limiter: the table and its sweep bookkeeping.
struct Local {
    quota: Quota,
    table: RwLock<Arc<Table>>,
    /// Table size at which a request sweeps.
    next_sweep: AtomicUsize,
    /// Set while one thread sweeps; others do not wait.
    sweeping: AtomicBool,
    /// First on-path sweep threshold.
    sweep_above: usize,
    /// Most keys held.
    max_keys: usize,
}

impl Local {
    fn new(quota: Quota, sweep_above: usize, max_keys: usize) -> Self {
        Self {
            quota,
            table: RwLock::new(Arc::new(Table::keyed(quota))),
            next_sweep: AtomicUsize::new(sweep_above),
            sweeping: AtomicBool::new(false),
            sweep_above,
            max_keys,
        }
    }

    fn table(&self) -> Arc<Table> {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops keys whose budget is full again; starts over when too many stay.
    /// Costs O(keys); the next on-path sweep waits until the table doubles.
    fn sweep(&self) {
        if self.sweeping.swap(true, Ordering::Acquire) {
            return;
        }
        let table = self.table();
        table.retain_recent();
        let live = table.len();
        if live >= self.max_keys / 2 {
            *self.table.write().unwrap_or_else(PoisonError::into_inner) =
                Arc::new(Table::keyed(self.quota));
            self.next_sweep.store(self.sweep_above, Ordering::Relaxed);
            tracing::warn!(live, "login rate limiter table full: started over");
        } else {
            table.shrink_to_fit();
            self.next_sweep.store(
                live.saturating_mul(2).max(self.sweep_above),
                Ordering::Relaxed,
            );
        }
        self.sweeping.store(false, Ordering::Release);
    }
}

/// Sweeps `local` every `TICK` until the limiter is dropped.
async fn tick(local: Weak<Local>) {
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(local) = local.upgrade() else {
            return;
        };
        local.sweep();
    }
}

/// Password checks (`POST /auth/password/check`) a client IP may ask for in a
/// minute: ample for typing, too few to turn the strength estimate into load.
pub const POLICY_CHECKS_PER_MINUTE: u32 = 120;

/// The limiter; `None` inside when disabled.
#[derive(Clone)]
pub struct LoginRateLimiter {
    local: Option<Arc<Local>>,
    clock: DefaultClock,
    per_minute: u32,
    redis: Option<RedisLink>,
}

impl LoginRateLimiter {
    /// `per_minute` requests per client key; 0 disables. Called inside a Tokio
    /// runtime, it also starts the background sweep, which ends when the last
    /// clone of the limiter is dropped.
    pub fn new(per_minute: u32) -> Self {
        Self::with_bounds(per_minute, SWEEP_ABOVE, MAX_KEYS)
    }

    fn with_bounds(per_minute: u32, sweep_above: usize, max_keys: usize) -> Self {
        let local = NonZeroU32::new(per_minute)
            .map(|n| Arc::new(Local::new(Quota::per_minute(n), sweep_above, max_keys)));
        if let (Some(local), Ok(runtime)) = (&local, tokio::runtime::Handle::try_current()) {
            runtime.spawn(tick(Arc::downgrade(local)));
        }
        Self {
            local,
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
        let (Some(link), Some(addr), true) = (&self.redis, ip, self.local.is_some()) else {
            return self.check(ip);
        };
        let now = chrono::Utc::now().timestamp();
        let window = now.div_euclid(60);
        let name = redis_name(&limit_key(addr));
        let key = link.key(&format!("rl:login:{name}:{window}"));
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

    /// Counts one request from `ip` (by its `limit_key`); 429 with a retry
    /// delay once over the limit.
    pub fn check(&self, ip: Option<IpAddr>) -> AppResult<()> {
        let (Some(local), Some(ip)) = (&self.local, ip) else {
            return Ok(());
        };
        let table = local.table();
        if table.len() >= local.next_sweep.load(Ordering::Relaxed) {
            local.sweep();
        }
        let table = local.table();
        table.check_key(&limit_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Keys held in this process (0 when disabled).
    pub fn tracked(&self) -> usize {
        self.local.as_ref().map_or(0, |l| l.table().len())
    }
}

#[cfg(test)]
#[path = "rate_limit_tests.rs"]
mod tests;
