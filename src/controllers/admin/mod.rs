//! `/admin/*`: handlers that require the `admin` role.

pub mod two_factor;
pub mod users;
