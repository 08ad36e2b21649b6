//! Every diesel query lives here: synchronous functions over `&mut DbConnection`,
//! no business rules. Per-backend differences, where any, are matched here.

pub mod audit;
pub mod cleanup;
pub mod key;
pub mod metrics;
pub mod recovery_code;
pub mod rotation;
pub mod session;
pub mod stats;
pub mod token;
pub mod user;
