//! The per-connection thread: HTTP requests until one of them upgrades, then the member's read loop.
//!
//! Every accepted TCP connection gets its own thread (`conn-N`, small explicit stack). It first
//! speaks HTTP/1.1: read a head, route it, answer, and keep the connection for the next request
//! while the client wants it and it stays busy. A valid upgrade turns the connection into a
//! WebSocket, and from then on **this thread only reads**: it posts each chat message to the room
//! and then relays what it posted, writing to every member's socket from this same thread (see
//! `room.rs`). Frames that arrived together are posted together and go out in one relay.
//!
//! How a WebSocket ends, and what the peer sees (RFC 6455 §7.4.1 codes):
//! - the peer closes: tungstenite queues our Close reply and the next read writes it;
//! - a frame or message over `--max-message`: 1009; invalid UTF-8 in a text message: 1007;
//!   a protocol violation: 1002; a binary message in a chat room: 1003;
//! - silence past the idle timeout: 1001 (pings are sent well before that);
//! - the server shuts down: 1012, written by the signal thread (see `shutdown.rs`);
//! - a relay found the member not reading: the socket is shut down, the peer sees 1006.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

use crate::config::Config;
use crate::frame::EncodedFrame;
use crate::handshake;
use crate::history::StoredMessage;
use crate::http::head::{self, HeadError, HeadLimits};
use crate::http::response::Response;
use crate::http::routes::{self, Endpoint, Route};
use crate::inbound;
use crate::limits::{Ticket, TokenBucket};
use crate::log;
use crate::member::{Format, Member, Wire};
use crate::name;
use crate::render::{self, Event, MessageEvent};
use crate::room::{Room, ROSTER_SHOWN};
use crate::Shared;

/// Stack size of each connection thread. The deepest path (serde_json's recursion limit of 128 on
/// a hostile message) stays far below it; see `tests/limits.rs`. Only touched pages cost memory.
pub const STACK_SIZE: usize = 128 * 1024;

/// Time a kept-alive connection may wait for its next request.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(5);
/// After we send a Close frame in anger, how long we wait for the peer to finish before dropping
/// the socket. Reading until then avoids a TCP reset that could discard our Close frame.
const LINGER: Duration = Duration::from_secs(2);

/// A member over its rate limit is told so at most this often.
const FLOOD_NOTICE_EVERY: Duration = Duration::from_secs(5);

/// Read buffer for WebSocket frames: small, because most chat frames are small and an idle
/// member should cost little memory. A larger frame grows it as needed (up to `--max-message`).
const READ_BUFFER: usize = 512;

/// At most this many chat messages from one member go into one relay (see [`Reader::next_frame`]). It
/// bounds how long the first of them waits for the rest to be parsed, and what one member can
/// put in the room's inbox at once.
const MAX_BATCH: usize = 32;

/// Starts the thread for a freshly accepted connection.
///
/// The thread owns the connection's [`Ticket`], so its place in the connection counts is given
/// back however the thread ends, panics included. A panic ends this connection only: it is
/// caught here, logged, and every lock it may have held is recovered by the next user (see
/// `room.rs`), so no other member notices.
pub fn spawn(stream: TcpStream, peer: SocketAddr, id: u64, ticket: Ticket, shared: Arc<Shared>) -> io::Result<()> {
    thread::Builder::new().name(format!("conn-{id}")).stack_size(STACK_SIZE).spawn(move || {
        let _ticket = ticket;
        log::conn(id, peer, "open");
        let ending = panic::catch_unwind(AssertUnwindSafe(|| handle(stream, peer, id, &shared)))
            .unwrap_or_else(|_| Ending("panic in the connection's code (see above); connection closed".into()));
        log::conn(id, peer, format_args!("closed: {ending}"));
    })?;
    Ok(())
}

/// How a connection ended, for the log line.
struct Ending(String);

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the HTTP part ended in.
enum AfterHttp {
    /// The connection is done.
    Closed(Ending),
    /// The 101 was sent: the connection is now a WebSocket for this endpoint. `leftover` holds
    /// bytes read past the request head, the first frames already.
    Upgraded { leftover: Vec<u8>, endpoint: Endpoint, format: Format },
}

/// One connection, start to end: HTTP, then perhaps a WebSocket.
///
/// The two phases are sibling calls rather than one inside the other, so that the HTTP phase's
/// stack frame (its 2 KiB read buffer, the parser's header array, the responses) is gone by the
/// time the connection sits idle as a member: see `release_stack_below_here`.
#[inline(never)]
fn handle(stream: TcpStream, peer: SocketAddr, id: u64, shared: &Arc<Shared>) -> Ending {
    match serve_http(&stream, peer, shared) {
        AfterHttp::Closed(ending) => ending,
        AfterHttp::Upgraded { leftover, endpoint, format } => {
            websocket(stream, peer, id, leftover, endpoint, format, shared)
        }
    }
}

/// The HTTP part: requests until the connection closes or upgrades.
#[inline(never)]
fn serve_http(stream: &TcpStream, peer: SocketAddr, shared: &Arc<Shared>) -> AfterHttp {
    let ending = |text: String| AfterHttp::Closed(Ending(text));
    let mut buf = Vec::new();
    let mut requests = 0u32;
    loop {
        let limits = HeadLimits {
            max_bytes: shared.config.max_head,
            deadline: shared.config.head_timeout,
            // The first request gets the full deadline; later ones only the keep-alive idle time.
            idle: if requests == 0 { shared.config.head_timeout } else { KEEP_ALIVE_IDLE },
        };
        let request = match head::read_head(stream, &mut buf, limits) {
            Ok(request) => request,
            // Nobody to answer: the client went quiet between requests, or the connection failed.
            Err(HeadError::Idle) => return ending(format!("http, {requests} requests")),
            Err(HeadError::Io(e)) => return ending(format!("http, {requests} requests, {e}")),
            Err(refused) => {
                let response = head_refusal(&refused, shared.config.max_head);
                let _ = response.write_to(stream, false, false);
                return ending(format!("http, {requests} requests, answered {}", response.status));
            }
        };
        requests += 1;
        let keep_alive = request.keep_alive();
        if request.method == "POST" && request.path == "/login" {
            // The one request with a body: the access-code form.
            let response = match read_form_body(stream, &mut buf, &request, shared.config.head_timeout) {
                Ok(body) => shared.access.login(peer.ip(), &body),
                Err(response) => response,
            };
            if response.write_to(stream, false, keep_alive).is_err() || !keep_alive || response.close {
                return ending(format!("http, {requests} requests"));
            }
            continue;
        }
        match routes::route(&request, shared) {
            Route::Respond(response) => {
                if response.write_to(stream, request.method == "HEAD", keep_alive).is_err()
                    || !keep_alive
                    || response.close
                {
                    return ending(format!("http, {requests} requests"));
                }
            }
            Route::WebSocket(endpoint) => match handshake::validate(&request) {
                Ok(upgrade) => {
                    if let Err(e) = { stream }.write_all(&upgrade.response_bytes()) {
                        return ending(format!("upgrade not sent: {e}"));
                    }
                    let leftover = std::mem::take(&mut buf);
                    let format = if upgrade.protocol.is_some() { Format::Json } else { Format::Html };
                    return AfterHttp::Upgraded { leftover, endpoint, format };
                }
                Err(response) => {
                    if response.write_to(stream, false, keep_alive).is_err() || !keep_alive || response.close {
                        return ending(format!("http, {requests} requests, upgrade refused {}", response.status));
                    }
                }
            },
        }
    }
}

/// The answer to a request head that could not be read: the status says what was wrong with it.
fn head_refusal(error: &HeadError, max_head: usize) -> Response {
    match error {
        HeadError::TooLarge => {
            Response::text(431, format!("Request head too large (limit {max_head} bytes, 64 header lines)."))
        }
        HeadError::Timeout => Response::text(408, "Request head not received in time."),
        HeadError::BadVersion => Response::text(505, "Only HTTP/1.0 and HTTP/1.1 are spoken here."),
        HeadError::Malformed(why) => Response::text(400, format!("Malformed request: {why}.")),
        // Not reached: these close the connection without an answer (see `serve_http`).
        HeadError::Idle | HeadError::Io(_) => Response::text(400, "Malformed request.").closing(),
    }
}

/// Reads a small `application/x-www-form-urlencoded` body (the login form), within `deadline`.
/// Anything else gets the specific status: 411 without a length, 413 if too large, 415 for
/// another type; each closes the connection, since we may be out of step with the client.
fn read_form_body(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    request: &head::Request,
    deadline: Duration,
) -> Result<Vec<u8>, Response> {
    if request.header("Transfer-Encoding").is_some() || request.header_count("Content-Length") > 1 {
        return Err(Response::text(400, "Send the form with one Content-Length and no Transfer-Encoding.").closing());
    }
    let content_type = request.header_str("Content-Type").unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(Response::text(415, "Send the form as application/x-www-form-urlencoded.").closing());
    }
    let length: usize = match request.header_str("Content-Length").map(str::parse) {
        Some(Ok(n)) => n,
        _ => return Err(Response::text(411, "A form needs a Content-Length.").closing()),
    };
    if length > crate::access::MAX_LOGIN_BODY {
        return Err(Response::text(413, "That form is too large.").closing());
    }
    let until = Instant::now() + deadline;
    let mut chunk = [0u8; 1024];
    while buf.len() < length {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(Response::text(408, "The form did not arrive in time.").closing());
        }
        match (&*stream).read(&mut chunk) {
            Ok(0) => return Err(Response::text(400, "The form ended early.").closing()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Response::text(408, "The form did not arrive in time.").closing()),
        }
    }
    Ok(buf.drain(..length).collect())
}

/// The WebSocket part: become a member, run the read loop, leave.
#[inline(never)] // a frame of its own, not merged into the thread's outermost one
fn websocket(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    leftover: Vec<u8>,
    endpoint: Endpoint,
    format: Format,
    shared: &Arc<Shared>,
) -> Ending {
    let config = &shared.config;
    let member =
        match Member::new(id, peer, format, stream, config.send_buffer, config.relay_timeout, config.tcp_nodelay) {
            Ok(member) => Arc::new(member),
            Err(e) => return Ending(format!("websocket setup failed: {e}")),
        };
    shared.register(&member);
    let mut membership = Membership { shared, member: member.clone(), room: None };
    match endpoint {
        Endpoint::Echo => match member.go_live() {
            Ok(()) => read_loop(&member, leftover, None, shared),
            Err(e) => Ending(format!("websocket, could not start: {e}")),
        },
        Endpoint::Chat { room, name } => {
            let room = shared.rooms.get_or_create(&room);
            membership.room = Some(room.clone());
            match join(&member, &room, name.as_deref(), config.max_name) {
                Ok(()) => read_loop(&member, leftover, Some(&room), shared),
                Err(e) => Ending(format!("websocket, could not join: {e}")),
            }
        }
    }
}

/// A member's place in the server: in its room, and in the list of open WebSockets. Dropping it
/// leaves the room (telling the others), forgets the member and shuts its socket, on every way
/// out of [`websocket`], a panic included.
struct Membership<'a> {
    shared: &'a Shared,
    member: Arc<Member>,
    room: Option<Arc<Room>>,
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        if let Some(room) = self.room.take() {
            room.leave(&self.member);
            let name = room.name.clone();
            drop(room);
            self.shared.rooms.forget_if_empty(&name);
        }
        self.shared.unregister(self.member.id);
        self.member.shutdown();
    }
}

/// Joins `room` under the name asked for (or a guest name), then writes the welcome (history,
/// roster, who you are) on the member's own thread, outside the room lock, and goes live.
#[inline(never)] // its frame (rendering the welcome) must be gone before the member idles
fn join(member: &Arc<Member>, room: &Room, asked: Option<&str>, max_name: usize) -> io::Result<()> {
    let (wanted, problem) = match asked.map(|raw| name::validate_within(raw, max_name)) {
        Some(Ok(name)) => (name, None),
        Some(Err(bad)) => (name::guest(), Some(bad.explain())),
        None => (name::guest(), None),
    };
    let welcome = room.join(member, &wanted, max_name);
    let you = welcome.name.as_str();
    let notice = match (&problem, &welcome.taken) {
        (Some(problem), _) => format!("{problem} You are {you}."),
        (None, Some(taken)) => format!("The name {taken} is taken here, so you are {you}."),
        (None, None) => format!("You joined #{} as {you}.", room.name),
    };
    let frames = match member.format {
        Format::Html => {
            let history: Vec<&StoredMessage> = welcome.history.iter().collect();
            let roster: Vec<&str> = welcome.roster.iter().take(ROSTER_SHOWN).map(String::as_str).collect();
            let shown = (problem.is_some() || welcome.taken.is_some()).then_some(notice.as_str());
            let html = render::welcome_fragment(&room.path, &history, welcome.more, &roster, welcome.count, you, shown);
            EncodedFrame::text(&html)
        }
        Format::Json => {
            let messages = welcome.history.iter().map(|m| MessageEvent::new(&room.name, m)).collect();
            let roster: Vec<&str> = welcome.roster.iter().map(String::as_str).collect();
            EncodedFrame::texts(&[
                &render::json(&Event::History { room: &room.name, messages, more: welcome.more }),
                &render::json(&render::roster_event(&room.name, &roster, welcome.count)),
                &render::json(&Event::Notice { text: &notice, name: Some(you) }),
            ])
        }
    };
    member.write_own(frames.as_bytes())?;
    member.go_live()
}

/// The member's read loop. Returns how the connection ended.
#[inline(never)]
fn read_loop(member: &Arc<Member>, leftover: Vec<u8>, room: Option<&Arc<Room>>, shared: &Shared) -> Ending {
    let config = &shared.config;
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(config.max_message))
        .max_frame_size(Some(config.max_message))
        // Write each reply as soon as it is made: our Wire writes whole buffers under the lock.
        .write_buffer_size(0);
    let ws = WebSocket::from_partially_read(Wire::new(member.clone()), leftover, Role::Server, Some(ws_config));
    // Wake up when it is time to ping (or to give up on) a silent peer.
    if let Err(e) = member.stream().set_read_timeout(Some(config.ping_interval.min(config.idle_timeout))) {
        return Ending(format!("websocket, {e}"));
    }
    // The rate limit applies to chat members (the echo endpoint exists for conformance tests).
    let rate = if room.is_some() { config.rate_limit } else { 0 };
    let reader = Reader {
        ws,
        member,
        room,
        config,
        last_heard: Instant::now(),
        pinged: false,
        bucket: TokenBucket::new(rate, config.rate_burst),
        flood_told: None,
        posted: 0,
        peer_close: None,
    };
    // From here on, an idle member waits in one shallow call: give back the stack pages that the
    // HTTP phase, the handshake and the welcome used.
    release_stack_below_here();
    reader.run()
}

/// What the read loop keeps between frames: the WebSocket, and the member's standing with us.
struct Reader<'a> {
    ws: WebSocket<Wire>,
    member: &'a Arc<Member>,
    /// `None` on the echo endpoint.
    room: Option<&'a Arc<Room>>,
    config: &'a Config,
    /// When the peer last sent a frame, and whether we have pinged it since.
    last_heard: Instant,
    pinged: bool,
    bucket: TokenBucket,
    /// When the member was last told it is over the rate limit.
    flood_told: Option<Instant>,
    /// Chat messages posted to the room and not yet relayed (see [`Reader::next_frame`]).
    posted: usize,
    /// The peer's Close frame, once it has sent one, for the log line.
    peer_close: Option<String>,
}

impl Reader<'_> {
    /// Reads and handles frames until the connection ends.
    fn run(mut self) -> Ending {
        loop {
            let next = self.next_frame();
            // Anything but another chat message (a ping, a Close, an error): what this member
            // posted goes out first, so the room hears its messages in the order it did things.
            if !matches!(&next, Ok(Message::Text(text)) if text.as_str() != "ping") {
                self.relay_posted();
            }
            let ending = match next {
                Ok(message) => self.on_message(message),
                Err(WsError::Io(e)) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    self.on_quiet()
                }
                Err(error) => Some(self.on_error(error)),
            };
            if let Some(ending) = ending {
                return ending;
            }
        }
    }

    /// The next frame from the peer.
    ///
    /// With chat messages posted and not yet relayed, it first takes only frames that have
    /// already arrived, without waiting: a client that sent several messages at once (a busy
    /// sender, or one catching up after a stall) has them all relayed together, one `write` per
    /// member for the lot ([`Room::relay_posted`]). As soon as nothing more is waiting, or
    /// [`MAX_BATCH`] messages are posted, it relays them, and only then waits for the peer. So
    /// batching never delays a message for longer than it takes to parse the frames in hand.
    fn next_frame(&mut self) -> tungstenite::Result<Message> {
        if self.posted > 0 && self.posted < MAX_BATCH {
            self.ws.get_mut().set_waiting(false);
            let ready = self.ws.read();
            self.ws.get_mut().set_waiting(true);
            match ready {
                // Nothing complete has arrived: relay what we have, then wait.
                Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                ready => return ready,
            }
        }
        self.relay_posted();
        self.ws.read()
    }

    /// Relays what this member posted, if anything.
    fn relay_posted(&mut self) {
        if let (Some(room), true) = (self.room, self.posted > 0) {
            room.relay_posted();
        }
        self.posted = 0;
    }

    /// The read timed out: ping a peer that has been silent for the ping interval (RFC 6455
    /// §5.5.2: it must answer with a Pong, and browsers do so without any page script), and
    /// close one that has been silent for the idle timeout.
    fn on_quiet(&mut self) -> Option<Ending> {
        // A member that has been talking (relaying touches deeper stack) and then went quiet
        // gives those pages back too.
        release_stack_below_here();
        let config = self.config;
        let silent = self.last_heard.elapsed();
        if silent >= config.idle_timeout {
            return Some(self.fail(CloseCode::Away, "idle timeout: no frames received"));
        }
        if !self.pinged && silent >= config.ping_interval {
            if self.ws.send(Message::Ping(Default::default())).is_err() {
                return Some(Ending("websocket, 1006 (ping not sent)".into()));
            }
            self.pinged = true;
        }
        let next = self.last_heard + if self.pinged { config.idle_timeout } else { config.ping_interval };
        let wait = next.saturating_duration_since(Instant::now()).max(Duration::from_millis(10));
        let _ = self.member.stream().set_read_timeout(Some(wait));
        None
    }

    /// A read failed: say how the connection ends, with the close code RFC 6455 §7.4.1 gives.
    fn on_error(&mut self, error: WsError) -> Ending {
        match error {
            WsError::ConnectionClosed | WsError::AlreadyClosed => {
                let how = self.peer_close.take().unwrap_or_else(|| "closed".into());
                Ending(format!("websocket, {how}"))
            }
            WsError::Io(e) => Ending(format!("websocket, 1006 ({e})")),
            WsError::Capacity(_) => {
                let reason = format!("message too big: the limit is {} bytes", self.config.max_message);
                self.fail(CloseCode::Size, &reason)
            }
            WsError::Utf8(_) => self.fail(CloseCode::Invalid, "invalid UTF-8 in a text message or close reason"),
            WsError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                Ending("websocket, 1006 (closed without a Close frame)".into())
            }
            WsError::Protocol(p) => self.fail(CloseCode::Protocol, &format!("protocol error: {p}")),
            other => self.fail(CloseCode::Error, &format!("internal error: {other}")),
        }
    }

    /// One message from the peer. Returns how the connection ended, if it did.
    fn on_message(&mut self, message: Message) -> Option<Ending> {
        self.last_heard = Instant::now();
        self.pinged = false;
        // Every frame counts against the rate limit, pings included; a Close always gets through.
        if !matches!(message, Message::Close(_)) && !self.bucket.take(self.last_heard) {
            return self.over_the_limit();
        }
        let sent = match (message, self.room) {
            (Message::Text(text), _) if text.as_str() == "ping" => self.ws.send(Message::text("pong")),
            (Message::Text(text), Some(room)) => self.chat(room, text.as_str()),
            (Message::Binary(_), Some(_)) => {
                return Some(self.fail(CloseCode::Unsupported, "binary messages are not accepted: send JSON text"))
            }
            // The echo endpoint sends data messages back as they came.
            (message @ (Message::Text(_) | Message::Binary(_)), None) => self.ws.send(message),
            (Message::Close(frame), _) => {
                // tungstenite has queued the Close reply (RFC 6455 §5.5.1); the next read sends it.
                self.member.begin_close();
                self.peer_close = Some(match frame {
                    Some(CloseFrame { code, reason }) => format!("{} {}", u16::from(code), reason.as_str()),
                    None => "1005 (no status)".into(),
                });
                Ok(())
            }
            // Pings are answered by tungstenite; pongs only prove the peer is alive.
            (Message::Ping(_) | Message::Pong(_) | Message::Frame(_), _) => Ok(()),
        };
        sent.err().map(|e| Ending(format!("websocket, 1006 (write failed: {e})")))
    }

    /// A frame over the rate limit is dropped. The member is told so, but not more than every
    /// few seconds.
    fn over_the_limit(&mut self) -> Option<Ending> {
        crate::metrics::RATE_LIMITED.inc();
        if self.flood_told.is_some_and(|told| told.elapsed() < FLOOD_NOTICE_EVERY) {
            return None;
        }
        self.flood_told = Some(self.last_heard);
        let text = format!(
            "You are sending too fast: messages are being dropped (limit {} per second, {} at once).",
            self.config.rate_limit, self.config.rate_burst
        );
        self.tell(&text).err().map(|_| Ending("websocket, 1006 (write failed)".into()))
    }

    /// A text message in a chat room: post it for the next relay (see [`Reader::next_frame`]),
    /// or tell the sender why not.
    fn chat(&mut self, room: &Room, text: &str) -> tungstenite::Result<()> {
        match inbound::parse_chat_within(text, self.config.max_text) {
            Ok(Some(message)) => {
                room.post(self.member, &message);
                self.posted += 1;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(rejected) => self.tell(&rejected.explain()),
        }
    }

    /// An error notice for this member only, in its format. It comes after the relay of what
    /// the member said before, like everything the member hears about its own doings.
    fn tell(&mut self, text: &str) -> tungstenite::Result<()> {
        self.relay_posted();
        let body = match self.member.format {
            Format::Html => render::notice_fragment(text),
            Format::Json => render::json(&Event::Error { text }),
        };
        self.ws.send(Message::text(body))
    }

    /// Fails the WebSocket connection (RFC 6455 §7.1.7): send a Close frame with `code` and
    /// `reason`, then wait briefly for the peer to close its side before the socket is dropped.
    fn fail(&mut self, code: CloseCode, reason: &str) -> Ending {
        self.relay_posted();
        self.member.begin_close();
        let frame = CloseFrame { code, reason: reason.to_string().into() };
        let _ = self.ws.close(Some(frame));
        linger(self.member.stream());
        Ending(format!("websocket, we closed {} {reason}", u16::from(code)))
    }
}

/// Hands the pages of this thread's stack below the current frame back to the kernel: they hold
/// nothing live, and if they are needed again they come back as fresh zero pages. Touched stack
/// pages otherwise stay resident for the life of the thread, and with a thread per member they
/// are most of an idle member's memory. (How, and why that is sound: `sys::release_stack_below_here`.)
///
/// Measured with 2,000 idle members (RSS per member): 16.4 KiB without this, 3 stack pages
/// each; with it, 2 pages: the one holding the thread's control block and the few frames above
/// this one, and the one the idle read waits in.
fn release_stack_below_here() {
    crate::sys::release_stack_below_here();
}

/// Half-closes our side and drains what the peer still sends until it closes or [`LINGER`]
/// passes. Closing a socket with unread data makes the kernel send a reset, and a reset can make
/// the peer throw away our Close frame before its application reads it.
fn linger(mut stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 1024];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
