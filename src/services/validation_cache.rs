//! Short-lived memory of "this access token was valid", so hot tokens skip the
//! database. It keeps the contract's revocation bounds: any revocation made
//! through this instance empties it before the response is sent (the next
//! request goes to the database), and an entry is believed for at most `ttl`
//! (under one second), which bounds revocations made elsewhere — another
//! instance or plain SQL on the `tokens` table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::principal::Principal;

/// Entries kept before the map is swept of stale ones.
const SWEEP_ABOVE: usize = 100_000;

struct Entry {
    principal: Principal,
    cached_at: Instant,
    generation: u64,
}

/// The cache; a zero `ttl` disables it (every validation is exact).
pub struct ValidationCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
}

impl ValidationCache {
    /// A cache believing entries for `ttl` (0 disables).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// True when caching is on.
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The cached principal for a token hash, if fresh, of the current
    /// generation and not past the token's expiry.
    pub fn get(&self, hash: &str, now: NaiveDateTime) -> Option<Principal> {
        if !self.enabled() {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.read().ok()?;
        let e = entries.get(hash)?;
        let fresh = e.generation == generation
            && e.cached_at.elapsed() < self.ttl
            && e.principal.expires_at > now;
        fresh.then(|| e.principal.clone())
    }

    /// The generation to pass to `put`, read before the database is: a
    /// revocation committed while the lookup runs makes that entry unusable.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers a principal validated by a lookup that began at `started`
    /// (and `generation`): the entry's age counts from the read, not from
    /// when it was stored, so no answer outlives the bound.
    pub fn put(&self, hash: String, principal: Principal, generation: u64, started: Instant) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= SWEEP_ABOVE {
                let (ttl, now) = (self.ttl, Instant::now());
                entries.retain(|_, e| e.generation == generation && now - e.cached_at < ttl);
            }
            entries.insert(
                hash,
                Entry {
                    principal,
                    cached_at: started,
                    generation,
                },
            );
        }
    }

    /// Forgets everything: called after every revocation (and account change)
    /// made through this instance, or announced by another one.
    pub fn invalidate_all(&self) {
        if !self.enabled() {
            return;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Roles;

    fn principal(expires_at: NaiveDateTime) -> Principal {
        Principal {
            user_id: 1,
            email: "a@b.c".into(),
            roles: Roles::from_names(["user"]),
            two_factor_enabled: false,
            must_change_password: false,
            session_id: 2,
            jti: "j".into(),
            expires_at,
        }
    }

    #[test]
    fn an_entry_ages_from_its_lookup_not_from_when_it_was_stored() {
        let now = crate::util::now();
        let later = now + chrono::Duration::seconds(60);
        let c = ValidationCache::new(Duration::from_millis(200));
        let looked_up = Instant::now() - Duration::from_millis(300);
        c.put("h".into(), principal(later), c.generation(), looked_up);
        assert!(
            c.get("h", now).is_none(),
            "a slow lookup's answer is already too old"
        );
    }

    #[test]
    fn entries_expire_are_invalidated_and_respect_token_expiry() {
        let now = crate::util::now();
        let later = now + chrono::Duration::seconds(60);
        let c = ValidationCache::new(Duration::from_millis(200));
        c.put("h".into(), principal(later), c.generation(), Instant::now());
        assert!(c.get("h", now).is_some());
        assert!(
            c.get("h", later).is_none(),
            "not past the token's own expiry"
        );
        let before = c.generation();
        c.invalidate_all();
        assert!(c.get("h", now).is_none());
        // A lookup that began before the revocation cannot repopulate it.
        c.put("h".into(), principal(later), before, Instant::now());
        assert!(c.get("h", now).is_none());
        c.put("h".into(), principal(later), c.generation(), Instant::now());
        std::thread::sleep(Duration::from_millis(250));
        assert!(c.get("h", now).is_none(), "not past the ttl");
        let off = ValidationCache::new(Duration::ZERO);
        off.put("h".into(), principal(later), 0, Instant::now());
        assert!(off.get("h", now).is_none());
    }
}
