//! The chat itself: rooms, the members in them, and what they said.
//!
//! - [`rooms`]: the registry of rooms, loaded from the data directory;
//! - [`room`]: one room's members and history, the relay, and batched joins and leaves;
//! - [`member`]: one WebSocket peer: its socket, its write lock, its phase;
//! - [`history`]: the recent messages in memory and the append-only log per room;
//! - [`directory`]: the list of public rooms, sent to every member when it changes;
//! - [`data_dir`]: the data directory's lock, one process at a time;
//! - [`disk`]: whether the logs can be written, for `/healthz`;
//! - [`names`]: members' names (unique per room) and room names;
//! - [`storage_error`]: why the data directory could not be opened at start;
//! - [`mentions`]: which members a message calls with `@name`.

pub mod data_dir;
pub(crate) mod directory;
pub(crate) mod disk;
pub mod history;
pub(crate) mod member;
pub mod mentions;
pub mod names;
pub(crate) mod room;
pub(crate) mod rooms;
pub(crate) mod storage_error;
