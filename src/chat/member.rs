//! A [`Member`]: one WebSocket peer, its socket, and the write lock that keeps its frames whole.
//!
//! Two kinds of thread write to a member's socket:
//! - its own connection thread, which replies to pings and closes, and sends notices or echoes;
//! - any other member's connection thread, which relays a chat message to the whole room.
//!
//! Each frame must reach the socket whole, or two frames' bytes could interleave and the stream
//! would be garbage. So every write goes through one mutex per member, the `Outbox`, and
//! writes a complete frame with `write_all` while holding it.
//!
//! There is no queue in user space: **the kernel's socket send buffer is the outbox.** A healthy
//! member's buffer has room, and a relay costs one `write` system call that returns at once. A
//! member that stops reading fills its buffer (kept small on purpose, `--send-buffer`); the next
//! relay then blocks for at most the relay timeout, the member is dropped, and its socket shut
//! down. A frame cut halfway cannot be finished or followed by a Close frame, so the peer sees an
//! abnormal closure (1006), which the page answers by reconnecting.
//!
//! While a member is *joining*, relays for it are kept in memory instead of written, so its own
//! thread can write the (possibly large) history replay without holding the room lock; see
//! [`Member::go_live`].

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::protocol::Dialect;

/// How long a member's own writes may take (history replay, notices, echoes, control replies).
/// Unlike relays, these only ever delay the member itself, so they may wait for a slow link.
pub const OWN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Relays kept for a joining member beyond this many bytes mean it is not keeping up: drop it.
const MAX_PENDING: usize = 4 << 20;

/// Why a delivery did not happen. Either way the member is gone from the room's point of view.
#[derive(Debug, PartialEq, Eq)]
pub enum Undeliverable {
    /// The member is closing or closed; nothing more may be written.
    Closed,
    /// The member stopped reading: its send buffer stayed full past the relay timeout. It has
    /// been shut down.
    Slow,
    /// The connection failed (the peer reset or closed it); its own thread will notice too.
    Gone,
}

/// Where a member is in its life, as seen by writers. Guarded by the member's write lock.
#[derive(Debug)]
enum Phase {
    /// Registered in a room, history replay not yet written: relays are kept in `pending`.
    Joining,
    /// Relays are written straight to the socket.
    Live,
    /// A Close frame is about to be (or has been) written by the member's own thread. Relays stop;
    /// the member's own thread may still finish the closing handshake.
    Closing,
    /// Nothing more may be written.
    Closed,
}

/// The write side of a member, behind its mutex: the phase, and relays kept while joining.
#[derive(Debug)]
struct Outbox {
    phase: Phase,
    pending: Vec<u8>,
}

/// One connected WebSocket peer.
#[derive(Debug)]
pub struct Member {
    /// Connection number, as in the thread name `conn-N` and the log lines.
    pub id: u64,
    /// The peer's address, for logs and per-IP accounting.
    pub peer: SocketAddr,
    /// What it understands: the page's HTML fragments or JSON events, fixed at the handshake.
    pub dialect: Dialect,
    /// The name it has in its room, decided under the room lock when it joins.
    name: OnceLock<String>,
    /// The one file descriptor of the connection. `&TcpStream` is both `Read` and `Write`, so the
    /// reader and the writers share it without `try_clone`.
    stream: TcpStream,
    outbox: Mutex<Outbox>,
    relay_timeout: Duration,
}

impl Member {
    /// Prepares an upgraded socket to be a member: a small, explicit send buffer (the outbox) and
    /// the relay write timeout as the socket's default write timeout.
    pub fn new(
        id: u64,
        peer: SocketAddr,
        dialect: Dialect,
        stream: TcpStream,
        send_buffer: usize,
        relay_timeout: Duration,
        nodelay: bool,
    ) -> io::Result<Member> {
        // TCP_NODELAY (`--tcp-nodelay`): see `Config::tcp_nodelay` for the trade-off.
        stream.set_nodelay(nodelay)?;
        crate::sys::set_send_buffer(&stream, send_buffer)?;
        stream.set_write_timeout(Some(relay_timeout))?;
        Ok(Member {
            id,
            peer,
            dialect,
            name: OnceLock::new(),
            stream,
            outbox: Mutex::new(Outbox { phase: Phase::Joining, pending: Vec::new() }),
            relay_timeout,
        })
    }

    /// The member's name in its room ("" before it has joined one).
    pub fn name(&self) -> &str {
        self.name.get().map_or("", String::as_str)
    }

    /// Sets the name; called once, by the room, under the room lock.
    pub fn set_name(&self, name: String) {
        let _ = self.name.set(name);
    }

    /// The socket, for the member's own reader (read timeouts, reads).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Relay path: deliver one encoded frame, called under the room lock by whichever thread is
    /// relaying. At most one short stall (the relay timeout) if the member stopped reading.
    pub fn deliver(&self, frame: &[u8]) -> Result<(), Undeliverable> {
        let mut out = self.lock();
        match out.phase {
            Phase::Live => {}
            Phase::Joining => {
                if out.pending.len() + frame.len() > MAX_PENDING {
                    self.shut(&mut out);
                    return Err(Undeliverable::Slow);
                }
                out.pending.extend_from_slice(frame);
                return Ok(());
            }
            Phase::Closing | Phase::Closed => return Err(Undeliverable::Closed),
        }
        // The common case: one `write` that takes the whole frame at once. No clock is read and
        // no socket option set (the socket's write timeout already is the relay timeout).
        let written = match (&self.stream).write(frame) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            // WouldBlock here means the write already waited the whole relay timeout.
            Err(e) => return Err(self.undeliverable(&mut out, &e)),
        };
        if written == frame.len() {
            return Ok(());
        }
        // The buffer was nearly full: finish within one more relay timeout, or give up.
        let result = write_all_until(&self.stream, &frame[written..], Instant::now() + self.relay_timeout);
        let _ = self.stream.set_write_timeout(Some(self.relay_timeout));
        result.map_err(|e| self.undeliverable(&mut out, &e))
    }

    /// Asks the CPU to start loading this member's fields and write lock into its cache, ahead
    /// of a [`Member::deliver`]. Only a hint: it never faults and changes nothing. A no-op on
    /// CPUs other than x86-64.
    #[inline]
    pub fn prefetch(&self) {
        crate::sys::prefetch(self);
        crate::sys::prefetch(&self.outbox);
    }

    /// Shuts the member down after a failed relay write, and says why it failed.
    fn undeliverable(&self, out: &mut Outbox, error: &io::Error) -> Undeliverable {
        self.shut(out);
        if matches!(error.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
            Undeliverable::Slow
        } else {
            Undeliverable::Gone
        }
    }

    /// The member's own writes: whole frames from its connection thread, with a long timeout.
    /// Fails once the member is closed.
    pub fn write_own(&self, bytes: &[u8]) -> io::Result<()> {
        let mut out = self.lock();
        if matches!(out.phase, Phase::Closed) {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "member is closed"));
        }
        let result = write_all_until(&self.stream, bytes, Instant::now() + OWN_WRITE_TIMEOUT);
        if result.is_err() {
            self.shut(&mut out);
        } else {
            // Back to the relay timeout, which relays rely on (see `deliver`).
            let _ = self.stream.set_write_timeout(Some(self.relay_timeout));
        }
        result
    }

    /// Ends the joining phase: writes the relays that arrived during the history replay, in
    /// order, then lets relays go straight to the socket. Holding the write lock throughout means
    /// no relay can slip in between.
    pub fn go_live(&self) -> io::Result<()> {
        let mut out = self.lock();
        if !matches!(out.phase, Phase::Joining) {
            return Ok(());
        }
        let pending = std::mem::take(&mut out.pending);
        if !pending.is_empty() {
            let result = write_all_until(&self.stream, &pending, Instant::now() + OWN_WRITE_TIMEOUT);
            let _ = self.stream.set_write_timeout(Some(self.relay_timeout));
            if let Err(e) = result {
                self.shut(&mut out);
                return Err(e);
            }
        }
        out.phase = Phase::Live;
        Ok(())
    }

    /// Stops relays to this member because its own thread is about to close the connection.
    pub fn begin_close(&self) {
        let mut out = self.lock();
        if !matches!(out.phase, Phase::Closed) {
            out.phase = Phase::Closing;
        }
    }

    /// Writes a final frame (a Close) within the relay timeout and before `deadline`, then shuts
    /// the write side, so the peer reads the Close and then end-of-stream. Used at server
    /// shutdown, from the signal thread.
    pub fn close_with(&self, close_frame: &[u8], deadline: Instant) {
        let mut out = self.lock();
        if matches!(out.phase, Phase::Closed) {
            return;
        }
        let until = deadline.min(Instant::now() + self.relay_timeout);
        if until > Instant::now() {
            let _ = write_all_until(&self.stream, close_frame, until);
        }
        out.phase = Phase::Closed;
        // Write side only: the peer still gets to read our Close frame, then sees the FIN.
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Closes the socket for good (both directions): any blocked reader or writer wakes up.
    pub fn shutdown(&self) {
        let mut out = self.lock();
        self.shut(&mut out);
    }

    fn shut(&self, out: &mut Outbox) {
        out.phase = Phase::Closed;
        out.pending = Vec::new();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// The write lock (a poisoned one is taken over: see [`crate::lock`]).
    fn lock(&self) -> MutexGuard<'_, Outbox> {
        crate::lock::take(&self.outbox)
    }
}

/// Writes all of `bytes` before `deadline`, setting the socket's write timeout to the time left
/// before each write. The caller restores the socket's usual timeout afterwards.
fn write_all_until(mut stream: &TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "write deadline passed"));
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "socket accepted no bytes")),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                if Instant::now() >= deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "write deadline passed"));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
