//! Domain values stored as text: token kinds, revocation reasons and roles.
//! Each is written as the same word the `tokens`, `sessions` and `users`
//! tables always held, so the SQL an admin reads does not change, while the
//! code matches on enums instead of comparing strings.

use std::fmt;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

/// The backend type of the two-backend connection.
type Backend = crate::db::QueryBackend;

/// Implements text storage for a type with `as_str` and `from_text`.
macro_rules! stored_as_text {
    ($ty:ty) => {
        impl ToSql<Text, Backend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Backend>) -> serialize::Result {
                out.set_value((Text, self.as_str()));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Backend> for $ty {
            fn from_sql(
                bytes: <Backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Backend>>::from_sql(bytes)?;
                Self::from_text(&text).ok_or_else(|| format!("unknown value {text:?}").into())
            }
        }

        // Inserts are built per backend, so each backend needs its own impl.
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What a `tokens` row is (`token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum TokenKind {
    /// A bearer access token (JWT).
    Access,
    /// An opaque refresh token.
    Refresh,
    /// An opaque second-factor login challenge.
    Challenge,
    /// An opaque single-use WebSocket ticket.
    Ws,
    /// An opaque remember-this-device token (skips the second factor).
    Device,
}

impl TokenKind {
    /// The stored word.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Challenge => "challenge",
            Self::Ws => "ws",
            Self::Device => "device",
        }
    }

    /// The kind a stored word names.
    pub fn from_text(text: &str) -> Option<Self> {
        [
            Self::Access,
            Self::Refresh,
            Self::Challenge,
            Self::Ws,
            Self::Device,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

stored_as_text!(TokenKind);

/// Why a token or session was revoked (`revoked_reason`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum RevokeReason {
    /// Replaced by refresh-token rotation.
    Rotated,
    /// The user logged out (or closed that session).
    Logout,
    /// The user logged out everywhere.
    LogoutAll,
    /// An admin revoked it.
    Admin,
    /// The user changed password.
    PasswordChange,
    /// A rotated refresh token was presented again.
    Reuse,
    /// The account was disabled.
    UserDisabled,
    /// Revoked through RFC 7009.
    Rfc7009,
    /// A single-use token (challenge, WebSocket ticket) was spent.
    Used,
    /// A login challenge took too many wrong codes.
    Attempts,
    /// A remembered device was deleted by its user, or pushed out by newer ones.
    Forgotten,
    /// The second factor was turned off or reset (remembered devices go).
    TwoFactorOff,
    /// A word written by hand in SQL; kept as it is.
    Other(String),
}

impl RevokeReason {
    const KNOWN: [Self; 12] = [
        Self::Rotated,
        Self::Logout,
        Self::LogoutAll,
        Self::Admin,
        Self::PasswordChange,
        Self::Reuse,
        Self::UserDisabled,
        Self::Rfc7009,
        Self::Used,
        Self::Attempts,
        Self::Forgotten,
        Self::TwoFactorOff,
    ];

    /// The stored word (also the metric label).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Rotated => "rotated",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::Admin => "admin",
            Self::PasswordChange => "password_change",
            Self::Reuse => "reuse",
            Self::UserDisabled => "user_disabled",
            Self::Rfc7009 => "rfc7009",
            Self::Used => "used",
            Self::Attempts => "attempts",
            Self::Forgotten => "forgotten",
            Self::TwoFactorOff => "two_factor_off",
            Self::Other(word) => word,
        }
    }

    /// The reason a stored word names; any other word is kept as `Other`.
    pub fn from_text(text: &str) -> Option<Self> {
        let known = Self::KNOWN.into_iter().find(|r| r.as_str() == text);
        Some(known.unwrap_or_else(|| Self::Other(text.to_string())))
    }
}

stored_as_text!(RevokeReason);

/// A role a user can hold. Roles are open-ended (an admin may grant any
/// well-formed name); the ones the server itself acts on are variants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// May use every `/admin` endpoint and introspect.
    Admin,
    /// A resource server: may introspect.
    Service,
    /// The default role of a new account.
    User,
    /// Any other role name, meaningful to resource servers only.
    Named(String),
}

impl Role {
    /// The role's name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Admin => "admin",
            Self::Service => "service",
            Self::User => "user",
            Self::Named(name) => name,
        }
    }

    /// The role called `name`.
    pub fn parse(name: &str) -> Self {
        match name {
            "admin" => Self::Admin,
            "service" => Self::Service,
            "user" => Self::User,
            other => Self::Named(other.to_string()),
        }
    }
}

/// The roles of a user, stored as one comma-separated text (`users.roles`):
/// duplicates dropped, order kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Roles {
    list: Vec<Role>,
    /// The stored form, kept so it can be bound by reference.
    text: String,
}

impl Roles {
    /// Roles from names, duplicates and empty names dropped.
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut roles: Vec<Role> = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let role = Role::parse(name);
            if !name.is_empty() && !roles.contains(&role) {
                roles.push(role);
            }
        }
        let text = roles.iter().map(Role::as_str).collect::<Vec<_>>().join(",");
        Self { list: roles, text }
    }

    /// True when `role` is among them.
    pub fn contains(&self, role: &Role) -> bool {
        self.list.contains(role)
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|r| r.as_str().to_string()).collect()
    }

    /// The stored form: names joined by commas.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn from_text(text: &str) -> Option<Self> {
        Some(Self::from_names(text.split(',')))
    }
}

stored_as_text!(Roles);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_word_reads_back_as_itself() {
        for k in [
            TokenKind::Access,
            TokenKind::Refresh,
            TokenKind::Challenge,
            TokenKind::Ws,
            TokenKind::Device,
        ] {
            assert_eq!(TokenKind::from_text(k.as_str()), Some(k));
        }
        for r in RevokeReason::KNOWN {
            assert_eq!(RevokeReason::from_text(r.as_str()), Some(r.clone()));
        }
        assert_eq!(
            RevokeReason::from_text("manual"),
            Some(RevokeReason::Other("manual".into()))
        );
        assert_eq!(TokenKind::from_text("nonsense"), None);
    }

    #[test]
    fn roles_keep_order_and_drop_duplicates_and_blanks() {
        let roles = Roles::from_names(["admin", "", "ward-7", "admin", "service"]);
        assert_eq!(roles.names(), ["admin", "ward-7", "service"]);
        assert!(roles.contains(&Role::Admin));
        assert!(roles.contains(&Role::Named("ward-7".into())));
        assert!(!roles.contains(&Role::User));
        assert_eq!(roles.to_string(), "admin,ward-7,service");
        assert_eq!(Roles::from_text("").map(|r| r.is_empty()), Some(true));
    }
}
