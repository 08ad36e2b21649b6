//! Diesel entities: rows as read (`X`) and as inserted (`NewX`). Never on the wire.

pub mod audit;
pub mod key;
pub mod session;
pub mod token;
pub mod user;
pub mod values;

pub use audit::{AuditEvent, NewAuditEvent};
pub use key::{NewSigningKey, SigningKeyRow};
pub use session::{NewSession, Session};
pub use token::{NewToken, Token, TokenContext};
pub use user::{NewUser, PasswordChange, User, UserChanges};
pub use values::{RevokeReason, Role, Roles, TokenKind};
