//! The clients: N WebSocket connections to the room, each read by its own task on one
//! current-thread runtime, and K of them also sending.
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
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

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

/// What the receivers have seen, shared by every task of one run.
pub struct Tally {
    nonce: u32,
    /// Send-to-receive time of every first delivery, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Deliveries seen for the first time by their receiver.
    pub unique: u64,
    /// Deliveries of a token the receiver had already seen.
    pub duplicates: u64,
    /// Chat texts that are not this run's tokens.
    pub foreign: u64,
    /// First deliveries per receiver.
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
    /// Connections that ended before the run did, and why the first one ended.
    pub disconnected: usize,
    pub first_disconnect: Option<String>,
    /// Set at teardown, so that the ends we cause are not counted as disconnects.
    closing: bool,
    /// Saturation mode: each sender's in-flight window, refilled when its own echo comes back.
    windows: Vec<Rc<Semaphore>>,
}

impl Tally {
    fn new(nonce: u32, clients: usize) -> Tally {
        Tally {
            nonce,
            latency: Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds"),
            unique: 0,
            duplicates: 0,
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
                    if !from.first_time(seq) {
                        self.duplicates += 1;
                        continue;
                    }
                    self.unique += 1;
                    self.per_receiver[receiver] += 1;
                    self.latency.saturating_record(now.saturating_sub(sent_ns).max(1));
                    self.last_delivery_ns = now;
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

/// N connected clients in the room; the first K are the senders.
pub struct Clients {
    pub tally: Rc<RefCell<Tally>>,
    receivers: Vec<JoinHandle<()>>,
    sinks: Vec<Sink>,
    pub connect_time: Duration,
}

impl Clients {
    /// Opens `n` connections to `ws://ADDR/connect`, at most [`CONNECT_CONCURRENCY`] at a time,
    /// and starts each one's reader as soon as it is open (a server may send on join).
    pub async fn connect(addr: SocketAddr, n: usize, senders: usize, nonce: u32) -> Result<Clients, String> {
        let started = Instant::now();
        // Built first, so that every early return drops it and so stops the readers started so far.
        let mut clients = Clients {
            tally: Rc::new(RefCell::new(Tally::new(nonce, n))),
            receivers: Vec::with_capacity(n),
            sinks: Vec::new(),
            connect_time: Duration::ZERO,
        };
        let mut sinks: Vec<Option<Sink>> = (0..senders).map(|_| None).collect();
        let mut failed = 0usize;
        let mut first_error = None;

        let mut opening = futures_util::stream::iter(0..n)
            .map(|i| async move { (i, open(addr).await) })
            .buffer_unordered(CONNECT_CONCURRENCY);
        let deadline = started + CONNECT_PHASE_LIMIT;
        loop {
            let next = match timeout_at(deadline, opening.next()).await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(_) => {
                    return Err(format!(
                        "connecting {n} clients took over {CONNECT_PHASE_LIMIT:?} ({} open)",
                        clients.len()
                    ))
                }
            };
            // A server that drops clients while others are still joining will not carry the room.
            let dropped = clients.tally.borrow().disconnected;
            if dropped > n / 20 {
                return Err(format!(
                    "the server dropped {dropped} of the first {} clients while the rest were still connecting ({})",
                    clients.len(),
                    clients.tally.borrow().disconnect_note()
                ));
            }
            match next {
                (i, Ok(ws)) => {
                    let (sink, stream) = ws.split();
                    if i < senders {
                        sinks[i] = Some(sink);
                    }
                    let reader = tokio::task::spawn_local(receive(i, stream, clients.tally.clone(), senders));
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

    pub fn len(&self) -> usize {
        self.receivers.len()
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
    /// `duration`. Each task returns how many messages it sent.
    pub fn start_senders(&mut self, pace: Pace, start: Instant, duration: Duration) -> Vec<JoinHandle<u64>> {
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
                tokio::task::spawn_local(send(i, sink, nonce, plan, start, duration))
            })
            .collect()
    }

    /// Waits until `expected` first deliveries have arrived, or `limit` has passed.
    pub async fn drain(&self, expected: u64, limit: Duration) -> Duration {
        let started = Instant::now();
        while self.tally.borrow().unique < expected && started.elapsed() < limit {
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

/// One connection, with retries (a full backlog or a slow accept can fail or delay a few).
async fn open(addr: SocketAddr) -> Result<Ws, String> {
    let mut last = String::new();
    for attempt in 0..CONNECT_ATTEMPTS {
        if attempt > 0 {
            sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        match timeout(CONNECT_TIMEOUT, handshake(addr)).await {
            Ok(Ok(ws)) => return Ok(ws),
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no handshake within {CONNECT_TIMEOUT:?}"),
        }
    }
    Err(last)
}

async fn handshake(addr: SocketAddr) -> Result<Ws, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    // Small frames must leave at once, not wait for Nagle.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER).write_buffer_size(0);
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(format!("ws://{addr}/connect"), tcp, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// A client's reader: counts every relayed frame until the connection ends or the run is over.
async fn receive(id: usize, mut stream: SplitStream<Ws>, tally: Rc<RefCell<Tally>>, senders: usize) {
    let mut seen: Vec<SeenSeqs> = (0..senders).map(|_| SeenSeqs::default()).collect();
    let ended = loop {
        match stream.next().await {
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
        tally.disconnected += 1;
        tally.first_disconnect.get_or_insert_with(|| format!("client {id}: {ended}"));
    }
}

/// What one sender does.
enum Plan {
    /// Message `seq` at `start + offset + seq × period`, `count` of them.
    Rate { period: Duration, offset: Duration, count: u64 },
    /// Until `start + duration`, one message per window permit.
    Window(Rc<Semaphore>),
}

/// A sender. Gives up two seconds past its duration if it cannot keep its rate (the load
/// generator is overloaded), so a run always ends.
async fn send(id: usize, mut sink: Sink, nonce: u32, plan: Plan, start: Instant, duration: Duration) -> u64 {
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
                let text = token::message_json(&token::measured(nonce, id, seq, now_ns()));
                if sink.send(Message::text(text)).await.is_err() {
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
                let text = token::message_json(&token::measured(nonce, id, sent, now_ns()));
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    // Dropping the write half leaves the connection open: the reader holds the other half.
    sent
}
