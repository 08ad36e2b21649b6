//! Small pure helpers shared by every layer: time handling and token ids.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// Now in UTC, truncated to microseconds (PostgreSQL's precision), so a value
/// written and read back compares equal on both backends.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A new token id: a UUIDv7, which starts with its creation time, so the jti
/// index grows at its right edge instead of splitting pages at random, and the
/// ids of tokens marked or deleted together sit near each other.
pub fn new_jti() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A UTC timestamp as RFC 3339 with a `Z` suffix and whole seconds.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Whole Unix seconds to a UTC timestamp (None when out of range).
pub fn from_unix(secs: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp(secs, 0).map(|d| d.naive_utc())
}

/// Serde helpers writing `NaiveDateTime` (UTC) as RFC 3339.
pub mod serde_rfc3339 {
    use chrono::NaiveDateTime;
    use serde::Serializer;

    /// Serializes a UTC timestamp.
    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*t))
    }

    /// Serializes an optional UTC timestamp (null when absent).
    pub mod option {
        use chrono::NaiveDateTime;
        use serde::Serializer;

        /// Serializes `Some` as RFC 3339, `None` as null.
        pub fn serialize<S: Serializer>(
            t: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::rfc3339(*t)),
                None => s.serialize_none(),
            }
        }
    }
}

/// Serde helper writing 64-bit ids as decimal strings (JavaScript-safe).
pub mod id_string {
    use serde::Serializer;

    /// Serializes an id as a string.
    pub fn serialize<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_z_and_now_has_microsecond_precision() {
        let t = from_unix(1_795_000_000).unwrap_or_default();
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
        assert_eq!(now().and_utc().timestamp_subsec_nanos() % 1000, 0);
    }
}
