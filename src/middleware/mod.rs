//! Request plumbing: the bearer extractor (double validation), the role guard,
//! client address rules, the JSON body extractor and the request-id/log layer.

pub mod auth;
pub mod client;
pub mod cors;
pub mod json;
pub mod rate_limit;
pub mod refresh;
pub mod request_id;
