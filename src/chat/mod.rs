//! The chat itself: rooms, the members in them, and what they said.
//!
//! - [`room`]: the registry of rooms, one room's members and history, and the relay;
//! - [`member`]: one WebSocket peer: its socket, its write lock, its phase;
//! - [`history`]: the recent messages in memory and the append-only log per room;
//! - [`names`]: members' names (unique per room) and room names.

pub mod history;
pub mod member;
pub mod names;
pub mod room;
