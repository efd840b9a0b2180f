//! The clients: N WebSocket connections to the room, each read by its own task on one
//! current-thread runtime, and K of them also sending. The stall scenarios add a member that
//! reads in bursts ([`Bursty`], measured on its own) and members that never read at all
//! ([`Clients::add_stuck`], not measured: only whether the server dropped them).
//!
//! Everything here runs on a single thread (a `LocalSet`), so the shared [`Tally`] is a plain
//! `Rc<RefCell<_>>`: no locks, no atomics on the per-delivery path. A borrow is never held across
//! an `.await`.

mod connection;
mod tally;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::proc;
use crate::token;
use connection::{open_with, receive, send, Id, Plan};
use tally::Role;
pub use tally::{Bursty, Layout, Tally};

type Ws = WebSocketStream<TcpStream>;
type Sink = SplitSink<Ws, Message>;

/// Connections opened at once. Enough to open 10,000 in a couple of seconds; few enough not to
/// overflow a listen backlog of 128 (std's `TcpListener`, which chatroom uses): a dropped SYN costs
/// a 1 s retransmit, and at 200 at a time chatroom's C10K connect took 9 s instead of 1.4 s.
const CONNECT_CONCURRENCY: usize = 100;
/// Attempts per connection, and the bound on each.
const CONNECT_ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole connect phase, however many clients.
const CONNECT_PHASE_LIMIT: Duration = Duration::from_secs(60);
/// Client read buffer. tungstenite's default (128 KiB, allocated up front) times 10,000 clients
/// would be over a gigabyte; relayed frames are ~150 bytes, so 8 KiB still reads dozens per call.
const READ_BUFFER: usize = 8 * 1024;
/// How soon to re-send a probe while someone has seen none; the wait doubles up to
/// [`PROBE_EVERY_MAX`], because each probe costs N deliveries and a server that is merely slow
/// (a starved machine) must not be buried in probes.
const PROBE_EVERY: Duration = Duration::from_millis(250);
const PROBE_EVERY_MAX: Duration = Duration::from_secs(2);
/// Polling step while waiting for counts to arrive.
const POLL: Duration = Duration::from_millis(5);
/// `SO_RCVBUF` of a stuck member and of the bursty member, set before they connect so that the
/// window they offer stays small (Linux doubles it, for its own bookkeeping): a stuck member's
/// buffer fills after a few relays, and the bursty member differs from the stuck ones only in
/// that it reads.
const SMALL_RECV_BUFFER: u32 = 4096;
/// After the stuck members' last write, how long to wait for the server's answer (a reset, if it
/// has dropped them; on loopback it takes microseconds).
const STUCK_CHECK_WAIT: Duration = Duration::from_millis(200);
/// A WebSocket Ping with no payload, masked as a client's frame must be (RFC 6455 §5.2: FIN +
/// opcode 9, MASK + length 0, a masking key).
const MASKED_PING: [u8; 6] = [0x89, 0x80, 0x12, 0x34, 0x56, 0x78];

/// How a sender paces itself.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// A fixed rate, in messages per second per sender.
    Rate(f64),
    /// As fast as possible with at most this many of its own messages not yet echoed back.
    Window(usize),
}

/// The connected clients in the room, as a [`Layout`] lays them out; the first K are the senders.
pub struct Clients {
    pub tally: Rc<RefCell<Tally>>,
    receivers: Vec<JoinHandle<()>>,
    sinks: Vec<Sink>,
    /// Members that never read (the stall scenarios): held open, never polled.
    stuck: Vec<Ws>,
    pub connect_time: Duration,
}

impl Clients {
    /// Opens the `layout`'s connections to `ws://ADDR/connect`, at most [`CONNECT_CONCURRENCY`]
    /// at a time, and starts each one's reader as soon as it is open (a server may send on join).
    pub async fn connect(addr: SocketAddr, layout: Layout, nonce: u32) -> Result<Clients, String> {
        let started = Instant::now();
        let n = layout.tracked();
        let senders = layout.senders;
        // Built first, so that every early return drops it and so stops the readers started so far.
        let mut clients = Clients {
            tally: Rc::new(RefCell::new(Tally::new(nonce, &layout))),
            receivers: Vec::with_capacity(n),
            sinks: Vec::new(),
            stuck: Vec::new(),
            connect_time: Duration::ZERO,
        };
        let mut sinks: Vec<Option<Sink>> = (0..senders).map(|_| None).collect();
        let mut failed = 0usize;
        let mut first_error = None;

        let mut opening = futures_util::stream::iter(0..n)
            .map(|i| {
                let small = (layout.role(i) == Role::Bursty).then_some(SMALL_RECV_BUFFER);
                async move { (i, open_with(addr, small).await) }
            })
            .buffer_unordered(CONNECT_CONCURRENCY);
        let deadline = started + CONNECT_PHASE_LIMIT;
        loop {
            let next = match timeout_at(deadline, opening.next()).await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(_) => {
                    return Err(format!(
                        "connecting {n} clients took over {CONNECT_PHASE_LIMIT:?} ({} open)",
                        clients.connections()
                    ))
                }
            };
            // A server that drops clients while others are still joining will not carry the room.
            let dropped = clients.tally.borrow().disconnected;
            if dropped > n / 20 {
                return Err(format!(
                    "the server dropped {dropped} of the first {} clients while the rest were still connecting ({})",
                    clients.connections(),
                    clients.tally.borrow().disconnect_note()
                ));
            }
            match next {
                (i, Ok(ws)) => {
                    let (sink, stream) = ws.split();
                    if i < senders {
                        sinks[i] = Some(sink);
                    }
                    let bursty = layout.bursty.filter(|_| layout.role(i) == Role::Bursty);
                    let reader = tokio::task::spawn_local(receive(i, stream, clients.tally.clone(), senders, bursty));
                    clients.receivers.push(reader);
                }
                (_, Err(e)) => {
                    failed += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        clients.sinks = sinks.into_iter().flatten().collect();
        if failed > 0 || clients.sinks.len() < senders {
            return Err(format!(
                "only {} of {n} clients connected; first error: {}",
                n - failed,
                first_error.unwrap_or_default()
            ));
        }
        clients.connect_time = started.elapsed();
        Ok(clients)
    }

    /// Every connection: the tracked ones and the stuck ones.
    pub fn connections(&self) -> usize {
        self.receivers.len() + self.stuck.len()
    }

    /// Opens `n` members that never read: each gets a small receive buffer before it connects
    /// ([`SMALL_RECV_BUFFER`]), does the WebSocket handshake, and is never read again. Bounded by
    /// [`CONNECT_PHASE_LIMIT`].
    pub async fn add_stuck(&mut self, addr: SocketAddr, n: usize) -> Result<(), String> {
        let started = Instant::now();
        let deadline = started + CONNECT_PHASE_LIMIT;
        let mut opening = futures_util::stream::iter(0..n)
            .map(|_| open_with(addr, Some(SMALL_RECV_BUFFER)))
            .buffer_unordered(CONNECT_CONCURRENCY);
        loop {
            match timeout_at(deadline, opening.next()).await {
                Ok(Some(Ok(ws))) => self.stuck.push(ws),
                Ok(Some(Err(e))) => return Err(format!("a stuck member could not connect: {e}")),
                Ok(None) => break,
                Err(_) => {
                    return Err(format!(
                        "connecting {n} stuck members took over {CONNECT_PHASE_LIMIT:?} ({} open)",
                        self.stuck.len()
                    ))
                }
            }
        }
        self.connect_time += started.elapsed();
        Ok(())
    }

    /// How many stuck members the server has dropped. Each writes a Ping (its first write since
    /// the handshake): a server that shut the connection down answers with a reset, so the write
    /// fails or, [`STUCK_CHECK_WAIT`] later, the socket is no longer ESTABLISHED. (Reading cannot
    /// tell: a dropped member's buffer is still full of relays, and the server's end-of-stream
    /// waits behind them.) Call at the end of the run. A member still in the room is answered
    /// with a Pong at most; should that Pong be what overflows its backlog, the server shuts it
    /// down only after our one write, so no reset comes and it does not count as dropped.
    pub async fn stuck_dropped(&self) -> u64 {
        let mut failed = vec![false; self.stuck.len()];
        for (ws, failed) in self.stuck.iter().zip(&mut failed) {
            let tcp = ws.get_ref();
            *failed = match timeout(Duration::from_secs(1), tcp.writable()).await {
                Ok(Ok(())) => tcp.try_write(&MASKED_PING).is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock),
                Ok(Err(_)) => true,
                // Our own send buffer is full: we never wrote, so this cannot be; the state decides.
                Err(_) => false,
            };
        }
        sleep(STUCK_CHECK_WAIT).await;
        self.stuck
            .iter()
            .zip(&failed)
            .filter(|&(ws, &failed)| {
                use std::os::fd::AsRawFd;
                failed || proc::tcp_state(ws.get_ref().as_raw_fd()).map_or(true, |s| s != proc::TCP_ESTABLISHED)
            })
            .count() as u64
    }

    /// Makes sure every client is really in the room: sender 0 sends a probe, and again with a
    /// growing pause from [`PROBE_EVERY`], until every open connection has received one, then waits until all have
    /// received the newest, so no probe traffic is in flight when measuring starts. A client the
    /// server has already dropped is not waited for (its deliveries will count as lost).
    pub async fn probe(&mut self, limit: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let deadline = started + limit;
        let nonce = self.tally.borrow().nonce;
        let mut id = 0;
        let mut pause = PROBE_EVERY;
        while id == 0 || self.tally.borrow().missing_probe(1) > 0 {
            if Instant::now() >= deadline {
                let t = self.tally.borrow();
                return Err(format!("probe: no probe reached everyone within {limit:?}: {}", t.missing_note(1)));
            }
            id += 1;
            let text = token::message_json(&token::probe(nonce, id));
            self.sinks[0].send(Message::text(text)).await.map_err(|e| format!("probe: send failed: {e}"))?;
            let next = Instant::now() + pause;
            while Instant::now() < next && self.tally.borrow().missing_probe(1) > 0 {
                sleep(POLL).await;
            }
            pause = (pause * 2).min(PROBE_EVERY_MAX);
        }
        while self.tally.borrow().missing_probe(id) > 0 {
            if Instant::now() >= deadline {
                let note = self.tally.borrow().missing_note(id);
                return Err(format!("probe: the last probe did not reach everyone within {limit:?}: {note}"));
            }
            sleep(POLL).await;
        }
        Ok(started.elapsed())
    }

    /// Starts the senders: sender `i` sends `{"message": TOKEN}` at its pace from `start` for
    /// `duration`, the token padded to `text_bytes` (0: not padded). Each task returns how many
    /// messages it sent.
    pub fn start_senders(
        &mut self,
        pace: Pace,
        start: Instant,
        duration: Duration,
        text_bytes: usize,
    ) -> Vec<JoinHandle<u64>> {
        let senders = self.sinks.len();
        let nonce = self.tally.borrow().nonce;
        if let Pace::Window(size) = pace {
            self.tally.borrow_mut().windows = (0..senders).map(|_| Rc::new(Semaphore::new(size))).collect();
        }
        let windows = self.tally.borrow().windows.clone();
        self.sinks
            .drain(..)
            .enumerate()
            .map(|(i, sink)| {
                let plan = match pace {
                    // Spread the senders over one period, so their messages do not arrive in bursts.
                    Pace::Rate(rate) => Plan::Rate {
                        period: Duration::from_secs_f64(1.0 / rate),
                        offset: Duration::from_secs_f64(i as f64 / (rate * senders as f64)),
                        count: (rate * duration.as_secs_f64()).round() as u64,
                    },
                    Pace::Window(_) => Plan::Window(windows[i].clone()),
                };
                let id = Id { sender: i, nonce, text_bytes };
                tokio::task::spawn_local(send(id, sink, plan, start, duration))
            })
            .collect()
    }

    /// Waits until `expected` first deliveries have arrived at the measured receivers, and all
    /// `sent` messages at the bursty member (if any, and not dropped), or `limit` has passed.
    pub async fn drain(&self, expected: u64, sent: u64, limit: Duration) -> Duration {
        let started = Instant::now();
        let waiting = || {
            let tally = self.tally.borrow();
            tally.unique < expected || tally.bursty_waiting(sent)
        };
        while waiting() && started.elapsed() < limit {
            sleep(POLL).await;
        }
        started.elapsed()
    }

    /// Closes every connection (by dropping it: the server is killed right after, so a close
    /// handshake would only cost time) and waits until the tasks are gone.
    pub async fn close(mut self) {
        self.tally.borrow_mut().closing = true;
        let receivers = std::mem::take(&mut self.receivers);
        for task in &receivers {
            task.abort();
        }
        for task in receivers {
            let _ = timeout(Duration::from_secs(5), task).await;
        }
        self.stuck.clear();
    }
}

/// A run that fails half-way drops its clients without [`Clients::close`]: stop their readers,
/// which would otherwise live on in the runtime.
impl Drop for Clients {
    fn drop(&mut self) {
        self.tally.borrow_mut().closing = true;
        for task in &self.receivers {
            task.abort();
        }
    }
}
