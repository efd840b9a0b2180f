//! The soak test: a long, hostile, changing crowd against one real server, then a leak check.
//!
//! ```sh
//! cargo run --release --example soak                  # 10 minutes (the documented run)
//! cargo run --release --example soak -- --minutes 1   # a shorter look
//! ```
//!
//! It starts the release binary on 127.0.0.1 (own data dir, `--max-per-ip 0` because every client
//! comes from loopback; everything else at its defaults, the rate limit included), and runs, all at
//! once, for the whole duration:
//! - **500 churners** in 5 rooms: each connects, says a few things at a polite pace, leaves,
//!   pauses, and comes back as someone else, over and over;
//! - **5 listeners**, one per room, connected throughout: the loss oracle. Every message a
//!   churner sent while its room's listener was there must reach that listener, exactly once;
//! - **50 slowloris connections** dribbling a request head a byte at a time (the server's 10 s
//!   head deadline must cut each off; they reconnect);
//! - **5 flooders** sending far over the rate limit (the server must drop their excess and the
//!   rooms must not notice);
//! - **20 stuck members**, 4 per room, with a small receive buffer, that never read: the server
//!   must drop each once it is far behind, without the room waiting for it; they come back;
//! - **5 bad framers**, each opening connection after connection and sending something a server
//!   must refuse (invalid UTF-8, a binary message, an oversized frame, endless empty fragments, a
//!   forbidden close code): each must get its Close with the right code.
//!
//! Before the soak a one-minute warm-up of the same load runs and ends; the server's threads, file
//! descriptors and RSS are read once everyone has gone (the start), and again after the soak once
//! everyone has gone (the end). It fails (exit 1) if any message was lost or doubled, or if a
//! figure at the end is more than 5% above the start. Every loop is bounded by the deadline, and
//! only 127.0.0.1 is ever contacted.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

const ROOMS: usize = 5;
const CHURNERS: usize = 500;
const SLOWLORIS: usize = 50;
const FLOODERS: usize = 5;
const STUCK: usize = 20;
const BAD_FRAMERS: usize = 5;

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// What the listeners saw, and what the churners sent while a listener was there.
#[derive(Default)]
struct Ledger {
    /// Tokens sent per room while that room's listener was connected, and confirmed: the sender
    /// saw its own message relayed back, so the server had accepted it. (A token sent on a
    /// connection the server had just cut, for not reading, was never accepted: not a loss.)
    sent: Vec<HashSet<String>>,
    /// Tokens received per room by its listener, with a count (to find duplicates).
    received: Vec<HashMap<String, u32>>,
}

struct Shared {
    addr: SocketAddr,
    ledger: Mutex<Ledger>,
    listening: Vec<AtomicBool>,
    stop: AtomicBool,
    next_token: AtomicU64,
    /// Tells this run's tokens apart from the warm-up's, which can still be in the history.
    run: u64,
    unconfirmed: AtomicU64,
    /// Churner connections the server cut (for not reading: the machine can starve a churner).
    cut_off: AtomicU64,
    joins: AtomicU64,
    slowloris_cut: AtomicU64,
    flood_notices: AtomicU64,
    /// Stuck members the server cut off, and bad frames answered with the right close code (or not).
    stuck_cut: AtomicU64,
    bad_closed: AtomicU64,
    bad_unexpected: AtomicU64,
}

fn main() {
    let mut minutes = 10.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => minutes = args.next().and_then(|v| v.parse().ok()).expect("--minutes N"),
            other => panic!("unknown argument {other} (use --minutes N)"),
        }
    }
    raise_open_files_limit();
    let binary = std::env::var("CHATROOM_BIN").unwrap_or_else(|_| "target/release/chatroom".into());
    let data = std::env::temp_dir().join(format!("chatroom-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (mut server, addr) = start_server(&binary, &data);
    let pid = server.id();
    println!(
        "soak: server pid {pid} on {addr}; {CHURNERS} churners in {ROOMS} rooms, {SLOWLORIS} slowloris, \
         {FLOODERS} flooders, {STUCK} stuck members, {BAD_FRAMERS} bad framers"
    );

    // Warm-up, so that the start figures include what a server keeps once it has been busy:
    // glibc's cache of thread stacks (up to 40 MiB of them, each keeping a page or two) and its
    // arenas reach their working size in the first minute.
    run_load(addr, Duration::from_secs(60));
    let start = settle(pid);
    println!("soak: start (after a 60 s warm-up, everyone gone): {start}");

    let duration = Duration::from_secs_f64(minutes * 60.0);
    println!("soak: running for {minutes} minutes");
    let report = run_load(addr, duration);
    let end = settle(pid);
    println!("soak: end (everyone gone): {end}");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
    let _ = std::fs::remove_file(data.with_extension("log"));

    println!("soak: {report}");
    println!(
        "soak: server log: {} members dropped for not reading, {} panics, {} connections refused",
        log.matches("dropped: stopped reading").count(),
        log.matches("panicked").count(),
        log.matches("refused: 503").count()
    );
    if log.contains("panicked") {
        println!("soak: FAIL: the server panicked");
        std::process::exit(1);
    }
    let mut failed = Vec::new();
    if report.lost > 0 || report.duplicated > 0 {
        failed.push(format!("{} lost, {} duplicated", report.lost, report.duplicated));
    }
    if report.bad_unexpected > 0 {
        failed.push(format!("{} bad frames not answered with their close code", report.bad_unexpected));
    }
    for (what, a, b) in
        [("threads", start.threads, end.threads), ("fds", start.fds, end.fds), ("RSS KiB", start.rss_kib, end.rss_kib)]
    {
        let limit = (a as f64 * 1.05).ceil() as u64;
        let ok = b <= limit;
        println!(
            "soak: {what:8} start {a:>8}  end {b:>8}  ({:+.1}%) {}",
            (b as f64 - a as f64) * 100.0 / a.max(1) as f64,
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            failed.push(format!("{what} grew from {a} to {b}"));
        }
    }
    if failed.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", failed.join("; "));
        std::process::exit(1);
    }
}

/// What a run of the load measured.
struct Report {
    /// Messages whose sender's connection failed before it saw them relayed (not counted).
    unconfirmed: u64,
    sent: usize,
    received: usize,
    lost: usize,
    duplicated: usize,
    joins: u64,
    slowloris_cut: u64,
    flood_notices: u64,
    stuck_cut: u64,
    bad_closed: u64,
    bad_unexpected: u64,
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
fn run_load(addr: SocketAddr, duration: Duration) -> Report {
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

fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new().name(name).stack_size(256 * 1024).spawn(f).expect("spawn")
}

fn connect(shared: &Shared, path: &str) -> Option<Socket> {
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
fn token_of(fragment: &str) -> Option<&str> {
    if !fragment.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message""#) {
        return None;
    }
    let start = fragment.find(r#"<span class="text">soak:"#)? + r#"<span class="text">"#.len();
    let end = fragment[start..].find("</span>")?;
    Some(&fragment[start..start + end])
}

fn listener(shared: &Shared, room: usize, until: &AtomicBool) {
    let mut ws = connect(shared, &format!("/r/soak{room}/connect?name=listener")).expect("listener connects");
    shared.listening[room].store(true, Ordering::Release);
    let mut quiet_since = Instant::now();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                quiet_since = Instant::now();
                if let Some(token) = token_of(text.as_str()) {
                    *shared.ledger.lock().unwrap().received[room].entry(token.to_string()).or_insert(0) += 1;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Done once told to stop and nothing has come for a while.
                if until.load(Ordering::Acquire) && quiet_since.elapsed() > Duration::from_secs(2) {
                    break;
                }
            }
            Err(e) => panic!("listener {room} lost its connection: {e}"),
        }
    }
    shared.listening[room].store(false, Ordering::Release);
    let _ = ws.close(None);
    let _ = ws.flush();
}

/// Connect, say 2–5 things a second apart, leave, pause, repeat: as someone new each time.
fn churner(shared: &Shared, i: usize) {
    let mut round = 0u64;
    while !shared.stop.load(Ordering::Acquire) {
        round += 1;
        let room = (i + round as usize) % ROOMS;
        let Some(mut ws) = connect(shared, &format!("/r/soak{room}/connect?name=c{i}-{round}")) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let says = 2 + (i + round as usize) % 4;
        let mut cut_off = false;
        for _ in 0..says {
            if shared.stop.load(Ordering::Acquire) {
                break;
            }
            let token = format!("soak:{}:{}", shared.run, shared.next_token.fetch_add(1, Ordering::Relaxed));
            let observed = shared.listening[room].load(Ordering::Acquire);
            let json = format!(r#"{{"message":"{token}"}}"#);
            if ws.send(Message::text(json)).is_err() {
                shared.unconfirmed.fetch_add(1, Ordering::Relaxed);
                cut_off = true;
                break;
            }
            // Read (and so keep up with the room) for about a second, watching for our own echo.
            let mut confirmed = false;
            let until = Instant::now() + Duration::from_millis(1000);
            while Instant::now() < until || !confirmed {
                match ws.read() {
                    Ok(Message::Text(text)) => {
                        if token_of(text.as_str()) == Some(token.as_str()) {
                            confirmed = true;
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
                if Instant::now() > until + Duration::from_secs(10) {
                    break;
                }
            }
            if !confirmed {
                shared.unconfirmed.fetch_add(1, Ordering::Relaxed);
                cut_off = true;
                break;
            }
            if observed && shared.listening[room].load(Ordering::Acquire) {
                shared.ledger.lock().unwrap().sent[room].insert(token);
            }
        }
        if cut_off {
            shared.cut_off.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let _ = ws.close(None);
        // Read until the server's Close comes back (bounded).
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        thread::sleep(Duration::from_millis(100 + (i as u64 * 37 + round * 11) % 900));
    }
}

/// A request head, one byte every 500 ms, for ever (the server must cut it off).
fn slowloris(shared: &Shared, i: usize) {
    let head = b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    while !shared.stop.load(Ordering::Acquire) {
        let Ok(mut stream) = TcpStream::connect(shared.addr) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut answer = Vec::new();
        for (n, byte) in head.iter().cycle().enumerate() {
            if shared.stop.load(Ordering::Acquire) || n > 10_000 {
                break;
            }
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            let mut buf = [0u8; 512];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => answer.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if answer.starts_with(b"HTTP/1.1 408") {
                shared.slowloris_cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        let _ = i;
    }
}

/// Sends far over the rate limit (bounded to 200 a second), reading what comes back.
fn flooder(shared: &Shared, i: usize) {
    let Some(mut ws) = connect(shared, &format!("/r/soak{}/connect?name=flood{i}", i % ROOMS)) else {
        eprintln!("soak: flooder {i} could not connect");
        return;
    };
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        let _ = s.set_read_timeout(Some(Duration::from_millis(1)));
    }
    let mut n = 0u64;
    while !shared.stop.load(Ordering::Acquire) {
        n += 1;
        if ws.send(Message::text(format!(r#"{{"message":"flood {i} {n}"}}"#))).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(5));
        // Read what has come (the room is busy: bounded, so that flooding goes on).
        for _ in 0..100 {
            match ws.read() {
                Ok(Message::Text(text)) if text.contains("sending too fast") => {
                    shared.flood_notices.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    eprintln!("soak: flooder {i}: {e}");
                    return;
                }
            }
        }
    }
    let _ = ws.close(None);
    let _ = ws.flush();
}

/// Joins a room over a connection with a small receive buffer and never reads: the room's traffic
/// piles up until the server drops it. Then it comes back, until the soak ends.
fn stuck(shared: &Shared, i: usize) {
    while !shared.stop.load(Ordering::Acquire) {
        let Some(stream) = connect_small(shared.addr) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let url = format!("ws://{}/r/soak{}/connect?name=stuck{i}", shared.addr, i % ROOMS);
        let Ok((mut ws, _)) = tungstenite::client(url.as_str(), stream) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        shared.joins.fetch_add(1, Ordering::Relaxed);
        // Write now and then, never read: once the server has cut the connection, a write fails.
        loop {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            thread::sleep(Duration::from_millis(500));
            if ws.send(Message::Ping(Vec::new().into())).is_err() {
                shared.stuck_cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// A TCP connection whose receive buffer is small from the start (set before connecting).
fn connect_small(addr: SocketAddr) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(v4) = addr else { return None };
    // SAFETY: a socket we create and hand to TcpStream, which owns it from there on; the
    // sockaddr_in is fully initialised and its size is passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return None;
        }
        let stream = TcpStream::from_raw_fd(fd);
        let size: libc::c_int = 4096;
        let size_ptr = &size as *const libc::c_int as *const libc::c_void;
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size_ptr, std::mem::size_of::<libc::c_int>() as _);
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() },
            sin_zero: [0; 8],
        };
        let sin_ptr = &sin as *const libc::sockaddr_in as *const libc::sockaddr;
        (libc::connect(fd, sin_ptr, std::mem::size_of::<libc::sockaddr_in>() as _) == 0).then_some(stream)
    }
}

/// One masked client frame (RFC 6455 §5.2): `byte0` (FIN and opcode) and `payload`; `len` may
/// claim more than the payload (a header-only oversized frame).
fn client_frame(byte0: u8, payload: &[u8], len: u64) -> Vec<u8> {
    let mut frame = vec![byte0];
    match len {
        0..=125 => frame.push(0x80 | len as u8),
        126..=65_535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&len.to_be_bytes());
        }
    }
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Opens connection after connection, each sending one thing a server must refuse, and checks
/// that the server's Close carries the code RFC 6455 §7.4.1 gives for it.
fn bad_framer(shared: &Shared, i: usize) {
    let endless = [client_frame(0x01, b"a", 1), client_frame(0x00, b"", 0).repeat(40_000)].concat();
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("invalid UTF-8", client_frame(0x81, b"hi\xff", 3), 1007),
        ("binary", client_frame(0x82, b"\x01\x02", 2), 1003),
        ("oversized", client_frame(0x81, b"", 1 << 20), 1009),
        ("endless fragments", endless, 1009),
        ("close code 999", client_frame(0x88, &999u16.to_be_bytes(), 2), 1002),
    ];
    let mut n = i;
    while !shared.stop.load(Ordering::Acquire) {
        n += 1;
        let (what, bytes, code) = &cases[n % cases.len()];
        match refused_with(shared.addr, &format!("/r/soak{}/connect?name=bad{i}", n % ROOMS), bytes) {
            Some(got) if got == *code => {
                shared.bad_closed.fetch_add(1, Ordering::Relaxed);
            }
            Some(got) => {
                eprintln!("soak: bad framer {i}: {what} got close {got}, not {code}");
                shared.bad_unexpected.fetch_add(1, Ordering::Relaxed);
            }
            // No answer at all: the machine may be starved, or the connection refused; not a
            // wrong answer, but not a right one either.
            None => {}
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Upgrades by hand, sends `bytes`, and returns the code of the first Close frame the server
/// sends back (skipping the welcome and the room's traffic), if one comes within 10 s.
fn refused_with(addr: SocketAddr, path: &str, bytes: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return None;
    }
    let _ = stream.write_all(bytes);
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).ok()?;
        let len = match header[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).ok()?;
                u16::from_be_bytes(ext) as usize
            }
            127 => {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).ok()?;
                u64::from_be_bytes(ext) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).ok()?;
        if header[0] & 0x0f == 0x8 {
            return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
        }
    }
    None
}

/// Threads, file descriptors and RSS of a process.
struct Figures {
    threads: u64,
    fds: u64,
    rss_kib: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} threads, {} fds, {} KiB RSS", self.threads, self.fds, self.rss_kib)
    }
}

fn figures(pid: u32) -> Figures {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("server status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0);
    Figures { threads: field("Threads:"), fds, rss_kib: field("VmRSS:") }
}

/// Waits (at most 30 s) until the server is down to its own few threads, then a little longer
/// for its housekeeping to hand freed memory back (it does every 5 s), then reads the figures.
fn settle(pid: u32) -> Figures {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let now = figures(pid);
        if now.threads <= 5 || Instant::now() > until {
            thread::sleep(Duration::from_secs(6));
            return figures(pid);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn start_server(binary: &str, data: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = Command::new(binary)
        .args(["--bind", "127.0.0.1:0", "--max-per-ip", "0", "--data-dir"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.with_extension("log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e} (build it with cargo build --release)"));
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("listening line");
    let addr =
        first.trim().strip_prefix("chatroom listening on http://").expect("listening line").parse().expect("address");
    (child, addr)
}

fn raise_open_files_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
