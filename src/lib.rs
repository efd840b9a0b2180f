//! # chatroom
//!
//! A real-time chat server in plain synchronous Rust. One process, no async runtime: a
//! `std::net::TcpListener`, a thread per connection, and a mutex-guarded room registry that relays
//! every message to every socket in the room. The page is embedded in the binary and uses htmx
//! with its WebSocket extension; the server answers with HTML fragments swapped out-of-band.
//!
//! It is also meant to be read, as an example of how WebSockets work from the HTTP upgrade to the
//! frames. Three guides sit beside the code, in the repository's `docs/` directory:
//!
//! - **`docs/walkthrough.md`**: one chat message from the keystroke to the other browser's
//!   screen, byte by byte: the upgrade request and the 101, the accept key, masked and unmasked
//!   frames as annotated hex dumps, the relay, `hx-swap-oob`, ping/pong, close codes, the log.
//!   Every dump in it is checked against a real server by `tests/docs.rs`.
//! - **`docs/architecture.md`**: the threads and what each may touch, the locks and their order,
//!   the life of a connection as a state diagram, and each design decision with the measurement
//!   behind it.
//! - **`docs/protocol.md`**: every event a member sends and receives, in both dialects.
//!
//! ## Reading order: one message through the server
//!
//! 1. [`server::Server::run`]: the accept loop, which never dies; over a connection cap it
//!    answers 503 itself (`limits::Gate::admit`), otherwise it spawns the connection's thread.
//! 2. [`connection`]: the thread of one connection: HTTP requests ([`connection::http`]), then
//!    the upgrade, then becoming a member ([`connection::member`]) and its read loop
//!    ([`ws::reader`]); how it ended is one [`connection::Ending`], logged in one place.
//! 3. [`http`]: reading a request head ([`http::head`]), routing it ([`http::routes`]: every
//!    route in one `match`), writing a response ([`http::response`]).
//! 4. [`ws::handshake`]: the WebSocket opening handshake, RFC 6455 §4.2, done by hand:
//!    [`ws::handshake::validate`] and [`ws::handshake::accept_key`].
//! 5. [`protocol`]: the wire. What a member sends is one [`protocol::ClientEvent`], parsed in
//!    one place for both dialects; what the server sends is one [`protocol::ServerEvent`],
//!    encoded once per dialect present ([`protocol::html`] for the page, [`protocol::json`] for
//!    `chatroom.json` clients).
//! 6. [`chat::room`]: the relay. A reader posts a message ([`chat::room::Room::post`]);
//!    [`chat::room::Room::relay_posted`] then, under the room lock, numbers and logs everything
//!    posted, encodes it once ([`protocol::frame`]) and writes the same bytes to every
//!    [`chat::member`]'s socket in turn. Joins and leaves go out in batches (`chat/room/presence.rs`).
//! 7. [`chat::history`]: each room's recent messages, and its append-only log
//!    ([`chat::history::Log`]), written before a relay.
//! 8. [`shutdown`]: SIGINT/SIGTERM → every WebSocket closed with 1012 → exit.
//!
//! ## The map: folders by layer
//!
//! Each layer imports only from layers below it; there is no import cycle.
//!
//! | layer | modules | owns |
//! |---|---|---|
//! | the process | `main.rs`, [`server`], [`shutdown`] | flags → [`server::Server`]: binding, the accept loop, housekeeping; signals → 1012 → exit |
//! | a connection | [`connection`] | a thread per connection: HTTP keep-alive, the upgrade, joining; how it ended ([`connection::Ending`], logged in one place) |
//! | WebSocket | [`ws`] | the handshake (RFC 6455 §4.2), done by hand; the member's read loop over tungstenite |
//! | HTTP | [`http`] | request heads and bodies, every route, the data answers ([`http::api`]), the pages ([`http::pages`], [`http::template`]: filled in one pass), embedded files, the access code's form ([`http::login`]), search and export, shared files' upload and download |
//! | what is shared | [`shared`], [`access`], [`identity`] | [`Shared`]: the settings, the rooms, the caps, the access code and its sessions, member ids and the host key, the open WebSockets |
//! | shared files | [`files`] | `DATA_DIR/files/`: uploads hashed and written piece by piece, stored once by SHA-256, the quota and the upload rate, what may be shown inline |
//! | the chat | [`chat`] | rooms ([`chat::rooms`], [`chat::room`]), members ([`chat::member`]), history ([`chat::history`]), names ([`chat::names`]), mentions, the live room list, commands and the host's moderation, the data directory's lock |
//! | the wire | [`protocol`] | what members send, what the server sends, one encoder per dialect, HTML and URL escaping ([`protocol::escape`]), links and code in a message's text ([`protocol::format`]), the exports ([`protocol::transcript`]), frame bytes (RFC 6455 §5) |
//! | leaves | [`config`], [`limits`], [`metrics`], [`log`], [`time`], [`lan`], [`random`], [`lock`], [`sys`] | every flag (declared once); connection caps and the rate limit; counters; log lines; RFC 3339; LAN URLs; OS randomness; the lock policy; every call std lacks |
//! | the other side | [`client`] | `chatroom join`, the terminal client, speaking the JSON dialect through [`protocol::json`] |
//!
//! All `unsafe` code lives in [`sys`] (the crate denies it elsewhere), each call behind a safe
//! function with a `// SAFETY:` note.
//!
//! ## What is public, and why
//!
//! The crate is a server first, so most of it is private. Public are only the parts that
//! something outside the library needs:
//! - [`server`], [`config`], [`client`], [`shutdown`], [`lan`], [`log`]: the binary
//!   (`src/main.rs`, a crate of its own) starts the server or the client with them;
//! - [`protocol`]: the wire's types, which the terminal client and the integration tests read and
//!   write (serde both ways), and the fuzz targets feed;
//! - [`ws::handshake`]: the accept key, which the examples below and `tests/docs.rs` show;
//! - [`http`]'s head, body, routes, response, login and pages, [`access`], [`chat::history`] and
//!   [`chat::names`]: the fuzz targets call them directly.
//!
//! Everything else (`connection`, `ws::reader`, `chat::room`, `chat::member`, `limits`,
//! `metrics`, `time`, `sys`...) is private to the crate: `cargo doc --no-deps --document-private-items --open`
//! shows it all, and `test.sh` builds the docs that way.
//!
//! ## Threads, and what each may touch
//!
//! | thread | does | takes |
//! |---|---|---|
//! | `main` | accepts connections, checks the caps, spawns `conn-N`; writes the 503 for a refused one | the gate's counts |
//! | `conn-N` | one connection: HTTP, then reads its member's frames, posts them and relays them | the room lock, then member write locks; its own write lock for its replies |
//! | `housekeeping` | announces batched joins/leaves, fsyncs and checks logs, trims the heap | the registry, room locks, member write locks (announcing); logs outside the room locks |
//! | `signals` | on SIGINT/SIGTERM, writes 1012 to every member, exits | the list of open WebSockets, member write locks |
//! | `refusals` | closes connections refused by the caps, gently | only those sockets |
//!
//! A `conn-N` thread *only reads* its own socket: frames to a member are written by whichever
//! thread is relaying, under that member's write lock, so frames never interleave. Each member's
//! kernel send buffer is its outbox; there is no queue and no writer thread.
//!
//! Locks are always taken in this order: registry → room → member write lock (a room's inbox
//! last, briefly), and always through [`lock::take`]. Each lock is held for a short, bounded
//! time: no write under a lock ever waits for a peer (a relay that finds a member's kernel buffer
//! full keeps the rest in the member's small backlog, or drops the member).
//!
//! ## Where this differs from the design notes, and why
//! - **Presence is batched** ([`chat::room`]): announcing every join with the full roster to everyone
//!   made a crowd of N cost N² frames of O(N) bytes. Joins and leaves go out at most twice a second
//!   per room, rosters show the first 100 names.
//! - **Group commit** ([`chat::room::Room::relay_posted`]): messages posted while the room lock is busy
//!   go out together, one `write` per member for the whole batch; a reader also takes the frames
//!   its client has already sent before relaying. A lone message is unchanged.
//! - **Idle stacks shrink** ([`ws::reader`]): a member about to wait gives back the stack
//!   pages below its read loop, and the HTTP phase's frame is gone by then: 12.4 KiB per idle member.
//!
//! ## Simplifications, on purpose
//! - HTTP has GET and HEAD, and two POSTs: the access-code form and a shared file (see [`http`]).
//! - No TLS: on a LAN, or behind a reverse proxy that terminates it.
//! - No permessage-deflate: chat messages are short, and compression costs CPU per member.
//!
//! ## Two facts to try
//!
//! (The examples in these docs run under `cargo test`, like the unit tests beside the code.)
//!
//! ```
//! use chatroom::protocol::frame::EncodedFrame;
//! use chatroom::ws::handshake;
//!
//! // RFC 6455 §1.3: the sample key, and the only answer a server may give to it.
//! assert_eq!(handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//!
//! // §5.7: "Hello" from a server: FIN and opcode 1 (text), length 5, no mask, the payload.
//! assert_eq!(EncodedFrame::text("Hello").as_bytes(), b"\x81\x05Hello");
//! ```

#![warn(missing_docs)]
// The crate docs are a map of every module, private ones too, and are built with
// `--document-private-items` (test.sh), so they may link to private items.
#![allow(rustdoc::private_intra_doc_links)]
// Code the compiler cannot check is allowed in `sys` only: see that module's comment.
#![deny(unsafe_code)]

pub mod access;
pub mod chat;
pub mod client;
pub mod config;
pub(crate) mod connection;
pub mod files;
pub mod http;
pub mod identity;
pub mod lan;
pub(crate) mod limits;
pub(crate) mod lock;
pub mod log;
pub(crate) mod metrics;
pub mod protocol;
pub(crate) mod random;
pub mod server;
pub(crate) mod shared;
pub mod shutdown;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub(crate) mod time;
pub mod ws;

pub use server::{Server, StartError};
pub use shared::Shared;
