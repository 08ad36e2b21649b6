//! Password hashing. bcrypt reads at most 72 bytes, so every password is first
//! reduced to a fixed 44-character digest (base64 of its SHA-256) and that is
//! what bcrypt hashes: every character of a long password counts. Such hashes
//! carry the `sha256+` prefix; hashes made before it (plain bcrypt) still
//! verify, and are redone at the next login.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// bcrypt's input limit in bytes (what a plain, older hash could read).
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Marks a hash of the digest (every character counts).
const PREHASHED: &str = "sha256+";

fn digest(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

/// Hashes `password` at `cost`.
pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    Ok(format!(
        "{PREHASHED}{}",
        bcrypt::hash(digest(password), cost)?
    ))
}

/// The bcrypt part of a stored hash.
fn bcrypt_part(stored: &str) -> &str {
    stored.strip_prefix(PREHASHED).unwrap_or(stored)
}

/// The cost `stored` was made with (None for a malformed hash).
pub fn cost_of(stored: &str) -> Option<u32> {
    bcrypt_part(stored)
        .parse::<bcrypt::HashParts>()
        .ok()
        .map(|p| p.get_cost())
}

/// True when `stored` should be made again: an older plain hash, or another cost.
pub fn needs_rehash(stored: &str, cost: u32) -> bool {
    !stored.starts_with(PREHASHED) || cost_of(stored) != Some(cost)
}

/// A temporary password for an admin reset: four groups of five lowercase
/// letters and digits (100 random bits), easy to read out and to type.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes = crate::security::hashing::random_bytes(20);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// True when `password` matches `stored`; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match stored.strip_prefix(PREHASHED) {
        Some(inner) => bcrypt::verify(digest(password), inner).unwrap_or(false),
        // A plain hash read 72 bytes: a longer password can never be the one
        // stored (bcrypt would otherwise accept any extension of it).
        None => {
            password.len() <= MAX_PASSWORD_BYTES
                && bcrypt::verify(password, stored).unwrap_or(false)
        }
    }
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
        assert!(!needs_rehash(&h, 4));
        assert!(needs_rehash(&h, 5));
    }

    #[test]
    fn every_character_of_a_long_password_counts() {
        let long = "k".repeat(80);
        let h = hash(&long, 4).unwrap_or_default();
        assert!(verify(&long, &h));
        assert!(
            !verify(&long[..72], &h),
            "the first 72 characters alone do not match"
        );
    }

    #[test]
    fn plain_bcrypt_hashes_of_earlier_versions_still_verify() {
        let old = bcrypt::hash("an older password", 4).unwrap_or_default();
        assert!(verify("an older password", &old));
        assert!(!verify("another password", &old));
        assert!(needs_rehash(&old, 4));
    }
}
