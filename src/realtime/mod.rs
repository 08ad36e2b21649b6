//! Live session events over WebSocket: the connection registry, the event
//! publisher the services receive, and the per-socket task. Service layer: no
//! HTTP types cross into `registry` or `events`; `socket` is the transport
//! adapter the `/ws` controller hands an upgraded connection to.

pub mod events;
mod meta;
pub mod registry;
pub mod socket;
mod sockets;

pub use events::{Event, EventPublisher};
pub use registry::{DropReason, Hub, HubConfig, SocketMeta};
