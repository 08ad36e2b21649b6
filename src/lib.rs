//! tokenward: a token and session server. Persisted JWTs, double validation,
//! refresh-token rotation with reuse detection, logout and logout-all, on
//! SQLite or PostgreSQL.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod controllers;
pub mod db;
pub mod dto;
pub mod errors;
pub mod jobs;
pub mod metrics;
pub mod middleware;
pub mod models;
pub mod openapi;
pub mod principal;
pub mod realtime;
pub mod repositories;
pub mod routes;
pub mod security;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod util;
