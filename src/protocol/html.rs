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
///     file: None,
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
    let _ = write!(out, r#"<li class="message" data-seq="{}" data-name=""#, message.seq);
    escape_into(out, &message.name);
    if !message.mentions.is_empty() {
        // A JSON array of names, which the page reads with JSON.parse: names may hold spaces.
        out.push_str(r#"" data-mentions=""#);
        let names = serde_json::to_string(&message.mentions).expect("a list of strings always serialises");
        escape_into(out, &names);
    }
    let _ = write!(out, r#""><time datetime="{iso}">{} UTC</time> <b class="name">"#, &iso[11..16]);
    escape_into(out, &message.name);
    out.push_str(r#"</b> <span class="text">"#);
    format_into(out, &message.text);
    out.push_str("</span>");
    attachment::html_into(out, message.file.as_ref());
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
    out.push_str(r#"">"#);
    escape_into(out, welcome.you);
    out.push_str("</span>");
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
mod tests {
    use super::*;
    use crate::protocol::{Change, Dialect};

    fn msg(text: &str) -> ChatMessage {
        let (name, text) = ("<ann>".into(), text.into());
        ChatMessage { seq: 7, ts: 1_764_190_800_123, name, text, mentions: vec![], file: None }
    }

    fn page(event: &ServerEvent<'_>) -> String {
        let html = fragment("x", event);
        assert_eq!(Dialect::Html.frames("x", event), EncodedFrame::text(&html), "one frame holds the fragment");
        html
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(escape("plain ünïcode ✓"), "plain ünïcode ✓");
    }

    #[test]
    fn a_message_appends_one_item_out_of_band() {
        assert_eq!(
            page(&ServerEvent::Message(&msg("<b>hi</b>"))),
            concat!(
                r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="7" data-name="&lt;ann&gt;">"#,
                r#"<time datetime="2025-11-26T21:00:00.123Z">21:00 UTC</time> <b class="name">&lt;ann&gt;</b> "#,
                r#"<span class="text">&lt;b&gt;hi&lt;/b&gt;</span></li></ul>"#
            )
        );
    }

    #[test]
    fn the_text_is_formatted_and_the_name_is_not() {
        let mut said = msg("see `x` at https://x.org");
        said.name = "`ann` https://y.org".into();
        let mut item = String::new();
        message_item(&mut item, &said);
        assert!(item.contains(r#"data-name="`ann` https://y.org"><time"#), "{item}");
        assert!(item.contains(r#"<b class="name">`ann` https://y.org</b>"#), "{item}");
        assert!(item.contains(concat!(
            r#"<span class="text">see <code>x</code> at <a href="https://x.org" "#,
            r#"rel="noopener noreferrer nofollow" target="_blank">https://x.org</a></span></li>"#
        )));
    }

    #[test]
    fn the_welcome_replaces_the_list() {
        let history = [msg("hello")];
        let roster = Roster { names: &["<ann>", "bob"], count: 2 };
        let welcome =
            Welcome { you: "bob", history: &history, more: true, roster, notice: "You are bob.", alert: true };
        let html = page(&ServerEvent::Welcome(welcome));
        assert!(html.starts_with(r#"<ul id="messages" hx-swap-oob="true""#));
        assert!(html.contains("/r/x/history?before=7&amp;limit=50"));
        assert!(html.contains(
            r#"<ul id="roster" hx-swap-oob="true" aria-label="2 here"><li data-name="&lt;ann&gt;">&lt;ann&gt;</li>"#
        ));
        assert!(html.contains(r#"<span id="me" hx-swap-oob="true" data-name="bob">bob</span>"#));
        assert!(html.ends_with(r#"class="notice info" role="alert">You are bob.</p>"#));
    }

    #[test]
    fn big_presence_batches_are_summed_up() {
        let changes: Vec<Change> = (0..40).map(|i| Change { name: format!("p{i}"), joined: i != 5, ts: 0 }).collect();
        let roster = Roster { names: &["p0", "p1"], count: 250 };
        let html = page(&ServerEvent::Presence(Presence { changes: &changes, roster }));
        assert!(html.contains(r#"<b class="name">p0</b>, <b class="name">p1</b> and 37 others joined</li>"#), "{html}");
        assert!(html.contains(r#"<b class="name">p5</b> left</li>"#), "{html}");
        assert!(html.contains(r#"<li class="more">and 248 more</li></ul>"#), "{html}");
        let small = page(&ServerEvent::Presence(Presence { changes: &changes[..2], roster }));
        assert_eq!(small.matches("<li class=\"event join\">").count(), 2);
    }

    #[test]
    fn the_room_list_replaces_the_side_bars_and_marks_no_room() {
        let rooms = [
            RoomSummary { name: "lobby".into(), members: 2, messages: 40 },
            RoomSummary { name: "kitchen".into(), members: 0, messages: 3 },
        ];
        assert_eq!(
            page(&ServerEvent::Rooms(&rooms)),
            concat!(
                r#"<ul id="rooms" hx-swap-oob="true">"#,
                r#"<li><a href="/">#lobby</a> <span class="count" title="people here">2</span></li>"#,
                r#"<li><a href="/r/kitchen">#kitchen</a> <span class="count" title="people here">0</span></li>"#,
                "</ul>"
            )
        );
        assert!(page(&ServerEvent::Rooms(&[])).contains(r#"<li class="empty">No other rooms yet.</li>"#));
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("ann b/é"), "ann%20b%2F%C3%A9");
    }
}
