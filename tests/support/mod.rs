//! Test helpers: start the real `chatroom` binary on 127.0.0.1:0, talk to it over real sockets,
//! and wait for things with timeouts (never fixed sleeps).
#![allow(dead_code)] // each test file uses a different part of this module

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use chatroom::protocol::json::{self, Entry, Event, HistoryPage, RoomList};
use chatroom::protocol::{ChatMessage, ClientEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub mod upload;

/// How long any single wait in a test may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server process. Killed when dropped.
pub struct TestServer {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    /// The data dir made for this server, unless the test gave `--data-dir` or `--memory`.
    data: Option<TempDir>,
}

impl TestServer {
    /// Starts `chatroom --bind 127.0.0.1:0 ARGS...` and waits for its listening line.
    pub fn start(args: &[&str]) -> TestServer {
        Self::start_with_env(args, &[])
    }

    /// Like [`TestServer::start`], with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> TestServer {
        Self::start_full(args, env, None)
    }

    /// Like [`TestServer::start`], with both open-files limits (soft and hard) set to `files`, so
    /// that the server cannot raise them.
    pub fn start_with_open_files(args: &[&str], files: u64) -> TestServer {
        Self::start_full(args, &[], Some(files))
    }

    fn start_full(args: &[&str], env: &[(&str, &str)], open_files: Option<u64>) -> TestServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatroom"));
        if let Some(files) = open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
            unsafe {
                command.pre_exec(move || {
                    let limit = libc::rlimit { rlim_cur: files, rlim_max: files };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        if !args.contains(&"--bind") {
            command.args(["--bind", "127.0.0.1:0"]);
        }
        // Every server gets its own fresh data dir, so tests never share history.
        let data = (!args.contains(&"--data-dir") && !args.contains(&"--memory")).then(|| TempDir::new("data"));
        if let Some(dir) = &data {
            command.arg("--data-dir").arg(dir.path());
        }
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start chatroom");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = stderr.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {} // keep the pipe drained
        });
        let first = match rx.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not print its listening line; stderr:\n{}", stderr.lock().unwrap());
            }
        };
        let addr = first
            .strip_prefix("chatroom listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .expect("address in the first line");
        TestServer { child, addr, stderr, data }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many file descriptors the server has open now (sockets, logs, the standard streams).
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|dir| dir.count()).unwrap_or(0)
    }

    /// The data dir this server was given by [`TestServer::start`], if it made one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_ref().map(TempDir::path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the server's stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str) -> String {
        wait_until(&format!("log line containing {needle:?}"), || {
            let log = self.log();
            log.contains(needle).then_some(log)
        })
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Waits for the process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_for_exit(&mut self.child, timeout)
    }
}

/// Waits for `child` to exit, up to `timeout`; `None` if it is still running.
pub fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server stderr ---\n{}", self.log());
        }
    }
}

/// Polls `check` until it returns `Some`, failing the test after [`TIMEOUT`].
pub fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A WebSocket test client over a plain TCP stream.
pub struct Client {
    pub ws: WebSocket<MaybeTlsStream<TcpStream>>,
    /// Room lists (`rooms` events) that came while the test waited for something else: the
    /// server sends them to everyone when the list changes, whatever else is going on, so the
    /// reads below set them aside (see [`Client::recv_room_list`]).
    room_lists: std::collections::VecDeque<String>,
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:1234/connect`).
    pub fn connect(url: &str) -> Client {
        Self::try_connect(url, &[]).unwrap_or_else(|e| panic!("connect {url}: {e}"))
    }

    /// Connects with extra request headers; returns the handshake error instead of panicking.
    pub fn try_connect(url: &str, headers: &[(&str, &str)]) -> Result<Client, tungstenite::Error> {
        let mut request = url.into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        let (ws, _response) = tungstenite::connect(request)?;
        let client = Client { ws, room_lists: Default::default() };
        client.stream().set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        Ok(client)
    }

    /// Connects to a chat room's WebSocket and reads the welcome frame (history, roster, name),
    /// which is always the first frame a member gets; returns the client and the welcome.
    pub fn join(url: &str) -> (Client, String) {
        let mut client = Client::connect(url);
        let welcome = client.recv_raw_text();
        (client, welcome)
    }

    /// Connects to a chat room as a JSON client (subprotocol `chatroom.json`).
    pub fn connect_json(url: &str) -> Client {
        Self::try_connect(url, &[("Sec-WebSocket-Protocol", "chatroom.json")])
            .unwrap_or_else(|e| panic!("connect {url}: {e}"))
    }

    /// The next text message, read as a JSON event (see [`parse_event`]); fails the test after
    /// [`TIMEOUT`].
    pub fn recv_event(&mut self) -> Event<'static> {
        parse_event(&self.recv_raw_text())
    }

    /// Reads JSON events until `wanted` says yes; returns that event. Fails the test if none does
    /// within [`TIMEOUT`].
    pub fn recv_event_where(&mut self, wanted: impl FnMut(&Event<'static>) -> bool) -> Event<'static> {
        self.recv_event_text_where(wanted).0
    }

    /// Like [`Client::recv_event_where`], and the event's text too, exactly as the server wrote
    /// it (for tests that compare bytes, and read the event only to know which one it is).
    pub fn recv_event_text_where(
        &mut self,
        mut wanted: impl FnMut(&Event<'static>) -> bool,
    ) -> (Event<'static>, String) {
        let until = Instant::now() + TIMEOUT;
        let mut skipped = Vec::new();
        loop {
            let text = match self.recv_within(until.saturating_duration_since(Instant::now())) {
                Some(Message::Text(text)) => text.to_string(),
                Some(other) => panic!("expected a JSON event, got {other:?}"),
                None => panic!("no such event within {TIMEOUT:?}; got only {skipped:#?}"),
            };
            let event = parse_event(&text);
            if wanted(&event) {
                return (event, text);
            }
            skipped.push(event);
        }
    }

    /// Reads JSON events until a `message` event; returns its message.
    pub fn recv_message(&mut self) -> json::Message<'static> {
        match self.recv_event_where(|event| matches!(event, Event::Message(_))) {
            Event::Message(message) => message,
            _ => unreachable!("only a message was wanted"),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        match self.ws.get_ref() {
            MaybeTlsStream::Plain(s) => s,
            _ => unreachable!("tests use plain TCP"),
        }
    }

    pub fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// Sends a chat message the way the page does.
    pub fn say(&mut self, text: &str) {
        self.ws.send(chat_message(text)).expect("send");
    }

    /// The next message, or `None` if nothing came within `timeout`. Panics if the connection
    /// ended (use [`Client::expect_close`] for that). Room lists are set aside (see
    /// [`Client::recv_room_list`]).
    pub fn recv_within(&mut self, timeout: Duration) -> Option<Message> {
        let until = Instant::now() + timeout;
        loop {
            match self.read_until(until)? {
                Message::Text(text) if is_room_list(text.as_str()) => self.room_lists.push_back(text.to_string()),
                message => return Some(message),
            }
        }
    }

    /// The next room list (a `rooms` event, in either dialect) as the server wrote it, perhaps
    /// one that came while the test read something else; `None` if none comes within `timeout`.
    /// Other messages that come meanwhile are dropped.
    pub fn recv_room_list(&mut self, timeout: Duration) -> Option<String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(list) = self.room_lists.pop_front() {
                return Some(list);
            }
            match self.read_until(until)? {
                Message::Text(text) if is_room_list(text.as_str()) => return Some(text.to_string()),
                _ => {}
            }
        }
    }

    /// The next message but pings and pongs, or `None` at `until`.
    fn read_until(&mut self, until: Instant) -> Option<Message> {
        loop {
            match self.ws.read() {
                Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => {}
                Ok(message) => return Some(message),
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    if Instant::now() >= until {
                        return None;
                    }
                }
                Err(e) => panic!("connection failed while waiting for a message: {e}"),
            }
        }
    }

    /// The next text message, whatever it is; fails the test after [`TIMEOUT`].
    pub fn recv_raw_text(&mut self) -> String {
        match self.recv_within(TIMEOUT) {
            Some(Message::Text(text)) => text.to_string(),
            Some(other) => panic!("expected a text message, got {other:?}"),
            None => panic!("no message within {TIMEOUT:?}"),
        }
    }

    /// The next text message that is not a join/leave announcement (those arrive whenever
    /// someone comes or goes); fails the test after [`TIMEOUT`].
    pub fn recv_text(&mut self) -> String {
        loop {
            let text = self.recv_raw_text();
            if !is_presence(&text) {
                return text;
            }
        }
    }

    /// Reads text messages until one contains `needle`; returns it. Fails after [`TIMEOUT`].
    pub fn recv_containing(&mut self, needle: &str) -> String {
        let until = Instant::now() + TIMEOUT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.recv_within(left) {
                Some(Message::Text(text)) if text.contains(needle) => return text.to_string(),
                Some(_) => {}
                None => panic!("no message containing {needle:?} within {TIMEOUT:?}"),
            }
        }
    }

    /// Reads until the server closes; returns its Close frame (code and reason). Fails if the
    /// connection stays open past [`TIMEOUT`] or ends without a Close frame.
    pub fn expect_close(&mut self) -> CloseFrame {
        let until = Instant::now() + TIMEOUT;
        loop {
            match self.ws.read() {
                Ok(Message::Close(Some(frame))) => return frame,
                Ok(Message::Close(None)) => panic!("Close frame without a status code"),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    assert!(Instant::now() < until, "server did not close within {TIMEOUT:?}");
                }
                Err(e) => panic!("connection ended without a Close frame: {e}"),
            }
        }
    }
}

/// Whether a text frame is a room list: the `rooms` event, as the page or a JSON client gets it.
pub fn is_room_list(text: &str) -> bool {
    text.starts_with(r#"<ul id="rooms""#) || text.starts_with(r#"{"type":"rooms""#)
}

/// A chat message as the page's ws extension sends it: the form as JSON, with htmx's headers.
pub fn chat_message(text: &str) -> Message {
    Message::text(serde_json::json!({ "message": text, "HEADERS": { "HX-Request": "true" } }).to_string())
}

/// The value of an unlabelled (or exactly labelled) sample in a Prometheus exposition, such as
/// `/metrics` answers.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// Whether a page frame is a join or leave announcement.
pub fn is_presence(fragment: &str) -> bool {
    fragment.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="event"#)
}

/// An HTTP response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw bytes on a new connection and reads one response (by Content-Length).
pub fn http_raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request).expect("send request");
    read_response(&mut stream, request.starts_with(b"HEAD"))
}

/// A plain `GET path` with a Host header.
pub fn get(addr: SocketAddr, path: &str) -> RawResponse {
    http_raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
}

/// Reads one response from `stream`: the head, then exactly Content-Length bytes of body.
pub fn read_response(stream: &mut TcpStream, head_only: bool) -> RawResponse {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => panic!("connection closed mid-head: {:?}", String::from_utf8_lossy(&buf)),
            Err(e) => panic!("reading response head: {e} (got {:?})", String::from_utf8_lossy(&buf)),
        }
    }
    let head = String::from_utf8(buf).expect("ASCII head");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let mut response = RawResponse { status, head, body: Vec::new() };
    let length: usize = response.header("Content-Length").map(|v| v.parse().unwrap()).unwrap_or(0);
    if !head_only {
        response.body = vec![0; length];
        stream.read_exact(&mut response.body).expect("body");
    }
    response
}

/// Waits until the peer closes `stream` (EOF or reset). Fails after [`TIMEOUT`].
pub fn expect_eof(stream: &mut TcpStream) {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("connection still open after {TIMEOUT:?}")
            }
            Err(_) => return, // reset counts as closed
        }
    }
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("chatroom-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Rooms, names and history (issue 3)
// ---------------------------------------------------------------------------------------------

/// Percent-encodes `text` for a URL query value (everything but unreserved characters).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET path`, which must answer 200 with a JSON body; returns the body read as a `T` (one of
/// the protocol's JSON types; see [`read_whole`]).
pub fn get_json<T: DeserializeOwned + Serialize>(addr: SocketAddr, path: &str) -> T {
    let response = get(addr, path);
    assert_eq!(response.status, 200, "GET {path}: {}", response.body_text());
    let kind = response.header("Content-Type").unwrap_or_default();
    assert!(kind.starts_with("application/json"), "GET {path}: Content-Type {kind:?}");
    let body = std::str::from_utf8(&response.body).unwrap_or_else(|e| panic!("GET {path}: not UTF-8 ({e})"));
    read_whole(&format!("GET {path}"), body)
}

/// `GET path` of a room's history API (`/r/ROOM/history...`), which must answer with a page.
pub fn get_history(addr: SocketAddr, path: &str) -> HistoryPage<'static> {
    get_json(addr, path)
}

/// `GET /api/rooms`: the room list.
pub fn get_rooms(addr: SocketAddr) -> RoomList {
    get_json(addr, "/api/rooms")
}

/// One JSON event as the server wrote it, read through the protocol's own [`Event`] type (see
/// [`read_whole`]). Fails the test if it is not one.
///
/// What the server writes is only ever read here through `chatroom::protocol`'s types, never as
/// an untyped `serde_json::Value`: the tests and the terminal client share the schema, so a change
/// to it shows up in both (and at compile time).
pub fn parse_event(text: &str) -> Event<'static> {
    read_whole("the event", text)
}

/// Reads `text` as a `T`, and checks that `T` holds all of it: written back, it is the same JSON
/// (no field that `T` does not know, none missing that `T` would write, no `null` where `T` leaves
/// a field out). So a test that checks a typed value's fields has checked the whole text, as a
/// comparison with a `serde_json::json!` object did, and `count: None` means `count` was absent.
fn read_whole<T: DeserializeOwned + Serialize>(what: &str, text: &str) -> T {
    let typed: T = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what} is not a {} ({e}): {text}", std::any::type_name::<T>()));
    let as_sent: serde_json::Value = serde_json::from_str(text).unwrap();
    let as_read = serde_json::to_value(&typed).unwrap();
    assert_eq!(as_read, as_sent, "{what}: {} does not hold all of {text}", std::any::type_name::<T>());
    typed
}

/// A message as JSON clients get it (in `message` events, `history` lists and the history API),
/// to compare with what they got.
pub fn json_message(room: &str, seq: u64, ts: &str, name: &str, text: &str) -> json::Message<'static> {
    json::Message {
        room: owned(room),
        seq,
        ts: owned(ts),
        name: owned(name),
        text: owned(text),
        mentions: vec![],
        file: None,
    }
}

/// `text` as the owned `Cow` that the protocol's types hold when they are read.
pub fn owned(text: &str) -> Cow<'static, str> {
    Cow::Owned(text.to_string())
}

/// The `data-seq` values of the message items in a page fragment, in order.
pub fn data_seqs(fragment: &str) -> Vec<u64> {
    fragment
        .split(r#"data-seq=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().expect("data-seq is a number"))
        .collect()
}

/// The text from the first `start` up to and including the next `end` after it.
pub fn element<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)?;
    let len = text[from..].find(end)? + end.len();
    Some(&text[from..from + len])
}

/// RFC 3339 UTC with milliseconds for `ms` since the epoch (as the server writes `ts`).
pub fn rfc3339(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, (secs % 86_400) as u32);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), computed independently
    // of the server's code so that a mistake there shows up here.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// One line of a room log, as the server writes it: a [`ChatMessage`] as JSON, then a newline.
pub fn log_line(seq: u64, ts: u64, name: &str, text: &str) -> String {
    let mut line =
        json::to_text(&ChatMessage { seq, ts, name: name.into(), text: text.into(), mentions: vec![], file: None });
    line.push('\n');
    line
}

/// What a JSON client gets on joining, its `history`, `roster` and `notice` events, read through
/// the protocol's types (each whole: see [`parse_event`]).
#[derive(Debug)]
pub struct JsonWelcome {
    /// The room, as `history` and `roster` both name it.
    pub room: Cow<'static, str>,
    /// `history`: the most recent messages, oldest first.
    pub history: Vec<json::Message<'static>>,
    /// `history`: whether older messages exist.
    pub more: bool,
    /// `roster`: who is here, the newcomer included, in order of arrival (the first names only).
    pub members: Vec<Cow<'static, str>>,
    /// `roster`: how many there are in all, present only when `members` is not all of them.
    pub count: Option<usize>,
    /// `notice`: the sentence for the newcomer.
    pub notice: Cow<'static, str>,
    /// `notice`: the newcomer's name in the room (a welcome's notice always carries it).
    pub name: Cow<'static, str>,
}

impl Client {
    /// Joins a chat room as a JSON client and reads its first three events, checking that they
    /// are `history`, `roster` and `notice`, in that order, about one room.
    pub fn join_json(url: &str) -> (Client, JsonWelcome) {
        let mut client = Client::connect_json(url);
        let history = client.recv_event();
        let Event::History { room, messages, more } = history else { panic!("first event: {history:?}") };
        let roster = client.recv_event();
        let Event::Roster { room: roster_room, members, count } = roster else { panic!("second event: {roster:?}") };
        assert_eq!(roster_room, room, "history and roster name different rooms");
        let notice = client.recv_event();
        let Event::Notice { text: notice, name: Some(name) } = notice else { panic!("third event: {notice:?}") };
        let history = messages.into_iter().map(|Entry::Message(message)| message).collect();
        (client, JsonWelcome { room, history, more, members, count, notice, name })
    }

    /// Sends a chat message the way a JSON client does (the terminal client writes the same).
    pub fn say_json(&mut self, text: &str) {
        self.send_text(&ClientEvent::Chat(text.into()).to_frame_text());
    }
}
