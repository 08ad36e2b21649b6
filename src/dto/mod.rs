//! Request and response bodies: serde + validator, no diesel. Ids go out as strings.

pub mod auth;
pub mod session;
pub mod two_factor;
pub mod user;
pub mod validate;
pub mod ws;
