//! A [`Member`]: one WebSocket peer, its socket, and the write lock that keeps its frames whole.
//!
//! Two kinds of thread write to a member's socket:
//! - its own connection thread, which replies to pings and closes, and sends notices or echoes;
//! - any other member's connection thread, which relays a chat message to the whole room.
//!
//! Each frame must reach the socket whole, or two frames' bytes could interleave and the stream
//! would be garbage. So every write goes through one mutex per member, the `Outbox`, and writes
//! whole frames while holding it.
//!
//! There is no queue in user space: **the kernel's socket send buffer is the outbox.** A healthy
//! member's buffer has room, and a relay costs one `write` system call that returns at once.
//!
//! **No write ever waits while holding the lock.** A relay runs under the room lock, so a write
//! that waited for one member would stall the whole room (measured on an earlier design that
//! waited up to 50 ms: 50 members that stopped reading pushed everyone else's p99 from 9.5 ms to
//! 5.6 s). So relays and the member's own small replies write *without blocking*
//! ([`crate::sys::send_now`]). What does not fit is kept, in order, in a small backlog (at most
//! four times `--send-buffer`), which the next write to the member or the housekeeping thread
//! ([`Member::flush_backlog`]) sends when the kernel has room: a member that reads in bursts, or
//! one flooded for a moment, keeps every frame. A member whose backlog would overflow is then
//! behind by its whole kernel buffer and more: it has stopped reading, and it is dropped at once,
//! its socket shut down. A frame cut there cannot be finished or followed by a Close frame, so
//! the peer sees an abnormal closure (1006), which the page answers by reconnecting and
//! replaying what it missed.
//!
//! The only long writes are the member's own, and they hold no lock: the history replay when it
//! joins (relays for it are kept in memory meanwhile, see [`Member::go_live`]) and echoes on the
//! `/echo` endpoint, where nobody relays.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::protocol::Dialect;
use crate::sys;

mod delivery;

/// How long a member's own long writes may take (the history replay, echoes). Unlike relays,
/// these only ever delay the member itself, so they may wait for a slow link.
pub const OWN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A live member's backlog may hold this many times `--send-buffer` (see `Member::max_backlog`).
const BACKLOG_PER_SEND_BUFFER: usize = 4;

/// Relays kept for a joining member beyond this many bytes mean it is not keeping up: drop it.
const MAX_PENDING: usize = 4 << 20;

/// Why a delivery did not happen. Either way the member is gone from the room's point of view.
#[derive(Debug, PartialEq, Eq)]
pub enum Undeliverable {
    /// The member is closing or closed; nothing more may be written.
    Closed,
    /// The member stopped reading: its send buffer was full. It has been shut down.
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

/// The write side of a member, behind its mutex.
#[derive(Debug)]
struct Outbox {
    phase: Phase,
    /// Bytes for the socket that are not in the kernel yet, in order: relays kept while the
    /// member joins or its own thread writes without the lock, and the backlog of a live member
    /// whose kernel buffer was full.
    pending: Vec<u8>,
    /// The member's own thread is writing a long frame without holding the lock: nobody else may
    /// write to the socket until it is done (relays go to `pending`).
    own_write: bool,
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
    /// Who it is, beyond its name: its author hash and whether it is the host.
    pub who: Who,
    /// The name it has in its room: decided under the room lock when it joins, and changed only
    /// there (`/nick`). Read by its own thread without the room lock, so it has a lock of its own,
    /// held only to clone the `Arc`.
    name: Mutex<Arc<str>>,
    /// The one file descriptor of the connection. `&TcpStream` is both `Read` and `Write`, so the
    /// reader and the writers share it without `try_clone`.
    stream: TcpStream,
    outbox: Mutex<Outbox>,
    /// Whether its own writes may wait for the peer (the `/echo` endpoint, whose echoes can be
    /// megabytes) rather than being small replies that fit at once or drop the member.
    own_writes_wait: bool,
    /// The most a live member's backlog may hold: four times `--send-buffer`. The kernel's buffer
    /// holds less chat than its size says, since each small write costs it a kilobyte or so of
    /// bookkeeping; measured, a reader flooded with 900 messages of 190 bytes at once was full
    /// after about a hundred, while it was reading as fast as it could.
    max_backlog: usize,
}

/// Who a member is, as far as the room is concerned (see `crate::identity`): never its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who {
    /// The keyed hash of its member id, stored with its messages (empty on `/echo`).
    pub author: String,
    /// Whether it presented the host key on its upgrade.
    pub host: bool,
}

/// What became of a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// In the kernel's hands.
    Sent,
    /// Kept in the member's backlog (or, while it joins, its pending relays), to be sent later.
    Kept,
}

impl Member {
    /// Prepares an upgraded socket to be a member, with a small, explicit send buffer (its
    /// outbox). `own_writes_wait` is for the `/echo` endpoint only (see the field).
    pub fn new(
        id: u64,
        peer: SocketAddr,
        dialect: Dialect,
        stream: TcpStream,
        send_buffer: usize,
        nodelay: bool,
        own_writes_wait: bool,
    ) -> io::Result<Member> {
        // TCP_NODELAY (`--tcp-nodelay`): see `Config::tcp_nodelay` for the trade-off.
        stream.set_nodelay(nodelay)?;
        sys::set_send_buffer(&stream, send_buffer)?;
        Ok(Member {
            id,
            peer,
            dialect,
            who: Who::default(),
            name: Mutex::new(Arc::from("")),
            stream,
            outbox: Mutex::new(Outbox { phase: Phase::Joining, pending: Vec::new(), own_write: false }),
            own_writes_wait,
            max_backlog: send_buffer.saturating_mul(BACKLOG_PER_SEND_BUFFER),
        })
    }

    /// The member, as `who` (its author and whether it is the host), before it is shared.
    pub fn with_who(self, who: Who) -> Member {
        Member { who, ..self }
    }

    /// The member's name in its room ("" before it has joined one).
    pub fn name(&self) -> Arc<str> {
        crate::lock::take(&self.name).clone()
    }

    /// Sets the name: by the room, under the room lock, on joining and on `/nick`.
    pub fn set_name(&self, name: &str) {
        *crate::lock::take(&self.name) = Arc::from(name);
    }

    /// The socket, for the member's own reader (waits and reads).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Asks the CPU to start loading this member's fields and write lock into its cache, ahead
    /// of a [`Member::deliver`]. Only a hint: it never faults and changes nothing. A no-op on
    /// CPUs other than x86-64.
    #[inline]
    pub fn prefetch(&self) {
        sys::prefetch(self);
        sys::prefetch(&self.outbox);
    }

    /// The member's own writes, from its connection thread: whole frames (a pong, a notice, a
    /// Close). A chat member's replies are small and go out like a relay, after any backlog and
    /// without waiting (a member whose backlog would overflow is shut down); its Close reply goes
    /// out whole at once or not at all. On `/echo` they may be large and wait (up to
    /// [`OWN_WRITE_TIMEOUT`]), without holding the lock. Fails once the member is closed.
    pub fn write_own(&self, bytes: &[u8]) -> io::Result<()> {
        let mut out = self.lock();
        if matches!(out.phase, Phase::Closed) {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "member is closed"));
        }
        if self.own_writes_wait {
            out.own_write = true;
            drop(out);
            let result = write_all_until(&self.stream, bytes, Instant::now() + OWN_WRITE_TIMEOUT);
            return self.end_own_write(result);
        }
        match out.phase {
            // Like a relay, and after any: the backlog keeps the order.
            Phase::Live if !out.own_write => match self.send_or_keep(&mut out, bytes) {
                Ok(_) => Ok(()),
                Err(why) => Err(io::Error::new(io::ErrorKind::WouldBlock, format!("member dropped: {why:?}"))),
            },
            // Closing: the Close reply goes out whole, at once, or not at all.
            _ => {
                let result = send_all_now(&self.stream, bytes);
                if result.is_err() {
                    self.shut(&mut out);
                }
                result
            }
        }
    }

    /// Ends the joining phase, on the member's own thread: writes `welcome` (its first frames,
    /// with the history replay: possibly large, possibly to a slow link), then the relays that
    /// arrived meanwhile, in order, then lets relays go straight to the socket.
    ///
    /// None of these writes holds the write lock, so relays never wait for them: they append to
    /// `pending` instead. Each round takes what is pending under the lock and writes it without;
    /// when a round finds nothing pending, the member goes live in the same critical section, so
    /// no relay can slip in between or be lost.
    pub fn go_live(&self, welcome: &[u8]) -> io::Result<()> {
        {
            let mut out = self.lock();
            if !matches!(out.phase, Phase::Joining) {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "member is closed"));
            }
            out.own_write = true;
        }
        let deadline = Instant::now() + OWN_WRITE_TIMEOUT;
        let mut result = write_all_until(&self.stream, welcome, deadline);
        loop {
            let mut out = self.lock();
            if let Err(e) = result {
                self.shut(&mut out);
                return Err(e);
            }
            if !matches!(out.phase, Phase::Joining) {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "member is closed"));
            }
            let pending = std::mem::take(&mut out.pending);
            if pending.is_empty() {
                out.phase = Phase::Live;
                out.own_write = false;
                return Ok(());
            }
            drop(out);
            result = write_all_until(&self.stream, &pending, deadline);
        }
    }

    /// After a long own write made without the lock: relays kept meanwhile go out now (at once,
    /// like a relay), and others may write again.
    fn end_own_write(&self, result: io::Result<()>) -> io::Result<()> {
        let mut out = self.lock();
        out.own_write = false;
        let pending = std::mem::take(&mut out.pending);
        let result = result.and_then(|()| send_all_now(&self.stream, &pending));
        if result.is_err() {
            self.shut(&mut out);
        }
        result
    }

    /// Stops relays to this member because its own thread is about to close the connection.
    pub fn begin_close(&self) {
        let mut out = self.lock();
        if !matches!(out.phase, Phase::Closed) {
            out.phase = Phase::Closing;
        }
    }

    /// At server shutdown, from the signal thread: writes a final frame (a Close) after what
    /// the backlog holds, then shuts the write side, so the peer reads everything, then the
    /// Close, then end-of-stream.
    ///
    /// With `deadline` `None` it never waits, and returns `false` if the member is behind (its
    /// backlog or the Close did not fit), for a second pass; with a deadline it waits for the
    /// peer until then, and shuts the socket if it did not catch up. So the first pass closes
    /// every member that keeps up at once, and a thousand stuck members cannot hold shutdown up
    /// for longer than the deadline. A member whose own thread is in the middle of a long write is
    /// shut without a Close frame (one cannot be put in the middle of another frame): its page
    /// sees 1006, and reconnects too.
    pub fn close_with(&self, close_frame: &[u8], deadline: Option<Instant>) -> bool {
        let mut out = self.lock();
        if matches!(out.phase, Phase::Closed) {
            return true;
        }
        if out.own_write {
            self.shut(&mut out);
            return true;
        }
        let pending = std::mem::take(&mut out.pending);
        let mut all = pending;
        all.extend_from_slice(close_frame);
        let sent = match deadline {
            None => match send_some_now(&self.stream, &all) {
                Ok(n) if n == all.len() => Ok(()),
                // Behind: keep what is left of the backlog for the second pass.
                Ok(n) if n < all.len() - close_frame.len() => {
                    out.pending = all[n..all.len() - close_frame.len()].to_vec();
                    return false;
                }
                // The Close frame itself is cut: the socket cannot take another frame.
                Ok(_) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            },
            Some(deadline) => write_all_until(&self.stream, &all, deadline),
        };
        if sent.is_err() {
            self.shut(&mut out);
            return true;
        }
        out.phase = Phase::Closed;
        // Write side only: the peer still gets to read our Close frame, then sees the FIN.
        let _ = self.stream.shutdown(Shutdown::Write);
        true
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

/// Writes as much of `bytes` into the socket's send buffer as it takes now, without waiting:
/// how much. A full buffer is `Ok(0)`; `Err` is a broken connection.
fn send_some_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < bytes.len() {
        match sys::send_now(stream, &bytes[sent..]) {
            Ok(0) => break,
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Writes all of `bytes` into the socket's send buffer now, or fails: with `WouldBlock` if the
/// buffer is full (after part of `bytes`, perhaps, which is then cut).
fn send_all_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<()> {
    match send_some_now(stream, bytes)? {
        n if n == bytes.len() => Ok(()),
        _ => Err(io::ErrorKind::WouldBlock.into()),
    }
}

/// Writes all of `bytes` before `deadline`, waiting as needed: the socket's write timeout is set
/// to the time left before each write. Only the member's own thread writes this way.
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
