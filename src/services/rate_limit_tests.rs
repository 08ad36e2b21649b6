//! Unit tests of the login rate limiter.

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn is_429(r: AppResult<()>) -> bool {
    matches!(r, Err(AppError::TooManyRequests { .. }))
}

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
    assert_eq!(off.tracked(), 0);
}

#[test]
fn ipv6_is_keyed_by_its_64_and_ipv4_by_address() {
    assert_eq!(
        limit_key(ip("2001:db8:1:2:aaaa::1")).to_string(),
        "2001:db8:1:2::/64"
    );
    assert_eq!(
        limit_key(ip("::ffff:192.0.2.1")).to_string(),
        "192.0.2.1/32"
    );
    assert_eq!(redis_name(&limit_key(ip("192.0.2.1"))), "192.0.2.1");
    assert_eq!(redis_name(&limit_key(ip("2001:db8::5"))), "2001:db8::/64");

    let l = LoginRateLimiter::new(3);
    for a in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        assert!(l.check(Some(ip(a))).is_ok(), "{a}");
    }
    assert!(is_429(l.check(Some(ip("2001:db8:1:2:1234::4")))));
    assert!(l.check(Some(ip("2001:db8:1:3::1"))).is_ok());
    // IPv4 neighbours do not share.
    for _ in 0..3 {
        assert!(l.check(Some(ip("192.0.2.1"))).is_ok());
    }
    assert!(is_429(l.check(Some(ip("::ffff:192.0.2.1")))));
    assert!(l.check(Some(ip("192.0.2.2"))).is_ok());
}

#[test]
fn the_table_stays_bounded_under_many_clients() {
    let l = LoginRateLimiter::with_bounds(3, 10, 1_000);
    let mut most = 0;
    for i in 0..20_000u32 {
        assert!(l.check(Some(IpAddr::from(i.to_be_bytes()))).is_ok());
        most = most.max(l.tracked());
    }
    assert!(most <= 1_000, "{most}");
}

#[test]
fn on_path_sweeps_happen_only_when_the_table_doubles() {
    let l = LoginRateLimiter::with_bounds(3, 10, 1_000_000);
    let Some(local) = l.local.clone() else {
        panic!("enabled");
    };
    let mut sweeps = 0;
    let mut threshold = local.next_sweep.load(Ordering::Relaxed);
    for i in 0..10_000u32 {
        assert!(l.check(Some(IpAddr::from(i.to_be_bytes()))).is_ok());
        let now = local.next_sweep.load(Ordering::Relaxed);
        if now != threshold {
            sweeps += 1;
            threshold = now;
        }
    }
    // 10 → 20 → … → 10,240: about log2(10,000 / 10) sweeps, not one a request.
    assert!(sweeps <= 11, "{sweeps}");
    assert_eq!(l.tracked(), 10_000);
}

#[test]
fn a_sweep_keeps_live_budgets() {
    let l = LoginRateLimiter::with_bounds(2, 10, 1_000);
    let a = ip("192.0.2.9");
    assert!(l.check(Some(a)).is_ok());
    assert!(l.check(Some(a)).is_ok());
    if let Some(local) = &l.local {
        local.sweep();
    }
    assert!(is_429(l.check(Some(a))));
}

#[tokio::test]
async fn the_background_sweep_ends_with_the_limiter() {
    let l = LoginRateLimiter::new(3);
    let Some(local) = l.local.as_ref().map(Arc::downgrade) else {
        panic!("enabled");
    };
    drop(l);
    assert!(local.upgrade().is_none());
}
