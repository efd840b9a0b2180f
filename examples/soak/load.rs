//! One run of the soak's load: the shared ledger every group writes to, starting and stopping the
//! groups, and the count at the end.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::WebSocket;

use crate::bad_frames::bad_framer;
use crate::crowd::{churner, flooder, listener, slowloris, stuck};
use crate::{BAD_FRAMERS, CHURNERS, FLOODERS, ROOMS, SLOWLORIS, STUCK};

pub type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// What the listeners saw, and what the churners sent while a listener was there.
#[derive(Default)]
pub struct Ledger {
    /// Tokens sent per room while that room's listener was connected, and confirmed: the sender
    /// saw its own message relayed back, so the server had accepted it. (A token sent on a
    /// connection the server had just cut, for not reading, was never accepted: not a loss.)
    pub sent: Vec<HashSet<String>>,
    /// Tokens received per room by its listener, with a count (to find duplicates).
    pub received: Vec<HashMap<String, u32>>,
}

pub struct Shared {
    pub addr: SocketAddr,
    pub ledger: Mutex<Ledger>,
    pub listening: Vec<AtomicBool>,
    pub stop: AtomicBool,
    pub next_token: AtomicU64,
    /// Tells this run's tokens apart from the warm-up's, which can still be in the history.
    pub run: u64,
    pub unconfirmed: AtomicU64,
    /// Churner connections the server cut (for not reading: the machine can starve a churner).
    pub cut_off: AtomicU64,
    pub joins: AtomicU64,
    pub slowloris_cut: AtomicU64,
    pub flood_notices: AtomicU64,
    /// Stuck members the server cut off, and bad frames answered with the right close code (or not).
    pub stuck_cut: AtomicU64,
    pub bad_closed: AtomicU64,
    pub bad_unexpected: AtomicU64,
}

/// What a run of the load measured.
pub struct Report {
    /// Messages whose sender's connection failed before it saw them relayed (not counted).
    pub unconfirmed: u64,
    pub sent: usize,
    pub received: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub joins: u64,
    pub slowloris_cut: u64,
    pub flood_notices: u64,
    pub stuck_cut: u64,
    pub bad_closed: u64,
    pub bad_unexpected: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages sent and confirmed while observed, {} received, {} lost, {} duplicated ({} unconfirmed: \
             their sender was cut off first); {} joins; {} slowloris heads cut off; {} flood notices; \
             {} stuck members cut off; {} bad frames closed with the right code, {} otherwise",
            self.sent,
            self.received,
            self.lost,
            self.duplicated,
            self.unconfirmed,
            self.joins,
            self.slowloris_cut,
            self.flood_notices,
            self.stuck_cut,
            self.bad_closed,
            self.bad_unexpected
        )
    }
}

/// Runs every group against `addr` for `duration`, then stops them all and counts.
pub fn run_load(addr: SocketAddr, duration: Duration) -> Report {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let shared = Arc::new(Shared {
        run: RUNS.fetch_add(1, Ordering::Relaxed),
        unconfirmed: AtomicU64::new(0),
        cut_off: AtomicU64::new(0),
        addr,
        ledger: Mutex::new(Ledger { sent: vec![HashSet::new(); ROOMS], received: vec![HashMap::new(); ROOMS] }),
        listening: (0..ROOMS).map(|_| AtomicBool::new(false)).collect(),
        stop: AtomicBool::new(false),
        next_token: AtomicU64::new(0),
        joins: AtomicU64::new(0),
        slowloris_cut: AtomicU64::new(0),
        flood_notices: AtomicU64::new(0),
        stuck_cut: AtomicU64::new(0),
        bad_closed: AtomicU64::new(0),
        bad_unexpected: AtomicU64::new(0),
    });
    let listen_until = Arc::new(AtomicBool::new(false));
    let mut listeners = Vec::new();
    for room in 0..ROOMS {
        let (shared, until) = (shared.clone(), listen_until.clone());
        listeners.push(spawn(format!("listener-{room}"), move || listener(&shared, room, &until)));
    }
    for room in 0..ROOMS {
        while !shared.listening[room].load(Ordering::Acquire) {
            thread::sleep(Duration::from_millis(10));
        }
    }
    let mut workers = Vec::new();
    for i in 0..CHURNERS {
        let shared = shared.clone();
        workers.push(spawn(format!("churner-{i}"), move || churner(&shared, i)));
    }
    for i in 0..SLOWLORIS {
        let shared = shared.clone();
        workers.push(spawn(format!("slowloris-{i}"), move || slowloris(&shared, i)));
    }
    for i in 0..FLOODERS {
        let shared = shared.clone();
        workers.push(spawn(format!("flooder-{i}"), move || flooder(&shared, i)));
    }
    for i in 0..STUCK {
        let shared = shared.clone();
        workers.push(spawn(format!("stuck-{i}"), move || stuck(&shared, i)));
    }
    for i in 0..BAD_FRAMERS {
        let shared = shared.clone();
        workers.push(spawn(format!("bad-frames-{i}"), move || bad_framer(&shared, i)));
    }
    let started = Instant::now();
    while started.elapsed() < duration {
        thread::sleep(Duration::from_millis(200));
    }
    shared.stop.store(true, Ordering::Release);
    for worker in workers {
        let _ = worker.join();
    }
    // The churners are gone; the listeners now drain what is still on its way, then leave.
    listen_until.store(true, Ordering::Release);
    for listener in listeners {
        let _ = listener.join();
    }
    println!("soak: {} churner connections were cut off by the server", shared.cut_off.load(Ordering::Relaxed));
    let ledger = shared.ledger.lock().unwrap();
    let (mut sent, mut received, mut lost, mut duplicated) = (0, 0, 0, 0);
    for room in 0..ROOMS {
        sent += ledger.sent[room].len();
        received += ledger.received[room].len();
        lost += ledger.sent[room].iter().filter(|t| !ledger.received[room].contains_key(*t)).count();
        duplicated += ledger.received[room].values().filter(|&&n| n > 1).count();
    }
    Report {
        unconfirmed: shared.unconfirmed.load(Ordering::Relaxed),
        sent,
        received,
        lost,
        duplicated,
        joins: shared.joins.load(Ordering::Relaxed),
        slowloris_cut: shared.slowloris_cut.load(Ordering::Relaxed),
        flood_notices: shared.flood_notices.load(Ordering::Relaxed),
        stuck_cut: shared.stuck_cut.load(Ordering::Relaxed),
        bad_closed: shared.bad_closed.load(Ordering::Relaxed),
        bad_unexpected: shared.bad_unexpected.load(Ordering::Relaxed),
    }
}

pub fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new().name(name).stack_size(256 * 1024).spawn(f).expect("spawn")
}

pub fn connect(shared: &Shared, path: &str) -> Option<Socket> {
    let url = format!("ws://{}{path}", shared.addr);
    let (ws, _) = tungstenite::connect(url.as_str()).ok()?;
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    }
    shared.joins.fetch_add(1, Ordering::Relaxed);
    Some(ws)
}

/// The token inside a live chat fragment: `<span class="text">soak:R:N</span>`. The welcome (the
/// history replayed on joining) is not a delivery, and is skipped.
pub fn token_of(fragment: &str) -> Option<&str> {
    if !fragment.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message""#) {
        return None;
    }
    let start = fragment.find(r#"<span class="text">soak:"#)? + r#"<span class="text">"#.len();
    let end = fragment[start..].find("</span>")?;
    Some(&fragment[start..start + end])
}
