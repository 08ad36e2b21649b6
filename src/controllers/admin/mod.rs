//! `/admin/*`: handlers that require the `admin` role.

pub mod audit;
pub mod notifications;
pub mod tokens;
pub mod two_factor;
pub mod users;
