//! `GET /metrics`: counters in the Prometheus text exposition format (version 0.0.4).
//!
//! The counters are process-wide atomics, bumped with relaxed ordering: a scrape reads each one
//! independently, and nothing else depends on them. On the relay path they are bumped once per
//! *message*, never once per delivery, so they cost nothing measurable (see `room.rs`). A scrape
//! takes no room lock except for a moment per room to count its members.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// A monotonically increasing count.
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Chat messages accepted and relayed (one per message, however many members got it).
pub static MESSAGES_RELAYED: Counter = Counter::new();
/// Relays of chat messages: each writes a batch of one or more messages to every member, so
/// `MESSAGES_RELAYED / RELAYS` is the average batch (see `Room::relay_posted`).
pub static RELAYS: Counter = Counter::new();
/// Frames written to members by relays (message × members).
pub static DELIVERIES: Counter = Counter::new();
/// Bytes written to members by relays.
pub static BYTES_SENT: Counter = Counter::new();
/// Members dropped because they stopped reading: their send buffer was full.
pub static DROPPED_SLOW: Counter = Counter::new();
/// Frames dropped by the rate limit.
pub static RATE_LIMITED: Counter = Counter::new();
/// Failed appends to a history log.
pub static HISTORY_WRITE_ERRORS: Counter = Counter::new();
/// Connections answered 503 by the connection caps.
pub static REFUSED: Counter = Counter::new();
/// Connections accepted (admitted or not).
pub static ACCEPTED: Counter = Counter::new();

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the process, for `chatroom_uptime_seconds`.
pub fn start_clock() {
    STARTED.get_or_init(Instant::now);
}

/// What a scrape reads off the server at that moment (the counters above are read directly).
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Open TCP connections, of every kind.
    pub connections: usize,
    /// Of those, the WebSockets.
    pub websockets: usize,
    /// Public rooms known to the server (private ones are not counted: see `http::api`).
    pub rooms: usize,
    /// Members in all rooms.
    pub members: usize,
}

/// The whole exposition, as text.
pub fn render(gauges: Gauges) -> String {
    let (open, websockets) = (gauges.connections as u64, gauges.websockets as u64);
    let (rooms, members) = (gauges.rooms, gauges.members);
    let uptime = STARTED.get().map_or(0.0, |t| t.elapsed().as_secs_f64());

    let mut out = String::with_capacity(2048);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
        let _ = writeln!(out, "# HELP chatroom_{name} {help}\n# TYPE chatroom_{name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "chatroom_{name}{labels} {value}");
        }
    };
    metric(
        "connections_open",
        "gauge",
        "Open TCP connections, by kind: plain HTTP (including not yet upgraded) or WebSocket.",
        &[
            (r#"{kind="http"}"#, open.saturating_sub(websockets).to_string()),
            (r#"{kind="websocket"}"#, websockets.to_string()),
        ],
    );
    metric("connections_accepted_total", "counter", "TCP connections accepted.", &[("", ACCEPTED.get().to_string())]);
    metric(
        "connections_refused_total",
        "counter",
        "Connections answered 503 because of --max-connections or --max-per-ip.",
        &[("", REFUSED.get().to_string())],
    );
    metric(
        "rooms",
        "gauge",
        "Public rooms known to the server (with members or history); private rooms are not counted.",
        &[("", rooms.to_string())],
    );
    metric("members", "gauge", "Members in all rooms.", &[("", members.to_string())]);
    metric(
        "messages_relayed_total",
        "counter",
        "Chat messages relayed (once per message).",
        &[("", MESSAGES_RELAYED.get().to_string())],
    );
    metric(
        "relays_total",
        "counter",
        "Relays of chat messages; each writes one batch of one or more messages to every member.",
        &[("", RELAYS.get().to_string())],
    );
    metric(
        "deliveries_total",
        "counter",
        "Frames written to members by relays.",
        &[("", DELIVERIES.get().to_string())],
    );
    metric("bytes_sent_total", "counter", "Bytes written to members by relays.", &[("", BYTES_SENT.get().to_string())]);
    metric(
        "members_dropped_slow_total",
        "counter",
        "Members dropped because they stopped reading (their send buffer was full).",
        &[("", DROPPED_SLOW.get().to_string())],
    );
    metric(
        "rate_limited_total",
        "counter",
        "Frames dropped by the per-connection rate limit.",
        &[("", RATE_LIMITED.get().to_string())],
    );
    metric(
        "history_write_errors_total",
        "counter",
        "Failed appends to a room's history log.",
        &[("", HISTORY_WRITE_ERRORS.get().to_string())],
    );
    let heap = crate::sys::heap_usage();
    metric(
        "heap_in_use_bytes",
        "gauge",
        "Bytes in live heap allocations (a leak grows this).",
        &[("", heap.in_use.to_string())],
    );
    metric(
        "heap_held_bytes",
        "gauge",
        "Bytes the allocator holds from the kernel for the heap, freed memory kept for reuse included.",
        &[("", heap.held.to_string())],
    );
    metric("uptime_seconds", "gauge", "Seconds since the server started.", &[("", format!("{uptime:.3}"))]);
    out
}
