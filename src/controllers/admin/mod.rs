//! `/admin/*`: handlers that require the `admin` role.

pub mod users;
