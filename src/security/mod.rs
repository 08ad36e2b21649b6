//! Pure security helpers: hashing, passwords, encryption at rest, JWT signing.

pub mod crypto;
pub mod hashing;
pub mod jwt;
pub mod key_material;
pub mod password;
pub mod password_policy;
pub mod totp;
