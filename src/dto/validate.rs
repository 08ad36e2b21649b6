//! Field checks shared by request bodies.

use std::borrow::Cow;

use validator::ValidationError;

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
}
