//! Request and response bodies: serde + validator, no diesel. Ids go out as strings.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod oauth;
pub mod session;
pub mod two_factor;
pub mod user;
pub mod validate;
pub mod ws;
