//! Black-box API tests: each test boots the real application on a fresh
//! database and talks HTTP to it, once on SQLite and once on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod admin;
mod cluster;
mod cookies;
mod errors;
mod login;
mod outage;
mod refresh;
mod sessions;
mod totp;
mod two_factor;
mod validate;
mod ws;
mod ws_client;
