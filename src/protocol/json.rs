//! The JSON dialect (`chatroom.json`): one JSON object per frame, told apart by its `type`.
//!
//! These types are the schema, both ways: the server serialises them, and the terminal client
//! and the tests deserialise the very same types (`serde` derives both). Field order is the
//! order on the wire. Text fields are `Cow`, so the server writes them straight from its own
//! strings while a client reading them gets owned ones (`Event<'static>` is
//! `DeserializeOwned`).
//!
//! JSON clients get raw text: escaping is the business of whoever renders it as HTML.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::attachment::SharedFile;
use super::{ChatMessage, Presence, Roster, ServerEvent, Welcome, HEARTBEAT_REPLY};
use crate::protocol::frame::EncodedFrame;
use crate::time::rfc3339;

/// Every event a JSON client receives. See `docs/protocol.md` for an example of each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event<'a> {
    /// The recent messages, sent once on joining, oldest first.
    History {
        /// The room.
        room: Cow<'a, str>,
        /// The messages.
        messages: Vec<Entry<'a>>,
        /// Whether older messages exist (ask `/r/ROOM/history` for them).
        more: bool,
    },
    /// Who is here now, in order of arrival: on joining, and after each batch of joins/leaves.
    Roster {
        /// The room.
        room: Cow<'a, str>,
        /// The first names, at most [`super::ROSTER_NAMES`].
        members: Vec<Cow<'a, str>>,
        /// How many there are in all, when `members` is not all of them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<usize>,
    },
    /// Information for this member only; on joining, it carries the member's name.
    Notice {
        /// What to show.
        text: Cow<'a, str>,
        /// The member's name in the room, on joining.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<Cow<'a, str>>,
    },
    /// A chat message, to everyone in the room.
    Message(Message<'a>),
    /// Someone came into the room.
    Join(Arrival<'a>),
    /// Someone left the room.
    Leave(Arrival<'a>),
    /// Something this member sent was refused; the socket stays open.
    Error {
        /// Why, in one sentence.
        text: Cow<'a, str>,
    },
    /// The public rooms, as `GET /api/rooms` lists them, whenever the list has changed.
    Rooms {
        /// Busiest first.
        rooms: Cow<'a, [RoomSummary]>,
    },
    /// A private message (`/msg`): to its sender and its recipient only, never saved.
    Direct {
        /// Who sent it.
        from: Cow<'a, str>,
        /// Who it is for.
        to: Cow<'a, str>,
        /// What it says.
        text: Cow<'a, str>,
        /// When, RFC 3339 in UTC.
        ts: Cow<'a, str>,
    },
    /// A message's new text (`/edit`).
    Edit {
        /// The room.
        room: Cow<'a, str>,
        /// The message.
        seq: u64,
        /// Its new text.
        text: Cow<'a, str>,
    },
    /// A message was deleted (`/delete`).
    Delete {
        /// The room.
        room: Cow<'a, str>,
        /// The message.
        seq: u64,
    },
    /// The room's banner (`/announce`): on joining when there is one, and whenever it changes;
    /// empty text: no banner.
    Announce {
        /// The room.
        room: Cow<'a, str>,
        /// The banner.
        text: Cow<'a, str>,
    },
    /// A member took another name (`/nick`); a `roster` follows. When `from` is the client's own
    /// name, `to` is its name from now on.
    Rename {
        /// The room.
        room: Cow<'a, str>,
        /// When, RFC 3339 in UTC.
        ts: Cow<'a, str>,
        /// The name it had.
        from: Cow<'a, str>,
        /// The name it has now.
        to: Cow<'a, str>,
    },
}

/// A chat message as JSON clients see it: in a `message` event, and in `history` lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message<'a> {
    /// The room it was said in.
    pub room: Cow<'a, str>,
    /// Its number in the room: from 1, only growing, across restarts too.
    pub seq: u64,
    /// When it was relayed: RFC 3339 in UTC, with milliseconds.
    pub ts: Cow<'a, str>,
    /// Who said it.
    pub name: Cow<'a, str>,
    /// What was said, trimmed.
    pub text: Cow<'a, str>,
    /// The members it mentions (`@name`), by their names as shown; empty when none. A client
    /// rings for the messages whose list holds its own name.
    #[serde(default)]
    pub mentions: Vec<Cow<'a, str>>,
    /// The file it shares (`url`, `name`, `size`, `type`), if any: its text is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Cow<'a, SharedFile>>,
    /// Said with `/me`: shown as "* ann TEXT". Only there when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub action: bool,
    /// Its text was changed with `/edit`. Only there when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub edited: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl<'a> Message<'a> {
    /// The JSON form of `message`, said in `room`.
    pub fn of(room: &'a str, message: &'a ChatMessage) -> Message<'a> {
        Message {
            room: room.into(),
            seq: message.seq,
            ts: rfc3339(message.ts).into(),
            name: message.name.as_str().into(),
            text: message.text.as_str().into(),
            mentions: message.mentions.iter().map(|name| name.as_str().into()).collect(),
            file: message.file.as_ref().map(Cow::Borrowed),
            action: message.action,
            edited: message.edited,
        }
    }
}

/// One entry of a list of messages (`history` events, the history API): a message with its
/// `"type": "message"`, exactly as a `message` event would carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Entry<'a> {
    /// The only kind of entry.
    Message(Message<'a>),
}

impl<'a> Entry<'a> {
    /// The message this entry holds.
    pub fn message(&self) -> &Message<'a> {
        let Entry::Message(message) = self;
        message
    }
}

/// Someone's arrival or departure (`join` and `leave` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival<'a> {
    /// The room.
    pub room: Cow<'a, str>,
    /// When, RFC 3339 in UTC.
    pub ts: Cow<'a, str>,
    /// Their name in the room.
    pub name: Cow<'a, str>,
}

/// `GET /r/ROOM/history`: a page of older messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage<'a> {
    /// The room.
    pub room: Cow<'a, str>,
    /// The messages.
    pub messages: Vec<Entry<'a>>,
    /// Whether there are older ones: ask again with `before` set to the first `seq` here.
    pub more: bool,
}

/// `GET /r/ROOM/search`: the messages whose text or name holds `q` (case ignored), newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults<'a> {
    /// The room.
    pub room: Cow<'a, str>,
    /// What was looked for, as it was matched (without surrounding spaces).
    pub q: Cow<'a, str>,
    /// The matching messages, newest first.
    pub messages: Vec<Entry<'a>>,
    /// Whether older messages match too.
    pub more: bool,
    /// When `more`: the `before` to ask with for the next page (the last `seq` here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
}

/// `GET /api/rooms`: the public rooms that have people or history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    /// Busiest first.
    pub rooms: Vec<RoomSummary>,
}

/// One entry of the room list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    /// The room's name.
    pub name: String,
    /// How many members are in it now.
    pub members: usize,
    /// Its last sequence number: about how many messages it has had, ever (numbers may skip).
    pub messages: u64,
}

/// What a member sends to chat, in both dialects: `{"message": "hello"}`. The page's ws
/// extension adds the form's other fields and a `HEADERS` object, which are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said<'a> {
    /// The text, as typed. Borrowed from the frame when it has no JSON escapes.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// Appends `event`, as JSON clients get it, to `frames`: one frame per JSON event.
pub fn encode(room: &str, event: &ServerEvent<'_>, frames: &mut Vec<u8>) {
    match event {
        ServerEvent::Welcome(welcome) => welcome_into(frames, room, welcome),
        ServerEvent::Message(message) => push(frames, &Event::Message(Message::of(room, message))),
        ServerEvent::Presence(presence) => presence_into(frames, room, presence),
        ServerEvent::Error(text) => push(frames, &Event::Error { text: (*text).into() }),
        ServerEvent::Pong => EncodedFrame::push_text(frames, HEARTBEAT_REPLY),
        ServerEvent::Rooms(rooms) => push(frames, &Event::Rooms { rooms: Cow::Borrowed(rooms) }),
        ServerEvent::Notice(text) | ServerEvent::Happened { text, .. } => {
            push(frames, &Event::Notice { text: (*text).into(), name: None })
        }
        ServerEvent::Direct(direct) => push(
            frames,
            &Event::Direct {
                from: direct.from.into(),
                to: direct.to.into(),
                text: direct.text.into(),
                ts: rfc3339(direct.ts).into(),
            },
        ),
        ServerEvent::Edit { seq, text } => {
            push(frames, &Event::Edit { room: room.into(), seq: *seq, text: (*text).into() })
        }
        ServerEvent::Delete(seq) => push(frames, &Event::Delete { room: room.into(), seq: *seq }),
        ServerEvent::Announce(text) => push(frames, &Event::Announce { room: room.into(), text: (*text).into() }),
        ServerEvent::Renamed(renamed) => {
            let (from, to) = (renamed.from.into(), renamed.to.into());
            push(frames, &Event::Rename { room: room.into(), ts: rfc3339(renamed.ts).into(), from, to });
            push(frames, &roster(room, &renamed.roster));
        }
    }
}

/// `history`, `roster`, then a `notice` that carries the member's name: three frames; and the
/// banner, if the room has one.
fn welcome_into(frames: &mut Vec<u8>, room: &str, welcome: &Welcome<'_>) {
    let messages = welcome.history.iter().map(|m| Entry::Message(Message::of(room, m))).collect();
    push(frames, &Event::History { room: room.into(), messages, more: welcome.more });
    push(frames, &roster(room, &welcome.roster));
    push(frames, &Event::Notice { text: welcome.notice.into(), name: Some(welcome.you.into()) });
    if !welcome.announce.is_empty() {
        push(frames, &Event::Announce { room: room.into(), text: welcome.announce.into() });
    }
}

/// A `join` or `leave` per change, then the roster.
fn presence_into(frames: &mut Vec<u8>, room: &str, presence: &Presence<'_>) {
    for change in presence.changes {
        let arrival = Arrival { room: room.into(), ts: rfc3339(change.ts).into(), name: change.name.as_str().into() };
        push(frames, &if change.joined { Event::Join(arrival) } else { Event::Leave(arrival) });
    }
    push(frames, &roster(room, &presence.roster));
}

/// A `roster` event: `count` only when the names are not all of them.
fn roster<'a>(room: &'a str, roster: &Roster<'a>) -> Event<'a> {
    Event::Roster {
        room: room.into(),
        members: roster.names.iter().map(|name| Cow::Borrowed(*name)).collect(),
        count: (roster.count > roster.names.len()).then_some(roster.count),
    }
}

/// Appends one frame holding `event` as JSON.
fn push(frames: &mut Vec<u8>, event: &Event<'_>) {
    EncodedFrame::push_text(frames, &to_text(event));
}

/// Serialises a JSON type of this module (an event, or an API answer) to its text.
pub fn to_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("these types always serialise")
}

#[cfg(test)]
mod tests;
