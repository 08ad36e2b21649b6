//! Black-box API tests: each test boots the real application on a fresh
//! database and talks HTTP to it, once on SQLite and once on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod admin;
mod admin_audit;
mod admin_tokens;
mod admin_users;
mod browser;
mod cache;
mod cleanup;
mod cli;
mod client_ip;
mod cluster;
mod console;
mod console_ui;
mod contract;
mod cookies;
mod devices;
mod errors;
mod lockout;
mod login;
mod lookup_plan;
mod monitoring;
mod observability;
mod outage;
mod password_policy;
mod password_reset;
mod proxy;
mod refresh;
mod sessions;
mod standards;
mod totp;
mod two_factor;
mod validate;
mod values;
mod ws;
mod ws_client;
