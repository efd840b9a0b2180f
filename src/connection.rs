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

use crate::chat::member::{Member, Wire};
use crate::chat::names;
use crate::chat::room::Room;
use crate::config::Config;
use crate::http::body::Body;
use crate::http::head::{self, HeadError, HeadLimits};
use crate::http::response::Response;
use crate::http::routes::{self, Endpoint, Route};
use crate::limits::{Ticket, TokenBucket};
use crate::log;
use crate::protocol::{ClientEvent, Dialect, Roster, ServerEvent, Welcome};
use crate::ws::handshake;
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
        let ending =
            panic::catch_unwind(AssertUnwindSafe(|| handle(stream, peer, id, &shared))).unwrap_or(Ending::Panicked);
        log::conn(id, peer, format_args!("closed: {ending}"));
    })?;
    Ok(())
}

/// How a connection ended. Every way out of [`handle`] is one of these, and [`spawn`] logs it,
/// in one place, as the connection's last log line (`closed: ...`).
#[derive(Debug)]
enum Ending {
    /// Plain HTTP, closed after `requests` requests: by the client, or by us after a response
    /// that ends the connection.
    Http { requests: u32 },
    /// Plain HTTP, cut short by a failed read or write.
    HttpFailed { requests: u32, error: io::Error },
    /// A request refused with `status`, after which the connection was closed.
    Refused { requests: u32, status: u16 },
    /// The 101 could not be written.
    UpgradeNotSent(io::Error),
    /// The socket could not become a member (socket options, the welcome, going live).
    NotStarted(io::Error),
    /// The peer closed with a Close frame: its code and reason, or neither (RFC 6455 §7.1.5:
    /// no status, 1005).
    PeerClosed(Option<(u16, String)>),
    /// The closing handshake that we started (at shutdown) completed.
    Closed,
    /// The connection broke without a closing handshake (§7.1.5: the peer sees 1006).
    Abnormal(Broken),
    /// We failed the connection with a Close frame (§7.1.7): the code and reason we sent.
    WeClosed { code: u16, reason: String },
    /// The connection's code panicked (the panic message is already in the log).
    Panicked,
}

/// How a WebSocket broke without a closing handshake.
#[derive(Debug)]
enum Broken {
    /// A read or write failed (a reset, a timeout, a socket shut down by a relay).
    Io(io::Error),
    /// The peer vanished (a FIN) without sending a Close frame.
    NoCloseFrame,
    /// A Ping to a silent peer could not be written.
    PingNotSent,
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Http { requests } => write!(f, "http, {requests} requests"),
            Ending::HttpFailed { requests, error } => write!(f, "http, {requests} requests, {error}"),
            Ending::Refused { requests, status } => write!(f, "http, {requests} requests, answered {status}"),
            Ending::UpgradeNotSent(e) => write!(f, "upgrade not sent: {e}"),
            Ending::NotStarted(e) => write!(f, "websocket, could not start: {e}"),
            Ending::PeerClosed(Some((code, reason))) => write!(f, "websocket, {code} {reason}"),
            Ending::PeerClosed(None) => write!(f, "websocket, 1005 (no status)"),
            Ending::Closed => write!(f, "websocket, closed"),
            Ending::Abnormal(Broken::Io(e)) => write!(f, "websocket, 1006 ({e})"),
            Ending::Abnormal(Broken::NoCloseFrame) => write!(f, "websocket, 1006 (closed without a Close frame)"),
            Ending::Abnormal(Broken::PingNotSent) => write!(f, "websocket, 1006 (ping not sent)"),
            Ending::WeClosed { code, reason } => write!(f, "websocket, we closed {code} {reason}"),
            Ending::Panicked => write!(f, "panic in the connection's code (see above); connection closed"),
        }
    }
}

/// What the HTTP part ended in.
enum AfterHttp {
    /// The connection is done.
    Closed(Ending),
    /// The 101 was sent: the connection is now a WebSocket for this endpoint. `leftover` holds
    /// bytes read past the request head, the first frames already.
    Upgraded { leftover: Vec<u8>, endpoint: Endpoint, dialect: Dialect },
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
        AfterHttp::Upgraded { leftover, endpoint, dialect } => {
            websocket(stream, peer, id, leftover, endpoint, dialect, shared)
        }
    }
}

/// The HTTP part: requests until the connection closes or upgrades.
#[inline(never)]
fn serve_http(stream: &TcpStream, peer: SocketAddr, shared: &Arc<Shared>) -> AfterHttp {
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
            Err(HeadError::Idle) => return AfterHttp::Closed(Ending::Http { requests }),
            Err(HeadError::Io(error)) => return AfterHttp::Closed(Ending::HttpFailed { requests, error }),
            Err(refused) => {
                let response = head_refusal(&refused, shared.config.max_head);
                let _ = response.write_to(stream, false, false);
                return AfterHttp::Closed(Ending::Refused { requests, status: response.status });
            }
        };
        requests += 1;
        let keep_alive = request.keep_alive();
        let mut body = match Body::on_socket(stream, &mut buf, &request, shared.config.head_timeout) {
            Ok(body) => body,
            Err(refused) => {
                let _ = refused.write_to(stream, request.method == "HEAD", false);
                return AfterHttp::Closed(Ending::Refused { requests, status: refused.status });
            }
        };
        let route = routes::route(&request, peer.ip(), &mut body, shared);
        // A body that no route read is still on the wire: the next request cannot be found.
        let in_step = body.is_taken();
        match route {
            Route::Respond(response) => {
                if response.write_to(stream, request.method == "HEAD", keep_alive && in_step).is_err()
                    || !keep_alive
                    || !in_step
                    || response.close
                {
                    return AfterHttp::Closed(Ending::Http { requests });
                }
            }
            Route::WebSocket(endpoint) => match handshake::validate(&request) {
                Ok(upgrade) => {
                    if let Err(e) = { stream }.write_all(&upgrade.response_bytes()) {
                        return AfterHttp::Closed(Ending::UpgradeNotSent(e));
                    }
                    let leftover = std::mem::take(&mut buf);
                    let dialect = Dialect::of_subprotocol(upgrade.protocol);
                    return AfterHttp::Upgraded { leftover, endpoint, dialect };
                }
                Err(response) => {
                    if response.write_to(stream, false, keep_alive).is_err() || !keep_alive || response.close {
                        return AfterHttp::Closed(Ending::Refused { requests, status: response.status });
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

/// The WebSocket part: become a member, run the read loop, leave.
#[inline(never)] // a frame of its own, not merged into the thread's outermost one
fn websocket(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    leftover: Vec<u8>,
    endpoint: Endpoint,
    dialect: Dialect,
    shared: &Arc<Shared>,
) -> Ending {
    let config = &shared.config;
    let member =
        match Member::new(id, peer, dialect, stream, config.send_buffer, config.relay_timeout, config.tcp_nodelay) {
            Ok(member) => Arc::new(member),
            Err(e) => return Ending::NotStarted(e),
        };
    shared.register(&member);
    let mut membership = Membership { shared, member: member.clone(), room: None };
    match endpoint {
        Endpoint::Echo => match member.go_live() {
            Ok(()) => read_loop(&member, leftover, None, shared),
            Err(e) => Ending::NotStarted(e),
        },
        Endpoint::Chat { room, name } => {
            let room = shared.rooms.get_or_create(&room);
            membership.room = Some(room.clone());
            match join(&member, &room, name.as_deref(), config.max_name) {
                Ok(()) => read_loop(&member, leftover, Some(&room), shared),
                Err(e) => Ending::NotStarted(e),
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
    let (wanted, problem) = match asked.map(|raw| names::validate_within(raw, max_name)) {
        Some(Ok(name)) => (name, None),
        Some(Err(bad)) => (names::guest(), Some(bad.explain())),
        None => (names::guest(), None),
    };
    let welcome = room.join(member, &wanted, max_name);
    let you = welcome.name.as_str();
    let notice = match (&problem, &welcome.taken) {
        (Some(problem), _) => format!("{problem} You are {you}."),
        (None, Some(taken)) => format!("The name {taken} is taken here, so you are {you}."),
        (None, None) => format!("You joined #{} as {you}.", room.name),
    };
    let names: Vec<&str> = welcome.roster.iter().map(String::as_str).collect();
    let event = ServerEvent::Welcome(Welcome {
        you,
        history: &welcome.history,
        more: welcome.more,
        roster: Roster { names: &names, count: welcome.count },
        notice: &notice,
        alert: problem.is_some() || welcome.taken.is_some(),
    });
    member.write_own(member.dialect.frames(&room.name, &event).as_bytes())?;
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
        return Ending::Abnormal(Broken::Io(e));
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
    /// The peer's Close frame (its code and reason, if it gave them), once it has sent one.
    peer_close: Option<Option<(u16, String)>>,
}

impl Reader<'_> {
    /// Reads and handles frames until the connection ends.
    fn run(mut self) -> Ending {
        loop {
            let next = self.next_frame();
            // Anything but another chat message (a ping, a Close, an error): what this member
            // posted goes out first, so the room hears its messages in the order it did things.
            // (A heartbeat text is answered after the relay too: `on_message` relays first.)
            if !matches!(&next, Ok(Message::Text(_))) {
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
                return Some(Ending::Abnormal(Broken::PingNotSent));
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
            WsError::ConnectionClosed | WsError::AlreadyClosed => match self.peer_close.take() {
                Some(close) => Ending::PeerClosed(close),
                None => Ending::Closed,
            },
            WsError::Io(e) => Ending::Abnormal(Broken::Io(e)),
            WsError::Capacity(_) => {
                let reason = format!("message too big: the limit is {} bytes", self.config.max_message);
                self.fail(CloseCode::Size, &reason)
            }
            WsError::Utf8(_) => self.fail(CloseCode::Invalid, "invalid UTF-8 in a text message or close reason"),
            WsError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                Ending::Abnormal(Broken::NoCloseFrame)
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
            (Message::Text(text), Some(room)) => self.chat(room, text.as_str()),
            (Message::Binary(_), Some(_)) => {
                return Some(self.fail(CloseCode::Unsupported, "binary messages are not accepted: send JSON text"))
            }
            // The echo endpoint sends data messages back as they came.
            (message @ (Message::Text(_) | Message::Binary(_)), None) => self.ws.send(message),
            (Message::Close(frame), _) => {
                // tungstenite has queued the Close reply (RFC 6455 §5.5.1); the next read sends it.
                self.member.begin_close();
                self.peer_close = Some(frame.map(|CloseFrame { code, reason }| (u16::from(code), reason.to_string())));
                Ok(())
            }
            // Pings are answered by tungstenite; pongs only prove the peer is alive.
            (Message::Ping(_) | Message::Pong(_) | Message::Frame(_), _) => Ok(()),
        };
        sent.err().map(|e| Ending::Abnormal(Broken::Io(io_error(e))))
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
        self.reply(&ServerEvent::Error(&text)).err().map(|e| Ending::Abnormal(Broken::Io(io_error(e))))
    }

    /// A text message in a chat room, parsed ([`ClientEvent::parse`]) and applied: a chat
    /// message is posted for the next relay (see [`Reader::next_frame`]); the heartbeat is
    /// answered; anything else is refused with a reason.
    fn chat(&mut self, room: &Room, text: &str) -> tungstenite::Result<()> {
        match ClientEvent::parse(text, self.config.max_text) {
            Ok(Some(ClientEvent::Chat(message))) => {
                room.post(self.member, &message);
                self.posted += 1;
                Ok(())
            }
            Ok(Some(ClientEvent::Heartbeat)) => self.reply(&ServerEvent::Pong),
            Ok(None) => Ok(()),
            Err(rejected) => self.reply(&ServerEvent::Error(&rejected.explain())),
        }
    }

    /// An event for this member only (a refusal, the heartbeat's answer), in its dialect. It
    /// comes after the relay of what the member said before, like everything the member hears
    /// about its own doings.
    fn reply(&mut self, event: &ServerEvent<'_>) -> tungstenite::Result<()> {
        self.relay_posted();
        let room = self.room.map_or("", |room| room.name.as_str());
        self.member.write_own(self.member.dialect.frames(room, event).as_bytes()).map_err(tungstenite::Error::Io)
    }

    /// Fails the WebSocket connection (RFC 6455 §7.1.7): send a Close frame with `code` and
    /// `reason`, then wait briefly for the peer to close its side before the socket is dropped.
    fn fail(&mut self, code: CloseCode, reason: &str) -> Ending {
        self.relay_posted();
        self.member.begin_close();
        let frame = CloseFrame { code, reason: reason.to_string().into() };
        let _ = self.ws.close(Some(frame));
        linger(self.member.stream());
        Ending::WeClosed { code: u16::from(code), reason: reason.to_string() }
    }
}

/// The I/O error behind a failed write of ours (tungstenite wraps it).
fn io_error(error: WsError) -> io::Error {
    match error {
        WsError::Io(e) => e,
        other => io::Error::other(other.to_string()),
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
