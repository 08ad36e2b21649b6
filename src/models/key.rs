//! The `signing_keys` table: key material, private parts encrypted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::signing_keys;

/// A signing key row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    /// Primary key.
    pub id: i64,
    /// Key id carried in token headers.
    pub kid: String,
    /// JWS algorithm name.
    pub algorithm: String,
    /// Encrypted private key or secret (base64).
    pub private_key: String,
    /// Public key, when asymmetric.
    pub public_key: Option<String>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Retired (UTC); retired keys no longer verify.
    pub retired_at: Option<NaiveDateTime>,
}

/// A signing key to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub algorithm: String,
    /// Encrypted private material.
    pub private_key: String,
    /// Public key.
    pub public_key: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
}
