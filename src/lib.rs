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
//! 1. [`Server::run`] (below): the accept loop, which never dies; over a connection cap it answers
//!    503 itself ([`limits::Gate::admit`]), otherwise it spawns the connection's thread.
//! 2. [`connection`]: the thread of one connection: HTTP requests, then the upgrade, then the
//!    member's read loop.
//! 3. [`http`]: reading a request head ([`http::head`]), routing it ([`http::routes`]), writing
//!    a response ([`http::response`]).
//! 4. [`ws::handshake`]: the WebSocket opening handshake, RFC 6455 §4.2, done by hand:
//!    [`ws::handshake::validate`] and [`ws::handshake::accept_key`].
//! 5. [`protocol`]: the wire. What a member sends is one [`protocol::ClientEvent`], parsed in
//!    one place; what the server sends is one [`protocol::ServerEvent`], encoded once per dialect
//!    (HTML fragments for the page, JSON events for `chatroom.json` clients).
//! 6. [`chat::room`]: the registry and the relay. A reader posts a message ([`chat::room::Room::post`]);
//!    [`chat::room::Room::relay_posted`] then, under the room lock, numbers and logs everything posted,
//!    encodes it once ([`ws::frame`]) and writes the same bytes to every [`chat::member`]'s socket in turn.
//!    Joins and leaves are announced in batches.
//! 7. [`chat::history`]: each room's recent messages and its append-only log, written before a relay.
//! 8. [`shutdown`]: SIGINT/SIGTERM → every WebSocket closed with 1012 → exit.
//!
//! ## The map of modules
//!
//! | module | owns |
//! |---|---|
//! | [`connection`] | a connection's thread: HTTP keep-alive loop, upgrade, the member's read loop, close codes |
//! | [`http`] | request heads ([`http::head`]: caps, deadline), routing ([`http::routes`]), responses ([`http::response`]) |
//! | [`ws::handshake`] | RFC 6455 §4.2: checking an upgrade request, `Sec-WebSocket-Accept`, the 101 |
//! | [`ws::frame`] | server frames encoded once, unmasked, for any number of sockets |
//! | [`chat::room`] | the room registry, joining and leaving, the relay, batched presence |
//! | [`chat::member`] | one WebSocket peer: its socket, its write lock, its phase (joining, live, closing, closed) |
//! | [`chat::history`] | recent messages in memory, the append-only log per room, paging back |
//! | [`protocol`] | the wire: what members send ([`protocol::ClientEvent`]), what the server sends ([`protocol::ServerEvent`]), one encoder per dialect, and HTML escaping |
//! | [`http::pages`] | the pages, from templates filled in one pass ([`http::template`]) |
//! | [`time`] | milliseconds since the epoch, and RFC 3339 |
//! | [`chat::names`] | members' names (unique per room) and room names; private room names |
//! | [`config`] | every flag, its environment variable and its default |
//! | [`limits`] | connection caps (checked before a thread exists), the rate limit, open files |
//! | [`http::access`] | the optional access code and its sessions |
//! | [`http::assets`] | the embedded page, script, style and vendored htmx |
//! | [`shutdown`] | signals → Close 1012 to everyone → exit |
//! | [`metrics`] | `/metrics` counters |
//! | [`log`] | log lines on stderr, text or JSON |
//! | [`lan`] | the URLs (and QR code) under which other machines reach the server |
//! | [`random`] | OS randomness, for guest names and private rooms |
//! | [`client`] | `chatroom join`, the terminal client: the other half of the protocol |
//! | `sys` | each call std lacks (socket options, stack pages, limits, randomness, local time) behind a safe function: the only code the compiler cannot check |
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
//! last, briefly). Each lock is held for a short, bounded time: a relay write blocks at most the
//! relay timeout (`--relay-timeout-ms`).
//!
//! ## Where this differs from the design notes, and why
//! - **Presence is batched** ([`chat::room`]): announcing every join with the full roster to everyone
//!   made a crowd of N cost N² frames of O(N) bytes. Joins and leaves go out at most twice a second
//!   per room, rosters show the first 100 names.
//! - **Group commit** ([`chat::room::Room::relay_posted`]): messages posted while the room lock is busy
//!   go out together, one `write` per member for the whole batch; a reader also takes the frames
//!   its client has already sent before relaying. A lone message is unchanged.
//! - **Idle stacks shrink** ([`connection`]): a member about to wait gives back the stack pages
//!   below its read loop, and the HTTP phase's frame is gone by then: 12.4 KiB per idle member.
//!
//! ## Simplifications, on purpose
//! - HTTP has only GET and HEAD, and no request bodies but the access-code form (see [`http`]).
//! - No TLS: on a LAN, or behind a reverse proxy that terminates it.
//! - No permessage-deflate: chat messages are short, and compression costs CPU per member.
//!
//! ## Two facts to try
//!
//! (The examples in these docs are compiled by `cargo test` but not run: rustdoc cannot link a
//! test program with the static-executable settings of `.cargo/config.toml`. What each asserts is
//! also asserted by tests that do run: the unit tests beside the code, and `tests/docs.rs`.)
//!
//! ```
//! use chatroom::ws::{frame::EncodedFrame, handshake};
//!
//! // RFC 6455 §1.3: the sample key, and the only answer a server may give to it.
//! assert_eq!(handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//!
//! // §5.7: "Hello" from a server: FIN and opcode 1 (text), length 5, no mask, the payload.
//! assert_eq!(EncodedFrame::text("Hello").as_bytes(), b"\x81\x05Hello");
//! ```

#![warn(missing_docs)]
// Code the compiler cannot check is allowed in `sys` only: see that module's comment.
#![deny(unsafe_code)]

pub mod chat;
pub mod client;
pub mod config;
pub mod connection;
pub mod http;
pub mod lan;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod protocol;
pub mod random;
pub mod shutdown;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub mod time;
pub mod ws;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::chat::history::FsyncPolicy;
use crate::chat::member::Member;
use crate::chat::room::{Rooms, Storage};
use crate::config::Config;
use crate::http::access::Access;
use crate::limits::Gate;

/// What every connection thread shares.
pub struct Shared {
    /// The settings the server was started with.
    pub config: Config,
    /// Every room (the registry), with its members and history.
    pub rooms: Rooms,
    /// The connection caps, checked before a connection gets a thread.
    pub gate: Arc<Gate>,
    /// The optional access code and its sessions.
    pub access: Access,
    /// Every open WebSocket, chat or echo, by connection id: for shutdown, which must reach them all.
    members: Mutex<HashMap<u64, Arc<Member>>>,
}

impl Shared {
    fn new(config: Config) -> Result<Shared, StartError> {
        let storage = Storage {
            history: config.history,
            data_dir: config.storage_dir().map(|p| p.to_path_buf()),
            fsync: config.fsync,
        };
        let rooms = Rooms::open(storage).map_err(StartError::Storage)?;
        let gate = Gate::new(config.max_connections, config.max_per_ip);
        let access = Access::new(config.access_code.clone());
        Ok(Shared { config, rooms, gate, access, members: Mutex::new(HashMap::new()) })
    }

    fn members(&self) -> MutexGuard<'_, HashMap<u64, Arc<Member>>> {
        lock(&self.members)
    }

    /// Records an open WebSocket.
    pub fn register(&self, member: &Arc<Member>) {
        self.members().insert(member.id, member.clone());
    }

    /// Forgets a WebSocket that has ended.
    pub fn unregister(&self, id: u64) {
        self.members().remove(&id);
    }

    /// The open WebSockets, copied out so that the caller holds no lock while writing to them.
    pub fn members_snapshot(&self) -> Vec<Arc<Member>> {
        self.members().values().cloned().collect()
    }

    /// How many WebSockets are open.
    pub fn member_count(&self) -> usize {
        self.members().len()
    }
}

/// Takes a lock even if another thread panicked while holding it, which is how every lock in
/// the server is taken. Each piece of state behind a lock stays consistent across a panic (every
/// update is a single push, remove, insert or assignment; a cut frame has already marked its
/// member closed), so a poisoned lock is taken over rather than spreading one connection's panic
/// to every thread that touches the same room, member or registry.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The one background thread: a few times a second it announces batched joins and leaves;
/// every second it fsyncs the logs (`--fsync interval`) and checks that none was deleted; every
/// five seconds, if connections came or went, it hands freed memory back to the system.
fn housekeeping(shared: &Shared) -> ! {
    const TICK: Duration = Duration::from_millis(100);
    let mut ticks: u64 = 0;
    let mut accepted_at_trim = 0;
    loop {
        std::thread::sleep(TICK);
        ticks += 1;
        shared.rooms.flush_presence();
        if ticks % 10 == 0 && shared.config.storage_dir().is_some() {
            if shared.config.fsync == FsyncPolicy::Interval {
                shared.rooms.sync_logs();
            }
            shared.rooms.check_logs();
        }
        if ticks % 50 == 0 && metrics::ACCEPTED.get() != accepted_at_trim {
            // glibc keeps freed memory in its per-thread arenas; once connections have come and
            // gone, give it back to the system (the soak test checks that RSS returns).
            accepted_at_trim = metrics::ACCEPTED.get();
            sys::trim_heap();
        }
    }
}

/// Why the server could not start. Each message names what failed and what to do about it;
/// the binary prints it and exits with code 1 (bad flags are code 2).
#[derive(Debug)]
pub enum StartError {
    /// The data directory or a room's log could not be opened.
    Storage(chat::room::StorageError),
    /// The listening socket could not be bound.
    Listen {
        /// The address asked for (`--bind`).
        addr: SocketAddr,
        /// Why not.
        error: io::Error,
    },
    /// The signal handlers (SIGINT, SIGTERM) could not be installed.
    Signals(io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Storage(e) => e.fmt(f),
            StartError::Listen { addr, error } if error.kind() == io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: the port is taken (is another chatroom running?); choose another with --bind"
            ),
            StartError::Listen { addr, error } if error.kind() == io::ErrorKind::PermissionDenied => write!(
                f,
                "cannot listen on {addr}: {error} (ports below 1024 need privileges: use a higher one with --bind)"
            ),
            StartError::Listen { addr, error } if error.kind() == io::ErrorKind::AddrNotAvailable => {
                write!(f, "cannot listen on {addr}: this machine has no such address; try --bind 0.0.0.0:PORT")
            }
            StartError::Listen { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            StartError::Signals(e) => write!(f, "cannot install the SIGINT/SIGTERM handlers: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    /// Opens the data directory (loading every room's history) and binds the listening socket.
    /// Nothing is accepted until [`Server::run`].
    pub fn bind(config: Config) -> Result<Server, StartError> {
        let bind = config.bind;
        metrics::start_clock();
        match limits::raise_open_files_limit() {
            Ok(files) => {
                // A few descriptors go to the listener, logs and standard streams.
                let room = files.saturating_sub(16) as usize;
                let cap = if config.max_connections == 0 { room } else { config.max_connections.min(room) };
                log::info(format_args!(
                    "open files limit {files}: room for {cap} connections (--max-connections {})",
                    config.max_connections
                ));
            }
            Err(e) => log::warn(format_args!("cannot read the open files limit: {e}")),
        }
        let shared = Arc::new(Shared::new(config)?);
        let listener = TcpListener::bind(bind).map_err(|error| StartError::Listen { addr: bind, error })?;
        // std listens with a backlog of 128: a crowd arriving at once (every page reconnecting
        // after a restart) overflows it, and each dropped SYN costs its client a one-second retry.
        // If that fails, the backlog stays at 128: slower for a crowd, but working.
        let _ = sys::listen_backlog(&listener, 4096);
        Ok(Server { listener, shared })
    }

    /// The address actually bound (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The state shared with every connection (for the signal thread).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The accept loop. It never returns and never dies: an accept error (out of file
    /// descriptors, say) is logged, and the loop backs off and tries again, because one bad
    /// moment must not take the whole chat down.
    pub fn run(self) -> ! {
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("housekeeping".into())
            .stack_size(64 * 1024)
            .spawn(move || housekeeping(&shared));
        if let Err(e) = spawned {
            log::error(format_args!(
                "no housekeeping thread ({e}): joins and leaves are announced late, logs not fsynced"
            ));
        }
        let mut next_id: u64 = 0;
        let ids = AtomicU64::new(0);
        let mut backoff = Duration::ZERO;
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    backoff = Duration::ZERO;
                    next_id = ids.fetch_add(1, Ordering::Relaxed) + 1;
                    metrics::ACCEPTED.inc();
                    // Over a cap: a 503 written right here, and no thread.
                    let Some((ticket, stream)) = self.shared.gate.admit(peer.ip(), stream) else {
                        metrics::REFUSED.inc();
                        log::conn(next_id, peer, "refused: 503 (connection cap)");
                        continue;
                    };
                    if let Err(e) = connection::spawn(stream, peer, next_id, ticket, self.shared.clone()) {
                        // The stream was moved into the failed spawn and is closed by now.
                        log::conn(next_id, peer, format_args!("no thread for it ({e}); connection dropped"));
                    }
                }
                Err(e) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    log::error(format_args!("accept failed after conn-{next_id}: {e}; retrying in {backoff:?}"));
                    std::thread::sleep(backoff);
                }
            }
        }
    }
}
