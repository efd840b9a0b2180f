//! The per-connection thread: HTTP requests until one of them upgrades, then the member's read loop.
//!
//! Every accepted TCP connection gets its own thread (`conn-N`, small explicit stack). It first
//! speaks HTTP/1.1: read a head, route it, answer, and keep the connection for the next request
//! while the client wants it and it stays busy. A valid upgrade turns the connection into a
//! WebSocket, and from then on **this thread only reads**: it posts each chat message to the room
//! and then relays what it posted, writing to every member's socket from this same thread (see
//! `chat/room.rs`). Frames that arrived together are posted together and go out in one relay.
//!
//! | file | the part of a connection's life it holds |
//! |---|---|
//! | `mod.rs` | the thread: spawning it, catching a panic, and [`Ending`], how it ended (logged here, once) |
//! | `http.rs` | HTTP/1.1 requests, kept alive, until one upgrades |
//! | `member.rs` | becoming a member: join the room, write the welcome, run the read loop ([`crate::ws::reader`]), leave on every way out |
//!
//! How a WebSocket ends, and what the peer sees (RFC 6455 §7.4.1 codes):
//! - the peer closes: tungstenite queues our Close reply and the next read writes it;
//! - a frame or message over `--max-message`: 1009; invalid UTF-8 in a text message: 1007;
//!   a protocol violation: 1002; a binary message in a chat room: 1003;
//! - silence past the idle timeout: 1001 (pings are sent well before that);
//! - the server shuts down: 1012, written by the signal thread (see `crate::shutdown`);
//! - a relay found the member not reading: the socket is shut down, the peer sees 1006.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub(super) mod http;
pub(super) mod member;

use crate::http::routes::Endpoint;
use crate::limits::Ticket;
use crate::log;
use crate::protocol::Dialect;
use crate::shared::Shared;
use crate::ws::Ended;

/// Stack size of each connection thread. The deepest path (serde_json's recursion limit of 128 on
/// a hostile message) stays far below it; see `tests/limits.rs`. Only touched pages cost memory.
pub const STACK_SIZE: usize = 128 * 1024;

/// Time a kept-alive connection may wait for its next request.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(5);

/// Starts the thread for a freshly accepted connection.
///
/// The thread owns the connection's [`Ticket`], so its place in the connection counts is given
/// back however the thread ends, panics included. A panic ends this connection only: it is
/// caught here, logged, and every lock it may have held is recovered by the next user (see
/// `room.rs`), so no other member notices.
pub fn spawn(stream: TcpStream, peer: SocketAddr, id: u64, ticket: Ticket, shared: Arc<Shared>) -> io::Result<()> {
    thread::Builder::new().name(format!("conn-{id}")).stack_size(STACK_SIZE).spawn(move || {
        let _ticket = ticket;
        log::conn(id, peer, "open");
        let ending =
            panic::catch_unwind(AssertUnwindSafe(|| handle(stream, peer, id, &shared))).unwrap_or(Ending::Panicked);
        log::conn(id, peer, format_args!("closed: {ending}"));
        // glibc keeps the stacks of ended threads for the next ones; what this one touched would
        // stay resident in the cache meanwhile.
        crate::sys::release_stack_below_here();
    })?;
    Ok(())
}

/// How a connection ended. Every way out of [`handle`] is one of these, and [`spawn`] logs it,
/// in one place, as the connection's last log line (`closed: ...`).
#[derive(Debug)]
pub(crate) enum Ending {
    /// Plain HTTP, closed after `requests` requests: by the client, or by us after a response
    /// that ends the connection.
    Http { requests: u32 },
    /// Plain HTTP, cut short by a failed read or write.
    HttpFailed { requests: u32, error: io::Error },
    /// A request refused with `status`, after which the connection was closed.
    Refused { requests: u32, status: u16 },
    /// The 101 could not be written.
    UpgradeNotSent(io::Error),
    /// The socket could not become a member (socket options, the welcome, going live).
    NotStarted(io::Error),
    /// The WebSocket ended, as [`Ended`] tells.
    WebSocket(Ended),
    /// The connection's code panicked (the panic message is already in the log).
    Panicked,
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Http { requests } => write!(f, "http, {requests} requests"),
            Ending::HttpFailed { requests, error } => write!(f, "http, {requests} requests, {error}"),
            Ending::Refused { requests, status } => write!(f, "http, {requests} requests, answered {status}"),
            Ending::UpgradeNotSent(e) => write!(f, "upgrade not sent: {e}"),
            Ending::NotStarted(e) => write!(f, "websocket, could not start: {e}"),
            Ending::WebSocket(ended) => write!(f, "websocket, {ended}"),
            Ending::Panicked => write!(f, "panic in the connection's code (see above); connection closed"),
        }
    }
}

/// What the HTTP part ended in.
enum AfterHttp {
    /// The connection is done.
    Closed(Ending),
    /// The 101 was sent: the connection is now a WebSocket for this endpoint. `leftover` holds
    /// bytes read past the request head, the first frames already.
    Upgraded { leftover: Vec<u8>, endpoint: Endpoint, dialect: Dialect },
}

/// One connection, start to end: HTTP, then perhaps a WebSocket.
///
/// The two phases are sibling calls rather than one inside the other, so that the HTTP phase's
/// stack frame (its 2 KiB read buffer, the parser's header array, the responses) is gone by the
/// time the connection sits idle as a member: see `release_stack_below_here`.
#[inline(never)]
fn handle(stream: TcpStream, peer: SocketAddr, id: u64, shared: &Arc<Shared>) -> Ending {
    match http::serve_http(&stream, peer, shared) {
        AfterHttp::Closed(ending) => ending,
        AfterHttp::Upgraded { leftover, endpoint, dialect } => {
            member::websocket(stream, peer, id, leftover, endpoint, dialect, shared)
        }
    }
}
