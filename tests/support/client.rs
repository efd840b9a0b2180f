//! A WebSocket client for tests, in either dialect, and what it reads.

use std::borrow::Cow;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use chatroom::protocol::json::{self, Entry, Event};
use chatroom::protocol::ClientEvent;
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::{parse_event, TIMEOUT};

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

    /// The next text message, whatever it is, without the page's author tags (see
    /// [`without_tags`]); fails the test after [`TIMEOUT`].
    pub fn recv_raw_text(&mut self) -> String {
        super::wire::without_tags(&self.recv_tagged_text())
    }

    /// The next text message exactly as it came, author tags and all.
    pub fn recv_tagged_text(&mut self) -> String {
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
        super::wire::without_tags(&self.recv_tagged_containing(needle))
    }

    /// [`Client::recv_containing`], author tags and all.
    pub fn recv_tagged_containing(&mut self, needle: &str) -> String {
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

/// Whether a page frame is a join or leave announcement.
pub fn is_presence(fragment: &str) -> bool {
    fragment.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="event"#)
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
        Client::join_json_with(url, &[])
    }

    /// [`Client::join_json`] with extra request headers (a `Cookie` with a member id, an
    /// `Authorization` with the host key).
    pub fn join_json_with(url: &str, headers: &[(&str, &str)]) -> (Client, JsonWelcome) {
        let mut all = vec![("Sec-WebSocket-Protocol", "chatroom.json")];
        all.extend_from_slice(headers);
        let mut client = Client::try_connect(url, &all).unwrap_or_else(|e| panic!("connect {url}: {e}"));
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

    /// Sends `text` as a member types it, in the JSON dialect: a command stays a command (unlike
    /// [`Client::say_json`], which sends a text that starts with `/` as text).
    pub fn type_in(&mut self, text: &str) {
        self.send_text(&serde_json::json!({ "message": text }).to_string());
    }

    /// Waits for the next `error` event (others are set aside) and returns its text.
    pub fn recv_error(&mut self) -> String {
        match self.recv_event_where(|e| matches!(e, Event::Error { .. })) {
            Event::Error { text } => text.into_owned(),
            _ => unreachable!(),
        }
    }

    /// Waits for a `notice` event whose text contains `needle` (others are set aside) and returns
    /// its text.
    pub fn recv_notice(&mut self, needle: &str) -> String {
        match self.recv_event_where(|e| matches!(e, Event::Notice { text, .. } if text.contains(needle))) {
            Event::Notice { text, .. } => text.into_owned(),
            _ => unreachable!(),
        }
    }

    /// Sends a chat message the way a JSON client does (the terminal client writes the same).
    pub fn say_json(&mut self, text: &str) {
        self.send_text(&ClientEvent::Chat(text.into()).to_frame_text());
    }
}
