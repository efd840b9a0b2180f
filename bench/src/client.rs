//! The clients: N WebSocket connections to the room, each read by its own task on one
//! current-thread runtime, and K of them also sending. The stall scenarios add a member that
//! reads in bursts ([`Bursty`], measured on its own) and members that never read at all
//! ([`Clients::add_stuck`], not measured: only whether the server dropped them).
//!
//! Everything here runs on a single thread (a `LocalSet`), so the shared [`Tally`] is a plain
//! `Rc<RefCell<_>>`: no locks, no atomics on the per-delivery path. A borrow is never held across
//! an `.await`.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::proc;
use crate::token::{self, now_ns, SeenSeqs, Token};

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

/// Who is who among one run's connections.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Measured receivers: their first deliveries make the latency percentiles, lost and
    /// duplicated.
    pub receivers: usize,
    /// Connections that send. Unless `senders_apart`, they are the first of the receivers.
    pub senders: usize,
    /// The senders are connections of their own: they read what the room sends them (or they
    /// would be stuck members themselves), but are not measured.
    pub senders_apart: bool,
    /// A member that reads in bursts, measured on its own.
    pub bursty: Option<Bursty>,
}

impl Layout {
    /// Every connection the [`Tally`] tracks: the senders (if apart), the receivers, the bursty
    /// member. Senders come first, then the receivers, then the bursty member.
    pub fn tracked(&self) -> usize {
        self.receivers + if self.senders_apart { self.senders } else { 0 } + usize::from(self.bursty.is_some())
    }

    fn role(&self, i: usize) -> Role {
        if self.bursty.is_some() && i + 1 == self.tracked() {
            Role::Bursty
        } else if self.senders_apart && i < self.senders {
            Role::Unmeasured
        } else {
            Role::Measured
        }
    }
}

/// A member on a poor link (a phone on Wi-Fi): it reads for `read`, then does not read for
/// `pause`, and again, for the whole run. Its receive buffer is as small as a stuck member's.
#[derive(Clone, Copy, Debug)]
pub struct Bursty {
    pub read: Duration,
    pub pause: Duration,
}

/// What a tracked connection's deliveries count for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Percentiles, lost, duplicated.
    Measured,
    /// Nothing (a sender apart from the receivers): read and dropped.
    Unmeasured,
    /// The bursty member's own figures.
    Bursty,
}

/// What the receivers have seen, shared by every task of one run.
pub struct Tally {
    nonce: u32,
    /// Send-to-receive time of every first delivery, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Deliveries seen for the first time by their receiver.
    pub unique: u64,
    /// Deliveries of a token the receiver had already seen.
    pub duplicates: u64,
    /// What each tracked connection's deliveries count for.
    roles: Vec<Role>,
    /// The bursty member's latencies, first deliveries and duplicates, apart from the others'.
    pub bursty_latency: Histogram<u64>,
    pub bursty_duplicates: u64,
    /// Why the server ended the bursty member's connection, if it did.
    pub bursty_dropped: Option<String>,
    /// Chat texts that are not this run's tokens.
    pub foreign: u64,
    /// First deliveries per tracked connection (measured or not).
    pub per_receiver: Vec<u64>,
    /// The newest probe each receiver has seen (0: none yet).
    probe_seen: Vec<u64>,
    /// Whether each receiver's connection is still open.
    open: Vec<bool>,
    /// Text frames each receiver got, of any kind (a welcome, a roster): tells a client the server
    /// never wrote to from one that only missed the relays.
    frames: Vec<u32>,
    /// When the newest first delivery arrived ([`now_ns`]).
    pub last_delivery_ns: u64,
    /// Connections (other than the bursty member) that ended before the run did, and why the
    /// first one ended.
    pub disconnected: usize,
    pub first_disconnect: Option<String>,
    /// Set at teardown, so that the ends we cause are not counted as disconnects.
    closing: bool,
    /// Saturation mode: each sender's in-flight window, refilled when its own echo comes back.
    windows: Vec<Rc<Semaphore>>,
}

impl Tally {
    fn new(nonce: u32, layout: &Layout) -> Tally {
        let clients = layout.tracked();
        let histogram = || Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds");
        Tally {
            nonce,
            latency: histogram(),
            unique: 0,
            duplicates: 0,
            roles: (0..clients).map(|i| layout.role(i)).collect(),
            bursty_latency: histogram(),
            bursty_duplicates: 0,
            bursty_dropped: None,
            foreign: 0,
            per_receiver: vec![0; clients],
            probe_seen: vec![0; clients],
            open: vec![true; clients],
            frames: vec![0; clients],
            last_delivery_ns: 0,
            disconnected: 0,
            first_disconnect: None,
            closing: false,
            windows: Vec::new(),
        }
    }

    /// Counts one relayed frame received by `receiver`, who has seen `seen` so far.
    fn record(&mut self, receiver: usize, seen: &mut [SeenSeqs], frame: &str, now: u64) {
        self.frames[receiver] += 1;
        for text in token::chat_texts(frame) {
            match token::parse(text, self.nonce) {
                Token::Measured { sender, seq, sent_ns } => {
                    let Some(from) = seen.get_mut(sender) else {
                        self.foreign += 1;
                        continue;
                    };
                    let role = self.roles[receiver];
                    if !from.first_time(seq) {
                        match role {
                            Role::Measured => self.duplicates += 1,
                            Role::Bursty => self.bursty_duplicates += 1,
                            Role::Unmeasured => {}
                        }
                        continue;
                    }
                    self.per_receiver[receiver] += 1;
                    let latency = now.saturating_sub(sent_ns).max(1);
                    match role {
                        Role::Measured => {
                            self.unique += 1;
                            self.latency.saturating_record(latency);
                            self.last_delivery_ns = now;
                        }
                        Role::Bursty => self.bursty_latency.saturating_record(latency),
                        Role::Unmeasured => {}
                    }
                    if receiver == sender {
                        if let Some(window) = self.windows.get(sender) {
                            window.add_permits(1);
                        }
                    }
                }
                Token::Probe { id } => {
                    let newest = &mut self.probe_seen[receiver];
                    *newest = (*newest).max(id);
                }
                Token::Foreign => self.foreign += 1,
            }
        }
    }

    /// How many open connections have not yet seen probe `id` (or a newer one).
    fn missing_probe(&self, id: u64) -> usize {
        self.open.iter().zip(&self.probe_seen).filter(|&(&open, &seen)| open && seen < id).count()
    }

    /// Which open connections lack probe `id`, for the error message: how many, how many of them
    /// got no frame at all, and the first few with the newest probe each did see.
    fn missing_note(&self, id: u64) -> String {
        let missing: Vec<usize> = (0..self.open.len()).filter(|&i| self.open[i] && self.probe_seen[i] < id).collect();
        let silent = missing.iter().filter(|&&i| self.frames[i] == 0).count();
        let first: Vec<String> = missing
            .iter()
            .take(5)
            .map(|&i| format!("client {i}: newest probe {}, {} frames", self.probe_seen[i], self.frames[i]))
            .collect();
        format!(
            "{} open clients lack probe {id}, {silent} of them got no frame at all ({}; {})",
            missing.len(),
            first.join(", "),
            self.disconnect_note()
        )
    }

    /// Measured receivers that have fewer than `sent` first deliveries.
    pub fn short_receivers(&self, sent: u64) -> u64 {
        self.measured_counts().filter(|&got| got < sent).count() as u64
    }

    fn measured_counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.per_receiver.iter().zip(&self.roles).filter(|&(_, &role)| role == Role::Measured).map(|(&got, _)| got)
    }

    /// The bursty member's first deliveries, if there is one.
    pub fn bursty_delivered(&self) -> Option<u64> {
        let i = self.roles.iter().position(|&role| role == Role::Bursty)?;
        Some(self.per_receiver[i])
    }

    /// Whether the bursty member (if any, and still connected) lacks some of `sent` messages.
    fn bursty_waiting(&self, sent: u64) -> bool {
        self.bursty_dropped.is_none() && self.bursty_delivered().is_some_and(|got| got < sent)
    }

    fn disconnect_note(&self) -> String {
        match &self.first_disconnect {
            Some(first) => format!("{} disconnected by the server, first: {first}", self.disconnected),
            None => "none disconnected".into(),
        }
    }
}

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

/// One connection, with retries (a full backlog or a slow accept can fail or delay a few), and
/// `SO_RCVBUF` set to `recv_buffer` before connecting when given.
async fn open_with(addr: SocketAddr, recv_buffer: Option<u32>) -> Result<Ws, String> {
    let mut last = String::new();
    for attempt in 0..CONNECT_ATTEMPTS {
        if attempt > 0 {
            sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        match timeout(CONNECT_TIMEOUT, handshake(addr, recv_buffer)).await {
            Ok(Ok(ws)) => return Ok(ws),
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no handshake within {CONNECT_TIMEOUT:?}"),
        }
    }
    Err(last)
}

async fn handshake(addr: SocketAddr, recv_buffer: Option<u32>) -> Result<Ws, String> {
    let tcp = match recv_buffer {
        None => TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?,
        // The receive buffer must be set before connecting: the window scale is agreed in the SYN.
        Some(size) => {
            let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }
                .map_err(|e| format!("socket: {e}"))?;
            socket.set_recv_buffer_size(size).map_err(|e| format!("SO_RCVBUF: {e}"))?;
            socket.connect(addr).await.map_err(|e| format!("connect: {e}"))?
        }
    };
    // Small frames must leave at once, not wait for Nagle.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER).write_buffer_size(0);
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(format!("ws://{addr}/connect"), tcp, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// A client's reader: counts every relayed frame until the connection ends or the run is over
/// (then the task is aborted). A `bursty` reader reads for `bursty.read`, then leaves the socket
/// alone for `bursty.pause`, and again.
async fn receive(
    id: usize,
    mut stream: SplitStream<Ws>,
    tally: Rc<RefCell<Tally>>,
    senders: usize,
    bursty: Option<Bursty>,
) {
    let mut seen: Vec<SeenSeqs> = (0..senders).map(|_| SeenSeqs::default()).collect();
    let mut burst_ends = bursty.map(|b| Instant::now() + b.read);
    let ended = loop {
        let next = match (bursty, burst_ends) {
            (Some(b), Some(end)) => match timeout_at(end, stream.next()).await {
                Ok(next) => next,
                // `next` is cancel safe: a frame half read stays in the stream's buffer.
                Err(_) => {
                    sleep(b.pause).await;
                    burst_ends = Some(Instant::now() + b.read);
                    continue;
                }
            },
            _ => stream.next().await,
        };
        match next {
            Some(Ok(Message::Text(text))) => tally.borrow_mut().record(id, &mut seen, text.as_str(), now_ns()),
            Some(Ok(Message::Close(frame))) => break format!("close frame {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => break e.to_string(),
            None => break "connection ended".to_string(),
        }
    };
    let mut tally = tally.borrow_mut();
    if !tally.closing {
        tally.open[id] = false;
        if bursty.is_some() {
            tally.bursty_dropped = Some(ended);
        } else {
            tally.disconnected += 1;
            tally.first_disconnect.get_or_insert_with(|| format!("client {id}: {ended}"));
        }
    }
}

/// What one sender does.
enum Plan {
    /// Message `seq` at `start + offset + seq × period`, `count` of them.
    Rate { period: Duration, offset: Duration, count: u64 },
    /// Until `start + duration`, one message per window permit.
    Window(Rc<Semaphore>),
}

/// Who a sender is, and how big its chat texts are.
struct Id {
    sender: usize,
    nonce: u32,
    /// Pad each token to this many bytes (0: not padded).
    text_bytes: usize,
}

impl Id {
    fn frame(&self, seq: u64) -> Message {
        let text = token::measured_padded(self.nonce, self.sender, seq, now_ns(), self.text_bytes);
        Message::text(token::message_json(&text))
    }
}

/// A sender. Gives up two seconds past its duration if it cannot keep its rate (the load
/// generator is overloaded), so a run always ends.
async fn send(id: Id, mut sink: Sink, plan: Plan, start: Instant, duration: Duration) -> u64 {
    let end = start + duration;
    let mut sent = 0;
    match plan {
        Plan::Rate { period, offset, count } => {
            let give_up = end + Duration::from_secs(2);
            for seq in 0..count {
                sleep_until(start + offset + period * seq as u32).await;
                if Instant::now() > give_up {
                    break;
                }
                if sink.send(id.frame(seq)).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
        Plan::Window(window) => {
            sleep_until(start).await;
            while Instant::now() < end {
                match timeout_at(end, window.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    _ => break,
                }
                if sink.send(id.frame(sent)).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    // Dropping the write half leaves the connection open: the reader holds the other half.
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(text: &str) -> String {
        format!(
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">{text}</span></li></ul>"#
        )
    }

    #[test]
    fn layouts_put_senders_first_and_the_bursty_member_last() {
        let bursty = Bursty { read: Duration::from_millis(100), pause: Duration::from_millis(200) };
        let stall = Layout { receivers: 20, senders: 1, senders_apart: true, bursty: Some(bursty) };
        assert_eq!(stall.tracked(), 22);
        assert_eq!(stall.role(0), Role::Unmeasured);
        assert!((1..=20).all(|i| stall.role(i) == Role::Measured));
        assert_eq!(stall.role(21), Role::Bursty);

        let plain = Layout { receivers: 100, senders: 10, senders_apart: false, bursty: None };
        assert_eq!(plain.tracked(), 100);
        assert!((0..100).all(|i| plain.role(i) == Role::Measured));
    }

    #[test]
    fn the_bursty_member_and_an_apart_sender_are_kept_out_of_the_percentiles() {
        let bursty = Bursty { read: Duration::from_millis(100), pause: Duration::from_millis(200) };
        let layout = Layout { receivers: 2, senders: 1, senders_apart: true, bursty: Some(bursty) };
        let mut tally = Tally::new(7, &layout);
        let mut seen: Vec<Vec<SeenSeqs>> = (0..4).map(|_| vec![SeenSeqs::default()]).collect();
        let frame = |seq, sent_ns| fragment(&token::measured_padded(7, 0, seq, sent_ns, 1024));
        // Message 0, sent at 1 ms: the sender (0), both receivers (1, 2), the bursty member (3, late).
        tally.record(0, &mut seen[0], &frame(0, 1_000_000), 2_000_000);
        tally.record(1, &mut seen[1], &frame(0, 1_000_000), 2_000_000);
        tally.record(2, &mut seen[2], &frame(0, 1_000_000), 3_000_000);
        tally.record(3, &mut seen[3], &frame(0, 1_000_000), 201_000_000);
        // A duplicate at a receiver and at the bursty member.
        tally.record(2, &mut seen[2], &frame(0, 1_000_000), 4_000_000);
        tally.record(3, &mut seen[3], &frame(0, 1_000_000), 202_000_000);

        assert_eq!(tally.unique, 2);
        assert_eq!(tally.duplicates, 1);
        assert_eq!(tally.latency.len(), 2);
        assert!(tally.latency.max() <= 2_001_000);
        assert_eq!(tally.bursty_latency.len(), 1);
        assert!(tally.bursty_latency.value_at_quantile(0.99) >= 199_000_000);
        assert_eq!(tally.bursty_duplicates, 1);
        assert_eq!(tally.bursty_delivered(), Some(1));
        assert_eq!(tally.short_receivers(1), 0);
        assert_eq!(tally.short_receivers(2), 2);
        assert!(!tally.bursty_waiting(1));
        assert!(tally.bursty_waiting(2));
        tally.bursty_dropped = Some("connection ended".into());
        assert!(!tally.bursty_waiting(2));
    }
}
