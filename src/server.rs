//! The server: binding the port ([`Server::bind`]), the accept loop ([`Server::run`]) and the
//! housekeeping thread beside it.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::chat;
use crate::config::Config;
use crate::config::FsyncPolicy;
use crate::shared::Shared;
use crate::{connection, limits, log, metrics, sys};

/// Why the server could not start. Each message names what failed and what to do about it;
/// the binary prints it and exits with code 1 (bad flags are code 2).
#[derive(Debug)]
pub enum StartError {
    /// The data directory or a room's log could not be opened.
    Storage(chat::rooms::StorageError),
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

/// Heaps the allocator may keep (see [`sys::limit_heap_arenas`]): one per core of a small
/// machine, enough that the housekeeping and accept threads rarely wait for the connections'.
const HEAP_ARENAS: i32 = 2;

impl Server {
    /// Opens the data directory (loading every room's history) and binds the listening socket.
    /// Nothing is accepted until [`Server::run`].
    pub fn bind(config: Config) -> Result<Server, StartError> {
        let bind = config.bind;
        metrics::start_clock();
        sys::limit_heap_arenas(HEAP_ARENAS);
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
        let shared = Arc::new(Shared::new(config).map_err(StartError::Storage)?);
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

/// The one background thread: a few times a second it announces batched joins and leaves and
/// sends what members' backlogs hold; every second it fsyncs the logs (`--fsync interval`),
/// checks that none was deleted, and puts away rooms idle for a minute; every five seconds, if
/// connections came or went, it hands freed memory back to the system.
fn housekeeping(shared: &Shared) -> ! {
    const TICK: Duration = Duration::from_millis(100);
    let mut ticks: u64 = 0;
    let mut connections_at_trim = (0, 0);
    loop {
        std::thread::sleep(TICK);
        ticks += 1;
        shared.rooms.flush_presence();
        shared.rooms.flush_backlogs();
        if ticks % 10 == 0 && shared.config.storage_dir().is_some() {
            if shared.config.fsync == FsyncPolicy::Interval {
                shared.rooms.sync_logs();
            }
            shared.rooms.check_logs();
        }
        if ticks % 10 == 0 {
            shared.rooms.put_away_idle();
            shared.directory.announce(&shared.rooms);
        }
        let connections = (metrics::ACCEPTED.get(), shared.gate.open_connections());
        if ticks % 50 == 0 && connections != connections_at_trim {
            // glibc keeps freed memory in its per-thread arenas; once connections have come and
            // gone, give it back to the system (the soak test checks that RSS returns). Also
            // after the last ones closed: what they freed came after the previous trim.
            connections_at_trim = connections;
            sys::trim_heap();
        }
    }
}
