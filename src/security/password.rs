//! bcrypt password hashing. bcrypt reads at most 72 bytes, so longer passwords
//! are refused by validation rather than silently truncated.

/// bcrypt's input limit in bytes.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Hashes `password` at `cost`.
pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(password, cost)
}

/// The cost `hash` was made with (None for a malformed hash).
pub fn cost_of(hash: &str) -> Option<u32> {
    hash.parse::<bcrypt::HashParts>().ok().map(|p| p.get_cost())
}

/// True when `password` matches `hash`; a malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify_round_trips_and_rejects_others() {
        let h = hash("correct horse", 4).unwrap_or_default();
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("correct horse", "not-a-hash"));
        assert_eq!(cost_of(&h), Some(4));
        assert_eq!(cost_of("not-a-hash"), None);
    }
}
