//! The password policy: long enough, not too long, not common, not the
//! account's own email, and hard enough to guess (a zxcvbn score). Refusals
//! are the project's own short phrases a person can act on.

use zxcvbn::feedback::Warning;

/// The longest password taken, in characters (all of them count).
pub const MAX_LENGTH: usize = 128;

/// The policy in force.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    /// Fewest characters.
    pub min_length: usize,
    /// Lowest strength estimate (zxcvbn score 0-4).
    pub min_score: u8,
}

impl PasswordPolicy {
    /// The reasons `password` is refused for the account `email` (named
    /// `full_name`); empty when it is accepted.
    pub fn check(&self, password: &str, email: &str, full_name: &str) -> Vec<String> {
        let length = password.chars().count();
        if length < self.min_length {
            return vec![format!("must be at least {} characters", self.min_length)];
        }
        if length > MAX_LENGTH {
            return vec![format!("must be at most {MAX_LENGTH} characters")];
        }
        let mut reasons = Vec::new();
        let lower = password.to_lowercase();
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or_default();
        let contains = |part: &str| !part.is_empty() && lower.contains(part);
        if contains(&email) || (local.chars().count() >= 3 && contains(local)) {
            reasons.push("must not contain your email address".to_string());
        }
        let context = [email.as_str(), local, full_name, "tokenward"];
        let estimate = zxcvbn::zxcvbn(password, &context);
        let warning = estimate.feedback().and_then(|f| f.warning());
        let common = matches!(
            warning,
            Some(
                Warning::ThisIsATop10Password
                    | Warning::ThisIsATop100Password
                    | Warning::ThisIsACommonPassword
            )
        );
        if common {
            reasons.push("is too common".to_string());
        } else if u8::from(estimate.score()) < self.min_score {
            reasons.push("is too easy to guess".to_string());
            if let Some(hint) = warning.and_then(hint) {
                reasons.push(hint.to_string());
            }
        }
        reasons
    }
}

/// What to do about a weakness, in the project's words.
fn hint(warning: Warning) -> Option<&'static str> {
    Some(match warning {
        Warning::StraightRowsOfKeysAreEasyToGuess
        | Warning::ShortKeyboardPatternsAreEasyToGuess => "avoid keyboard patterns",
        Warning::RepeatsLikeAaaAreEasyToGuess
        | Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "avoid repeated characters",
        Warning::SequencesLikeAbcAreEasyToGuess => "avoid sequences like abc or 123",
        Warning::RecentYearsAreEasyToGuess | Warning::DatesAreOftenEasyToGuess => {
            "avoid dates and years"
        }
        Warning::AWordByItselfIsEasyToGuess
        | Warning::NamesAndSurnamesByThemselvesAreEasyToGuess
        | Warning::CommonNamesAndSurnamesAreEasyToGuess => "use several unrelated words",
        Warning::ThisIsSimilarToACommonlyUsedPassword => "is too similar to a common password",
        Warning::ThisIsATop10Password
        | Warning::ThisIsATop100Password
        | Warning::ThisIsACommonPassword => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy {
        min_length: 12,
        min_score: 3,
    };

    fn check(password: &str) -> Vec<String> {
        POLICY.check(password, "nurse.joy@example.com", "Nurse Joy")
    }

    #[test]
    fn the_limits_and_the_reasons() {
        assert_eq!(check("short"), ["must be at least 12 characters"]);
        assert_eq!(check(&"x".repeat(129)), ["must be at most 128 characters"]);
        assert!(check("password1234").contains(&"is too common".to_string()));
        assert!(check("my nurse.joy secret words")
            .contains(&"must not contain your email address".to_string()));
        assert!(check("aaaaaaaaaaaaaaaa").contains(&"is too easy to guess".to_string()));
        for strong in [
            "Tussock-Lantern-Quarry-58",
            "Tidal-Orchid-73",
            "Sturdy-Quokka-481",
            "Quarry-Lantern-58x",
        ] {
            assert!(check(strong).is_empty(), "{strong}: {:?}", check(strong));
        }
        // Exactly the limits.
        let twelve = "qT7#vLp2!zWm";
        assert_eq!(twelve.chars().count(), 12);
        assert!(check(twelve).is_empty(), "{:?}", check(twelve));
        let long: String = "Vx9!kQ2#mR7$".repeat(11).chars().take(128).collect();
        assert!(check(&long).is_empty(), "{:?}", check(&long));
    }
}
