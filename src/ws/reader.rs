//! The member's read loop: one thread per member, and it only reads.
//!
//! Each frame from the peer is read by tungstenite, over [`Wire`] (the member's socket as
//! tungstenite sees it), parsed into a [`ClientEvent`] and applied: chat text is posted to the
//! room and relayed, the heartbeat answered, anything else refused with a reason or a close code.

use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

use super::wire::{EndlessMessage, Wire};
use super::{Broken, Ended};
use crate::chat::member::Member;
use crate::chat::room::commands::Outcome;
use crate::chat::room::Room;
use crate::config::Config;
use crate::limits::TokenBucket;
use crate::protocol::command::Command;
use crate::protocol::{ClientEvent, ServerEvent};

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

/// A member quiet for this long is taken to be idle: its thread gives back the stack pages it
/// touched (see [`Reader::next_frame`]). Short enough that idle members cost little soon after
/// they join; long enough that a member in a conversation does not pay a system call and fresh
/// pages for every message.
const SETTLE: Duration = Duration::from_secs(1);

/// The member's read loop. Returns how the connection ended. `bucket` is the member's rate limit
/// (its address's burst, see [`crate::limits::Rates`]), which the caller gives back afterwards.
#[inline(never)]
pub(crate) fn read_loop(
    member: &Arc<Member>,
    leftover: Vec<u8>,
    room: Option<&Arc<Room>>,
    config: &Config,
    bucket: &mut TokenBucket,
) -> Ended {
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(config.max_message))
        .max_frame_size(Some(config.max_message))
        // Write each reply as soon as it is made: our Wire writes whole buffers under the lock.
        .write_buffer_size(0);
    // A message may take its size plus its frames' headers; twice the size, and some, is far more
    // than any real fragmentation needs (see `Wire::new`).
    let most = config.max_message.saturating_mul(2).saturating_add(16 * 1024);
    let ws = WebSocket::from_partially_read(Wire::new(member.clone(), most), leftover, Role::Server, Some(ws_config));
    let reader = Reader {
        ws,
        member,
        room,
        config,
        last_heard: Instant::now(),
        pinged: false,
        bucket,
        flood_told: None,
        posted: 0,
        peer_close: None,
    };
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
    bucket: &'a mut TokenBucket,
    /// When the member was last told it is over the rate limit.
    flood_told: Option<Instant>,
    /// Chat messages posted to the room and not yet relayed (see [`Reader::next_frame`]).
    posted: usize,
    /// The peer's Close frame (its code and reason, if it gave them), once it has sent one.
    peer_close: Option<Option<(u16, String)>>,
}

impl Reader<'_> {
    /// Reads and handles frames until the connection ends.
    fn run(mut self) -> Ended {
        loop {
            let next = self.next_frame();
            // Anything but another chat message (a ping, a Close, an error): what this member
            // posted goes out first, so the room hears its messages in the order it did things.
            // (A heartbeat text is answered after the relay too: `on_message` relays first.)
            if !matches!(&next, Ok(Message::Text(_))) {
                self.relay_posted();
            }
            let ending = match next {
                Ok(message) => {
                    // Only a data message ends one: Pings may come between its fragments.
                    if matches!(message, Message::Text(_) | Message::Binary(_)) {
                        self.ws.get_mut().message_read();
                    }
                    self.on_message(message)
                }
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

    /// The next frame from the peer, or `TimedOut` when it is time to check on a quiet one.
    ///
    /// Reads never wait ([`Wire`]); when nothing whole has arrived, this relays what the member
    /// posted and then waits here, in a shallow frame, for the socket to become readable. Two
    /// things follow:
    /// - Batching: a client that sent several messages at once (a busy sender, or one catching
    ///   up after a stall) has them all parsed before the first relay, and relayed together, one
    ///   `write` per member for the lot ([`Room::relay_posted`]), up to [`MAX_BATCH`]. As soon as
    ///   nothing more is waiting, they go out; batching never delays a message for longer than
    ///   it takes to parse the frames in hand.
    /// - Memory: a member that has been quiet for [`SETTLE`] gives back the stack pages that
    ///   reading and relaying touched, and sleeps in `poll(2)` a few calls below its entry point,
    ///   where its thread needs only the top two pages of its stack (see
    ///   [`release_stack_below_here`]).
    fn next_frame(&mut self) -> tungstenite::Result<Message> {
        loop {
            if self.posted >= MAX_BATCH {
                self.relay_posted();
            }
            match self.ws.read() {
                Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                ready => return ready,
            }
            self.relay_posted();
            let stream = self.member.stream();
            let left = self.next_check().saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::from(io::ErrorKind::TimedOut).into());
            }
            if crate::sys::wait_readable(stream, left.min(SETTLE))? {
                continue;
            }
            release_stack_below_here();
            let left = self.next_check().saturating_duration_since(Instant::now());
            if !left.is_zero() && crate::sys::wait_readable(stream, left)? {
                continue;
            }
            return Err(io::Error::from(io::ErrorKind::TimedOut).into());
        }
    }

    /// When to look at a quiet peer again: the ping interval after it was last heard, and once
    /// pinged, the idle timeout after that.
    fn next_check(&self) -> Instant {
        let config = self.config;
        self.last_heard + if self.pinged { config.idle_timeout } else { config.ping_interval.min(config.idle_timeout) }
    }

    /// Relays what this member posted, if anything.
    fn relay_posted(&mut self) {
        if let (Some(room), true) = (self.room, self.posted > 0) {
            room.relay_posted();
        }
        self.posted = 0;
    }

    /// The wait for a frame timed out: ping a peer that has been silent for the ping interval (RFC 6455
    /// §5.5.2: it must answer with a Pong, and browsers do so without any page script), and
    /// close one that has been silent for the idle timeout.
    fn on_quiet(&mut self) -> Option<Ended> {
        let config = self.config;
        let silent = self.last_heard.elapsed();
        if silent >= config.idle_timeout {
            return Some(self.fail(CloseCode::Away, "idle timeout: no frames received"));
        }
        if !self.pinged && silent >= config.ping_interval {
            if self.ws.send(Message::Ping(Default::default())).is_err() {
                return Some(Ended::Abnormal(Broken::PingNotSent));
            }
            self.pinged = true;
        }
        None
    }

    /// A read failed: say how the connection ends, with the close code RFC 6455 §7.4.1 gives.
    fn on_error(&mut self, error: WsError) -> Ended {
        match error {
            WsError::ConnectionClosed | WsError::AlreadyClosed => match self.peer_close.take() {
                Some(close) => Ended::PeerClosed(close),
                None => Ended::Closed,
            },
            WsError::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<EndlessMessage>()) => {
                let reason = format!("message too big: its frames passed {} bytes", self.ws.get_ref().most());
                self.fail(CloseCode::Size, &reason)
            }
            WsError::Io(e) => Ended::Abnormal(Broken::Io(e)),
            WsError::Capacity(_) => {
                let reason = format!("message too big: the limit is {} bytes", self.config.max_message);
                self.fail(CloseCode::Size, &reason)
            }
            WsError::Utf8(_) => self.fail(CloseCode::Invalid, "invalid UTF-8 in a text message or close reason"),
            WsError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                Ended::Abnormal(Broken::NoCloseFrame)
            }
            WsError::Protocol(p) => self.fail(CloseCode::Protocol, &format!("protocol error: {p}")),
            other => self.fail(CloseCode::Error, &format!("internal error: {other}")),
        }
    }

    /// One message from the peer. Returns how the connection ended, if it did.
    fn on_message(&mut self, message: Message) -> Option<Ended> {
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
        sent.err().map(|e| Ended::Abnormal(Broken::Io(io_error(e))))
    }

    /// A frame over the rate limit is dropped. The member is told so, but not more than every
    /// few seconds.
    fn over_the_limit(&mut self) -> Option<Ended> {
        crate::metrics::RATE_LIMITED.inc();
        if self.flood_told.is_some_and(|told| told.elapsed() < FLOOD_NOTICE_EVERY) {
            return None;
        }
        self.flood_told = Some(self.last_heard);
        crate::log::conn(self.member.id, self.member.peer, "over the rate limit: frames dropped");
        let text = format!(
            "You are sending too fast: messages are being dropped (limit {} per second, {} at once).",
            self.config.rate_limit, self.config.rate_burst
        );
        self.reply(&ServerEvent::Error(&text)).err().map(|e| Ended::Abnormal(Broken::Io(io_error(e))))
    }

    /// A text message in a chat room, parsed ([`ClientEvent::parse`]) and applied: a chat
    /// message is posted for the next relay (see [`Reader::next_frame`]); the heartbeat is
    /// answered; anything else is refused with a reason.
    fn chat(&mut self, room: &Room, text: &str) -> tungstenite::Result<()> {
        match ClientEvent::parse(text, self.config.max_text) {
            Ok(Some(ClientEvent::Chat(message))) => {
                room.post(self.member, &message, false);
                self.posted += 1;
                Ok(())
            }
            // An action is a message like any other, marked: it keeps its place among them.
            Ok(Some(ClientEvent::Command(Command::Me(action)))) => {
                room.post(self.member, &action, true);
                self.posted += 1;
                Ok(())
            }
            Ok(Some(ClientEvent::Command(command))) => {
                // What this member said before the command goes out first.
                self.relay_posted();
                match room.command(self.member, command, self.config.max_name) {
                    Outcome::Done => Ok(()),
                    Outcome::Reply(text) => self.reply(&ServerEvent::Notice(&text)),
                    Outcome::Refused(why) => self.reply(&ServerEvent::Error(&why)),
                }
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
    fn fail(&mut self, code: CloseCode, reason: &str) -> Ended {
        self.relay_posted();
        self.member.begin_close();
        let frame = CloseFrame { code, reason: reason.to_string().into() };
        let _ = self.ws.close(Some(frame));
        linger(self.member.stream());
        Ended::WeClosed { code: u16::from(code), reason: reason.to_string() }
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
/// each; with it, 2 pages: the one holding the thread's control block and thread-locals, and the
/// one the frames of the idle wait fit in. That second page has room only because the wait is
/// shallow (`poll` from [`Reader::next_frame`], under the small frame of
/// `connection::member::websocket`): in a build linked against glibc dynamically, whose
/// thread-locals fill most of the top page, a wait in `recv` inside tungstenite took a third
/// page (15.9 KiB per member, against 11.7 now).
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
