//! RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps) and recovery codes. Replay
//! protection is the caller's: `check` returns the matched time step so that a
//! step can be accepted once per user.

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::hashing::random_bytes;

/// Digits of a login code.
pub const DIGITS: u8 = 6;
/// Seconds per step.
pub const STEP: u64 = 30;
/// Secret length in bytes (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued at enable.
pub const RECOVERY_CODES: usize = 10;

const RECOVERY_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_LEN: usize = 16;

/// What an enrolling user scans or types into an authenticator app.
#[derive(Debug)]
pub struct Enrollment {
    /// The secret, base32.
    pub secret_base32: String,
    /// `otpauth://totp/...` URL.
    pub otpauth_url: String,
    /// The URL as a QR code PNG, base64.
    pub qr_png_base64: String,
}

fn totp(secret: &[u8], digits: u8, skew: u16, account: &str, issuer: &str) -> Result<Totp, String> {
    // The otpauth label forbids ':' in both parts.
    let account = account.replace(':', "_");
    let issuer = issuer.replace(':', "_");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(skew)
        .with_step_duration(STEP)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| format!("TOTP parameters rejected: {e}"))
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    random_bytes(SECRET_BYTES)
}

/// The enrollment data for `secret`.
pub fn enrollment(secret: &[u8], account: &str, issuer: &str) -> Result<Enrollment, String> {
    let t = totp(secret, DIGITS, 0, account, issuer)?;
    Ok(Enrollment {
        secret_base32: t.secret().to_base32(),
        otpauth_url: t.to_url().map_err(|e| format!("otpauth URL: {e}"))?,
        qr_png_base64: t.to_qr_base64().map_err(|e| format!("QR code: {e}"))?,
    })
}

/// The code for `secret` at Unix time `unix` with `digits` digits.
pub fn code_at(secret: &[u8], unix: u64, digits: u8) -> Result<String, String> {
    Ok(totp(secret, digits, 0, "", "tokenward")?
        .generate(unix)
        .to_string())
}

/// The time step `code` matches at `unix`, allowing `skew` steps either way.
pub fn check(secret: &[u8], code: &str, unix: u64, skew: u16) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, DIGITS, skew, "", "tokenward")
        .ok()?
        .check(code, unix)
}

/// True when `code` looks like a TOTP code rather than a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())
}

/// Ten new recovery codes, formatted `xxxx-xxxx-xxxx-xxxx` (80 random bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = random_bytes(RECOVERY_LEN)
                .iter()
                .map(|b| RECOVERY_ALPHABET[(*b as usize) % RECOVERY_ALPHABET.len()] as char)
                .collect();
            raw.as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// Canonical form of a typed recovery code (case, dashes and spaces ignored),
/// or None when it cannot be one.
pub fn normalize_recovery_code(code: &str) -> Option<String> {
    let norm: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let ok = norm.len() == RECOVERY_LEN && norm.bytes().all(|b| RECOVERY_ALPHABET.contains(&b));
    ok.then_some(norm)
}

/// What is stored for a recovery code: bound to its user, never the code itself.
pub fn recovery_code_hash(user_id: i64, normalized: &str) -> String {
    hex::encode(Sha256::digest(format!("{user_id}:{normalized}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_appendix_b_sha1_vectors_pass() {
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time, 8).unwrap(), code, "T={time}");
            // The 6-digit login code is the same value modulo 10^6.
            let six = &code[2..];
            let step = check(RFC_SECRET, six, time, 0);
            assert_eq!(step, Some(time / STEP), "T={time}");
        }
    }

    #[test]
    fn skew_allows_one_step_either_way_and_no_more() {
        let s = new_secret();
        let now = 1_800_000_000u64;
        let code = code_at(&s, now, 6).unwrap();
        assert_eq!(check(&s, &code, now + 30, 1), Some(now / 30));
        assert_eq!(check(&s, &code, now - 30, 1), Some(now / 30));
        assert_eq!(check(&s, &code, now + 60, 1), None);
        assert_eq!(check(&s, "12345", now, 1), None);
        assert_eq!(check(&s, "+12345", now, 1), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalize() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        assert_eq!(c.len(), 19);
        let n = normalize_recovery_code(&c.to_uppercase().replace('-', " ")).unwrap();
        assert_eq!(Some(n.clone()), normalize_recovery_code(c));
        assert_ne!(recovery_code_hash(1, &n), recovery_code_hash(2, &n));
        assert_eq!(normalize_recovery_code("123456"), None);
        assert_eq!(normalize_recovery_code("' OR 1=1 --"), None);
    }

    #[test]
    fn enrollment_gives_a_scannable_url_and_png() {
        let e = enrollment(&new_secret(), "nurse@example.com", "tokenward").unwrap();
        assert!(e
            .otpauth_url
            .starts_with("otpauth://totp/tokenward:nurse%40example.com?"));
        assert!(e.otpauth_url.contains("issuer=tokenward"));
        assert_eq!(e.secret_base32.len(), 32);
        assert!(e.qr_png_base64.len() > 100);
    }
}
