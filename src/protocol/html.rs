//! The page's dialect: HTML fragments for the htmx ws extension, and the escaping of user text.
//!
//! The ws extension swaps each top-level element of a received frame into the page element with
//! the same `id`, as its `hx-swap-oob` attribute says: `beforeend` appends (a message to
//! `#messages`), `true` replaces (the roster `#roster`, the notice line `#notice`). So one frame
//! can append a message, replace the roster and clear the notice at once.
//!
//! Every piece of user text goes into HTML through [`escape_into`], here and nowhere else, so
//! this file is the one place to audit; a message's text goes through [`format_into`], which
//! escapes it the same way and then marks up its links and code (`format.rs`, the other place to
//! audit). Personal touches (my own messages) are the page's business: fragments carry `data-`
//! attributes, never "you".

mod people;

use std::fmt::Write as _;

pub use super::escape::{escape, escape_into, url_encode};
use super::format::format_into;
use super::json::RoomSummary;
use super::{attachment, ChatMessage, Presence, Roster, ServerEvent, Welcome, DEFAULT_ROOM, HEARTBEAT_REPLY};
use crate::protocol::frame::EncodedFrame;
use crate::time::rfc3339;

/// Names shown in the page's roster; beyond, "and N more".
pub const PAGE_ROSTER: usize = 100;

/// A presence batch with more changes than this is summed up ("ann, bob and 40 others joined").
pub const PRESENCE_ITEMS: usize = 3;

/// Appends `event`, as the page gets it, to `frames` (one frame).
pub fn encode(room: &str, event: &ServerEvent<'_>, frames: &mut Vec<u8>) {
    EncodedFrame::push_text(frames, &fragment(room, event));
}

/// The HTML fragment for `event` in `room`: what one frame to the page carries.
pub fn fragment(room: &str, event: &ServerEvent<'_>) -> String {
    let mut out = String::new();
    match event {
        ServerEvent::Welcome(welcome) => welcome_into(&mut out, room, welcome),
        ServerEvent::Message(message) => {
            out.reserve(message.text.len() + message.name.len() * 2 + 200);
            out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend">"#);
            message_item(&mut out, message);
            out.push_str("</ul>");
        }
        ServerEvent::Presence(presence) => presence_into(&mut out, presence),
        ServerEvent::Error(text) => notice_into(&mut out, text, "error"),
        ServerEvent::Pong => out.push_str(HEARTBEAT_REPLY),
        ServerEvent::Rooms(rooms) => {
            out.push_str(r#"<ul id="rooms" hx-swap-oob="true">"#);
            room_items(&mut out, rooms, None);
            out.push_str("</ul>");
        }
        ServerEvent::Notice(text) => notice_into(&mut out, text, "info"),
        ServerEvent::Happened { text, ts } => people::happened_into(&mut out, text, *ts),
        ServerEvent::Direct(direct) => people::direct_into(&mut out, direct),
        ServerEvent::Edit { seq, text } => people::edit_into(&mut out, *seq, text),
        ServerEvent::Delete(seq) => people::delete_into(&mut out, *seq),
        ServerEvent::Announce(text) => people::announce_into(&mut out, text),
        ServerEvent::Renamed(renamed) => {
            people::renamed_into(&mut out, renamed);
            roster_into(&mut out, &renamed.roster);
        }
    }
    out
}

/// The page's URL for a room: the lobby is `/`.
pub fn room_url(room: &str) -> String {
    if room == DEFAULT_ROOM {
        "/".into()
    } else {
        format!("/r/{room}")
    }
}

/// The items of the side bar's room list (`<ul id="rooms">`), each with how many people are in
/// it, and `current` marked (`aria-current`) when it is given: the chat page marks its own room,
/// while the live `rooms` event, the same bytes for every member, leaves the marking to the
/// page's script. Room names are checked to be `[a-z0-9_-]` before any room exists, but they are
/// escaped anyway: this is markup that goes into the page as it is, so it must not depend on a
/// check made elsewhere.
pub fn room_items(out: &mut String, rooms: &[RoomSummary], current: Option<&str>) {
    for summary in rooms {
        out.push_str(r#"<li><a href=""#);
        escape_into(out, &room_url(&summary.name));
        out.push('"');
        if current == Some(summary.name.as_str()) {
            out.push_str(r#" aria-current="page""#);
        }
        out.push_str(">#");
        escape_into(out, &summary.name);
        let _ = write!(out, r#"</a> <span class="count" title="people here">{}</span></li>"#, summary.members);
    }
    if rooms.is_empty() {
        out.push_str(r#"<li class="empty">No other rooms yet.</li>"#);
    }
}

/// One message as a list item, and the file it shares, if any ([`attachment::html_into`]). The `<time>` holds UTC; the page's script shows it in local time.
/// The text is escaped, with its links and code as markup ([`format_into`]); the name is only
/// escaped.
/// `data-name` lets the page mark its own messages (names are unique in a room), and
/// `data-mentions` (only there when someone is mentioned: a JSON array of names) lets it mark
/// the messages that call its member.
///
/// ```
/// use chatroom::protocol::{html, ChatMessage};
///
/// let said = ChatMessage {
///     seq: 1,
///     ts: 1_795_727_045_123,
///     name: "ann".into(),
///     text: "@bob tea's ready <3".into(),
///     mentions: vec!["bob".into()],
///     ..ChatMessage::default()
/// };
/// let mut item = String::new();
/// html::message_item(&mut item, &said);
/// assert_eq!(
///     item,
///     concat!(
///         r#"<li class="message" data-seq="1" data-name="ann" data-mentions="[&quot;bob&quot;]">"#,
///         r#"<time datetime="2026-11-26T21:04:05.123Z">21:04 UTC</time> <b class="name">ann</b> "#,
///         r#"<span class="text">@bob tea&#39;s ready &lt;3</span></li>"#,
///     )
/// );
/// ```
pub fn message_item(out: &mut String, message: &ChatMessage) {
    let iso = rfc3339(message.ts);
    let class = if message.action { "message action" } else { "message" };
    let _ = write!(out, r#"<li class="{class}" data-seq="{}" data-name=""#, message.seq);
    escape_into(out, &message.name);
    if !message.tag().is_empty() {
        // Hex digits only: the page marks the messages with its own tag as its own.
        let _ = write!(out, r#"" data-by="{}"#, message.tag());
    }
    if !message.mentions.is_empty() {
        // A JSON array of names, which the page reads with JSON.parse: names may hold spaces.
        out.push_str(r#"" data-mentions=""#);
        let names = serde_json::to_string(&message.mentions).expect("a list of strings always serialises");
        escape_into(out, &names);
    }
    let _ = write!(out, r#""><time datetime="{iso}">{} UTC</time> "#, &iso[11..16]);
    if message.action {
        out.push_str("* ");
    }
    out.push_str(r#"<b class="name">"#);
    escape_into(out, &message.name);
    out.push_str(r#"</b> <span class="text">"#);
    format_into(out, &message.text);
    out.push_str("</span>");
    attachment::html_into(out, message.file.as_ref());
    if message.edited {
        out.push_str(r#" <small class="edited">edited</small>"#);
    }
    out.push_str("</li>");
}

/// What a page gets on joining, in one frame: the recent history *replacing* the message list
/// (so a reconnect never shows a message twice), the roster, who you are, and a notice.
fn welcome_into(out: &mut String, room: &str, welcome: &Welcome<'_>) {
    out.reserve(512 + welcome.history.iter().map(|m| m.text.len() + 160).sum::<usize>());
    out.push_str(r#"<ul id="messages" hx-swap-oob="true" aria-live="polite">"#);
    more_item(out, room, welcome.history.first().map(|m| m.seq), welcome.more);
    for message in welcome.history {
        message_item(out, message);
    }
    out.push_str("</ul>");
    roster_into(out, &welcome.roster);
    out.push_str(r#"<span id="me" hx-swap-oob="true" data-name=""#);
    escape_into(out, welcome.you);
    // The tag is hex digits; the page shows the host's controls when `data-host` is there.
    let _ = write!(out, r#"" data-tag="{}"#, welcome.tag);
    if welcome.host {
        out.push_str(r#"" data-host="true"#);
    }
    out.push_str(r#"">"#);
    escape_into(out, welcome.you);
    out.push_str("</span>");
    // A banner only when there is one: the page hides its banner on every welcome first.
    if !welcome.announce.is_empty() {
        people::announce_into(out, welcome.announce);
    }
    if welcome.alert {
        notice_into(out, welcome.notice, "info");
    } else {
        out.push_str(r#"<p id="notice" hx-swap-oob="true"></p>"#);
    }
}

/// Joins and leaves appended to the message list, plus the roster as it now is. Up to
/// [`PRESENCE_ITEMS`] changes get an item each; a bigger batch is summed up in one item per
/// direction ("ann, bob and 38 others joined").
fn presence_into(out: &mut String, presence: &Presence<'_>) {
    out.reserve(200 + presence.roster.names.len().min(PAGE_ROSTER) * 40);
    let changes = presence.changes;
    if !changes.is_empty() {
        out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend">"#);
        if changes.len() <= PRESENCE_ITEMS {
            for change in changes {
                presence_item(out, &[&change.name], 0, change.joined, change.ts);
            }
        } else {
            for direction in [true, false] {
                let names: Vec<&str> =
                    changes.iter().filter(|c| c.joined == direction).map(|c| c.name.as_str()).collect();
                if let Some(last) = changes.iter().rev().find(|c| c.joined == direction) {
                    let shown = names.len().min(2);
                    presence_item(out, &names[..shown], names.len() - shown, direction, last.ts);
                }
            }
        }
        out.push_str("</ul>");
    }
    roster_into(out, &presence.roster);
}

/// One "ann joined" item; `others` more people are summed up after the names.
fn presence_item(out: &mut String, names: &[&str], others: usize, joined: bool, ts: u64) {
    let iso = rfc3339(ts);
    let (class, verb) = if joined { ("join", "joined") } else { ("leave", "left") };
    let _ = write!(out, r#"<li class="event {class}"><time datetime="{iso}">{} UTC</time> "#, &iso[11..16]);
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(if others == 0 && i == names.len() - 1 { " and " } else { ", " });
        }
        out.push_str(r#"<b class="name">"#);
        escape_into(out, name);
        out.push_str("</b>");
    }
    match others {
        0 => {}
        1 => out.push_str(" and 1 other"),
        n => {
            let _ = write!(out, " and {n} others");
        }
    }
    let _ = write!(out, " {verb}</li>");
}

/// The roster element, replacing the page's whole `#roster`: the first names, and how many more.
fn roster_into(out: &mut String, roster: &Roster<'_>) {
    let shown = &roster.names[..roster.names.len().min(PAGE_ROSTER)];
    let _ = write!(out, r#"<ul id="roster" hx-swap-oob="true" aria-label="{} here">"#, roster.count);
    for name in shown {
        out.push_str(r#"<li data-name=""#);
        escape_into(out, name);
        out.push_str(r#"">"#);
        escape_into(out, name);
        out.push_str("</li>");
    }
    if roster.count > shown.len() {
        let _ = write!(out, r#"<li class="more">and {} more</li>"#, roster.count - shown.len());
    }
    out.push_str("</ul>");
}

/// The "load older messages" item at the top of the list, or a marker for the very beginning.
/// Room names are `[a-z0-9_-]` (see `names::room`), so the URL needs no escaping.
fn more_item(out: &mut String, room: &str, oldest: Option<u64>, more: bool) {
    match oldest {
        Some(seq) if more => {
            let _ = write!(
                out,
                r##"<li id="more" class="more"><button type="button" hx-get="/r/{room}/history?before={seq}&amp;limit=50&amp;format=html" hx-target="#more" hx-swap="outerHTML">Load older messages</button></li>"##
            );
        }
        _ => out.push_str(r#"<li id="more" class="more start">This is the start of the conversation.</li>"#),
    }
}

/// A page of older messages for "load older messages" (`/r/ROOM/history?format=html`): it
/// replaces the `#more` item with a new one and the messages before the ones shown.
pub fn older_page(room: &str, page: &[ChatMessage], more: bool) -> String {
    let mut out = String::with_capacity(256 + page.iter().map(|m| m.text.len() + 160).sum::<usize>());
    more_item(&mut out, room, page.first().map(|m| m.seq), more);
    for message in page {
        message_item(&mut out, message);
    }
    out
}

/// The notice line, replaced: `kind` is `info` or `error`.
fn notice_into(out: &mut String, text: &str, kind: &str) {
    let _ = write!(out, r#"<p id="notice" hx-swap-oob="true" class="notice {kind}" role="alert">"#);
    escape_into(out, text);
    out.push_str("</p>");
}

#[cfg(test)]
mod tests;
