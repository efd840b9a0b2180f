//! The wire: everything a member sends and everything the server sends, in one place.
//!
//! A member speaks one of two **dialects**, fixed at the WebSocket handshake (RFC 6455 §1.9,
//! subprotocols):
//! - **the page** (no subprotocol) gets HTML fragments that the htmx ws extension swaps into the
//!   page out of band (`hx-swap-oob`): [`html`];
//! - **JSON clients** (subprotocol `chatroom.json`: bots, `chatroom join`, tests) get one JSON
//!   object per frame, told apart by its `type`: [`json`].
//!
//! Both dialects *send* the same thing, so there is one parser for what members send, and one
//! encoder per dialect for what the server sends:
//!
//! | what | type | made in |
//! |---|---|---|
//! | what a member sends | [`ClientEvent`] | [`ClientEvent::parse`], for both dialects |
//! | what the server sends | [`ServerEvent`] | [`html::encode`] and [`json::encode`] |
//! | a numbered chat message | [`ChatMessage`] | the room; it is also one line of the room's log |
//! | one relay, for everyone | [`Outgoing`] | each event encoded once per dialect present |
//! | the bytes of a server frame | [`frame::EncodedFrame`] | once, unmasked, for any number of sockets (RFC 6455 §5) |
//! | a room's history as a file | text lines, a standalone page | [`transcript`], for `/r/ROOM/export` |
//! | a file shared in a message | [`attachment::SharedFile`] | the upload (`http::upload`); the page's thumbnail or card |
//!
//! **Adding an event** the server sends: a variant of [`ServerEvent`], its arm in
//! [`html::encode`] (and `assets/app.js` if the page does more than swap it in), its type in
//! [`json::Event`] and its arm in [`json::encode`], and its entry in `docs/protocol.md`. Nothing
//! else knows the dialects: rooms and members hand events to [`Outgoing`] or
//! [`Dialect::encode`] and write the bytes they get back.
//!
//! **Personal touches happen in the page.** A relay encodes each event once per dialect present
//! in the room, never once per member, so the same bytes go to everyone: which messages are
//! mine, or mention me, is worked out by the page's script from `data-` attributes.

pub mod attachment;
pub mod command;
pub mod escape;
pub mod format;
pub mod frame;
pub mod html;
mod inbound;
pub mod json;
pub mod transcript;

use serde::{Deserialize, Serialize};

use attachment::SharedFile;
use frame::EncodedFrame;
pub use inbound::{ClientEvent, Rejected, HEARTBEAT};

/// The room behind `/` and `/connect`: it always exists and is always listed.
pub const DEFAULT_ROOM: &str = "lobby";

/// The subprotocol a JSON client asks for (`Sec-WebSocket-Protocol: chatroom.json`).
pub const JSON_SUBPROTOCOL: &str = "chatroom.json";

/// The server's answer to the text heartbeat [`HEARTBEAT`], in both dialects.
pub const HEARTBEAT_REPLY: &str = "pong";

/// Names carried in a roster at most; beyond, it says how many there are in all. A roster goes
/// to every member on every batch of joins, so an unbounded one makes a crowd cost O(members²).
pub const ROSTER_NAMES: usize = 1000;

/// One chat message: numbered, timed, and said by someone. It is what a room's log stores (one
/// per line, as this JSON) and what `message` events and history replays carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Per-room sequence number, from 1, only growing.
    pub seq: u64,
    /// Server time when it was relayed, in milliseconds since the Unix epoch (UTC).
    pub ts: u64,
    /// Who sent it: the sender's name in the room at the time.
    pub name: String,
    /// What was said, trimmed, as sent (escaping happens when it is rendered as HTML).
    pub text: String,
    /// The members it mentions (`@name`), by their names as shown, in the order they were
    /// called ([`crate::chat::mentions`]). Left out of the log line when empty, and logs from
    /// before mentions existed read as mentioning no one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The file this message shares (`POST /r/ROOM/files`), if any; its text is then empty.
    /// Left out of the log line when there is none, so logs from before files read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<SharedFile>,
    /// Its author: the keyed hash of the sender's member id (`crate::identity`), never the id.
    /// It decides who may edit or delete the message; the relay never sends it. Empty in logs
    /// from before member ids (such messages can be deleted by the host only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    /// Said with `/me`: an action, shown as "* ann TEXT".
    #[serde(default, skip_serializing_if = "is_false")]
    pub action: bool,
    /// Its text was changed with `/edit` (the text is the latest).
    #[serde(default, skip_serializing_if = "is_false")]
    pub edited: bool,
    /// Deleted, in a compacted log (`chatroom compact`): its text is gone, its number and the
    /// rest are kept. Never shown, replayed, searched or exported.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

impl ChatMessage {
    /// The tag that marks its author's messages on the page: the first 12 hex characters of
    /// [`ChatMessage::by`] (empty when it has none). See `crate::identity` for why the page may
    /// know it: it links one author's messages, and gives no power over them.
    pub fn tag(&self) -> &str {
        author_tag(&self.by)
    }
}

/// The page's tag for an author hash (see [`ChatMessage::tag`]).
pub fn author_tag(by: &str) -> &str {
    by.get(..12).unwrap_or("")
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Which of the two dialects a member speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The htmx page: HTML fragments swapped out of band.
    Html,
    /// A client that asked for the `chatroom.json` subprotocol: one JSON event per frame.
    Json,
}

impl Dialect {
    /// The dialect of a member that agreed on `subprotocol` at the handshake (none: the page).
    pub fn of_subprotocol(subprotocol: Option<&str>) -> Dialect {
        match subprotocol {
            Some(JSON_SUBPROTOCOL) => Dialect::Json,
            _ => Dialect::Html,
        }
    }

    /// How many names a roster shows in this dialect: a welcome need carry no more.
    pub fn roster_names(self) -> usize {
        match self {
            Dialect::Html => html::PAGE_ROSTER,
            Dialect::Json => ROSTER_NAMES,
        }
    }

    /// Appends `event` in this dialect to `frames`, as one or more complete WebSocket frames.
    pub fn encode(self, room: &str, event: &ServerEvent<'_>, frames: &mut Vec<u8>) {
        match self {
            Dialect::Html => html::encode(room, event, frames),
            Dialect::Json => json::encode(room, event, frames),
        }
    }

    /// `event` in this dialect, as frames ready to write (for a member's own replies).
    pub fn frames(self, room: &str, event: &ServerEvent<'_>) -> EncodedFrame {
        let mut frames = Vec::new();
        self.encode(room, event, &mut frames);
        EncodedFrame::from_frames(frames)
    }
}

/// Everything the server sends to a member, whatever its dialect.
#[derive(Debug)]
pub enum ServerEvent<'a> {
    /// What a member gets first, once: its name, the recent history, who is here.
    Welcome(Welcome<'a>),
    /// A chat message, to everyone in the room (the sender too).
    Message(&'a ChatMessage),
    /// Joins and leaves since the last announcement, and the roster as it now is.
    Presence(Presence<'a>),
    /// Something this member sent was refused; one sentence saying why. To that member only.
    Error(&'a str),
    /// The answer to the text heartbeat.
    Pong,
    /// The public rooms as they are now (the side bar's list, as `GET /api/rooms` has it), to
    /// every member when it has changed.
    Rooms(&'a [json::RoomSummary]),
    /// Information for this member only (the answer to `/help`).
    Notice(&'a str),
    /// Something the host did, told to everyone in the room.
    Happened {
        /// What, in one sentence.
        text: &'a str,
        /// When, in milliseconds since the Unix epoch.
        ts: u64,
    },
    /// A private message (`/msg`), to its sender and its recipient only; never logged.
    Direct(Direct<'a>),
    /// A message's new text (`/edit`), to everyone.
    Edit {
        /// The message.
        seq: u64,
        /// Its new text.
        text: &'a str,
    },
    /// A message was deleted, to everyone.
    Delete(u64),
    /// The room's banner (`/announce`), to everyone; empty: none.
    Announce(&'a str),
    /// A member took another name (`/nick`), to everyone, with the roster as it now is. Each
    /// reader decides whether it was itself (`from` is its name: names are unique in a room).
    Renamed(Renamed<'a>),
}

/// A change of name (`/nick`).
#[derive(Debug, Clone, Copy)]
pub struct Renamed<'a> {
    /// The name it had.
    pub from: &'a str,
    /// The name it has now.
    pub to: &'a str,
    /// When, in milliseconds since the Unix epoch.
    pub ts: u64,
    /// Who is here, under their names as they now are.
    pub roster: Roster<'a>,
}

/// A private message (`/msg`).
#[derive(Debug, Clone, Copy)]
pub struct Direct<'a> {
    /// Who sent it.
    pub from: &'a str,
    /// Who it is for.
    pub to: &'a str,
    /// What it says.
    pub text: &'a str,
    /// When, in milliseconds since the Unix epoch.
    pub ts: u64,
}

/// What a member gets on joining.
#[derive(Debug)]
pub struct Welcome<'a> {
    /// Its name in the room (unique; perhaps not the one it asked for).
    pub you: &'a str,
    /// The most recent messages, oldest first.
    pub history: &'a [ChatMessage],
    /// Whether older messages exist than those in `history`.
    pub more: bool,
    /// Who is here, the newcomer included.
    pub roster: Roster<'a>,
    /// A sentence for the member: who it is, or why its name is not the one it asked for.
    pub notice: &'a str,
    /// Whether the notice needs attention (the page shows only those; JSON clients get it always).
    pub alert: bool,
    /// The room's banner (`/announce`), if any: after the roster.
    pub announce: &'a str,
    /// The member's tag ([`author_tag`]): the page marks messages that carry it as its own.
    pub tag: &'a str,
    /// Whether the member is the host: the page shows the host's controls.
    pub host: bool,
}

/// Who is in a room, in order of arrival.
#[derive(Debug, Clone, Copy)]
pub struct Roster<'a> {
    /// The first names, at most [`ROSTER_NAMES`].
    pub names: &'a [&'a str],
    /// How many members there are in all.
    pub count: usize,
}

/// A batch of joins and leaves (perhaps none: then only the roster is news).
#[derive(Debug)]
pub struct Presence<'a> {
    /// What happened, in order.
    pub changes: &'a [Change],
    /// The roster after all of it.
    pub roster: Roster<'a>,
}

/// Someone came into the room or left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Their name in the room.
    pub name: String,
    /// `true` for a join, `false` for a leave.
    pub joined: bool,
    /// When, in milliseconds since the Unix epoch.
    pub ts: u64,
}

/// One relay's bytes: each event encoded once for each dialect present in the room, and none
/// for a dialect nobody speaks.
pub struct Outgoing {
    html: Option<Vec<u8>>,
    json: Option<Vec<u8>>,
}

impl Outgoing {
    /// An empty relay for a room where these dialects are spoken.
    pub fn new(html: bool, json: bool) -> Outgoing {
        Outgoing { html: html.then(Vec::new), json: json.then(Vec::new) }
    }

    /// Adds `event`, encoded in every dialect present, after the events already in.
    pub fn push(&mut self, room: &str, event: &ServerEvent<'_>) {
        if let Some(frames) = &mut self.html {
            html::encode(room, event, frames);
        }
        if let Some(frames) = &mut self.json {
            json::encode(room, event, frames);
        }
    }

    /// The bytes for a member speaking `dialect` (`None` if it was not present when this was
    /// made: a member that joined since gets nothing from it).
    pub fn for_dialect(&self, dialect: Dialect) -> Option<&[u8]> {
        match dialect {
            Dialect::Html => self.html.as_deref(),
            Dialect::Json => self.json.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_encodes_only_the_dialects_present() {
        let said = ChatMessage {
            seq: 1,
            ts: 0,
            name: "ann".into(),
            text: "hi".into(),
            mentions: vec![],
            ..ChatMessage::default()
        };
        let mut only_json = Outgoing::new(false, true);
        only_json.push("lobby", &ServerEvent::Message(&said));
        assert!(only_json.for_dialect(Dialect::Html).is_none());
        let json = only_json.for_dialect(Dialect::Json).unwrap();
        assert_eq!(json, Dialect::Json.frames("lobby", &ServerEvent::Message(&said)).as_bytes());
    }

    #[test]
    fn the_subprotocol_chooses_the_dialect() {
        assert_eq!(Dialect::of_subprotocol(Some("chatroom.json")), Dialect::Json);
        assert_eq!(Dialect::of_subprotocol(None), Dialect::Html);
    }
}
