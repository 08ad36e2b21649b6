//! Field checks shared by request bodies.

use std::borrow::Cow;

use validator::ValidationError;

/// `no_nul` as a JSON Schema pattern (for the OpenAPI document).
pub const NO_NUL_PATTERN: &str = r"^[^\u0000]*$";

/// `not_blank` as a JSON Schema pattern: no NUL, and one character that
/// `str::trim` keeps. Unicode's White_Space set is spelled out because regex
/// engines disagree on what `\s` means.
pub const NOT_BLANK_PATTERN: &str = concat!(
    r"^[^\u0000]*",
    r"[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"[^\u0000]*$"
);

/// One role name, as `roles` takes it.
pub const ROLE_PATTERN: &str = r"^[a-z][a-z0-9_.\-]{0,63}$";

/// A user id written as text, as `user_id` parses it.
pub const ID_PATTERN: &str = r"^0*[1-9][0-9]{0,17}$";

/// A user id written as text: decimal digits naming a positive id (leading
/// zeros allowed, at most 18 significant digits, nothing else).
pub fn user_id(raw: &str) -> Option<i64> {
    let digits = raw.trim_start_matches('0');
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn error(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

/// Refuses text holding a NUL character (no backend stores it, and no person types it).
pub fn no_nul(value: &str) -> Result<(), ValidationError> {
    if value.contains('\0') {
        return Err(error("nul", "must not contain NUL characters"));
    }
    Ok(())
}

/// Refuses empty or blank text, and NUL characters.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(error("required", "must not be empty"));
    }
    no_nul(value)
}

/// A new password as a shape: present and free of NUL bytes. Its length and
/// strength are the password policy's (which knows the account).
pub fn new_password(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(error("required", "is required"));
    }
    // Far past the policy's 128 characters: refused before any work is spent.
    if value.len() > 4096 {
        return Err(error("too_long", "must be at most 128 characters"));
    }
    no_nul(value)
}

/// Role names: lowercase words, at most 20 of them.
pub fn roles(values: &[String]) -> Result<(), ValidationError> {
    if values.len() > 20 {
        return Err(error("too_many", "at most 20 roles"));
    }
    let ok = |r: &String| {
        (1..=64).contains(&r.len())
            && r.starts_with(|c: char| c.is_ascii_lowercase())
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c))
    };
    if !values.iter().all(ok) {
        return Err(error(
            "role",
            "each role is 1-64 characters of a-z, 0-9, '_', '-', '.', starting with a letter",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_accept_good_and_refuse_bad_values() {
        assert!(no_nul("ok ünïcødé 🙂").is_ok());
        assert!(no_nul("a\0b").is_err());
        assert!(not_blank("  ").is_err());
        assert!(new_password("").is_err());
        assert!(new_password("a\u{0}b").is_err());
        assert!(new_password("any shape").is_ok());
        assert!(roles(&["admin".into(), "user".into()]).is_ok());
        assert!(roles(&["Admin".into()]).is_err());
        assert!(roles(&["x'; DROP TABLE users; --".into()]).is_err());
    }

    /// The document's patterns say exactly what the checks do.
    #[test]
    fn patterns_agree_with_the_checks() {
        let nul = regex::Regex::new(NO_NUL_PATTERN).unwrap();
        let blank = regex::Regex::new(NOT_BLANK_PATTERN).unwrap();
        let role = regex::Regex::new(ROLE_PATTERN).unwrap();
        let id = regex::Regex::new(ID_PATTERN).unwrap();
        let mut samples: Vec<String> = ["", " ", "a", " a ", "a\0", "\0", "\u{1c}", "\u{85}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        samples.extend(
            (0..0x3100u32)
                .filter_map(char::from_u32)
                .map(|c| format!("{c}")),
        );
        samples.extend(
            (0..0x3100u32)
                .filter_map(char::from_u32)
                .map(|c| format!(" {c}\t")),
        );
        for s in &samples {
            assert_eq!(nul.is_match(s), no_nul(s).is_ok(), "{s:?}");
            assert_eq!(blank.is_match(s), not_blank(s).is_ok(), "{s:?}");
            let one = vec![s.clone()];
            assert_eq!(role.is_match(s), roles(&one).is_ok(), "{s:?}");
            assert_eq!(id.is_match(s), user_id(s).is_some(), "{s:?}");
        }
        for raw in [
            "1",
            "007",
            "0",
            "00",
            "-1",
            "+1",
            " 1",
            "1 ",
            &"9".repeat(18),
            &"9".repeat(19),
        ] {
            assert_eq!(id.is_match(raw), user_id(raw).is_some(), "{raw:?}");
        }
        for r in [
            "a",
            "ward-3.nurse_x",
            &"a".repeat(64),
            &"a".repeat(65),
            "3a",
            "A",
        ] {
            let one = vec![r.to_string()];
            assert_eq!(role.is_match(r), roles(&one).is_ok(), "{r:?}");
        }
    }
}
