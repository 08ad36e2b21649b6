//! `/admin/*`: handlers that require the `admin` role.

pub mod notifications;
pub mod two_factor;
pub mod users;
