//! Every piece of text the server sends that contains user input is made here, and escaped here.
//!
//! Two audiences:
//! - **the page** speaks HTML: the htmx ws extension swaps each top-level element of a received
//!   frame into the page by its `id`, out of band (`hx-swap-oob`). So one frame can append a
//!   message to `#messages`, replace the roster `#roster` and the notice line `#notice` at once;
//! - **JSON clients** (subprotocol `chatroom.json`) get one JSON object per frame, with a `type`.
//!
//! Keeping all of it in one module gives one place to audit for escaping: user text goes into
//! HTML only through [`escape_into`], and into JSON only through serde_json.

use std::fmt::Write as _;

use serde::Serialize;

use crate::history::StoredMessage;

/// Appends `text` to `out` with the five HTML-significant characters escaped. Enough for element
/// content and for attribute values in double quotes, which is everywhere we put user text.
pub fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(replacement);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// `text`, HTML-escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(&mut out, text);
    out
}

/// Percent-encodes `text` for a URL query value (everything but unreserved characters).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// RFC 3339 UTC time with milliseconds, e.g. `2026-11-26T21:04:05.123Z`.
pub fn rfc3339(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm,
/// "chrono-Compatible Low-Level Date Algorithms").
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

// ---------------------------------------------------------------------------------------------
// HTML for the page
// ---------------------------------------------------------------------------------------------

/// One message as a list item. The `<time>` holds UTC; the page's script shows it in local time.
/// `data-name` lets the page mark its own messages (names are unique in a room).
pub fn message_item(out: &mut String, message: &StoredMessage) {
    let iso = rfc3339(message.ts);
    let _ = write!(out, r#"<li class="message" data-seq="{}" data-name=""#, message.seq);
    escape_into(out, &message.name);
    let _ = write!(out, r#""><time datetime="{iso}">{} UTC</time> <b class="name">"#, &iso[11..16]);
    escape_into(out, &message.name);
    out.push_str(r#"</b> <span class="text">"#);
    escape_into(out, &message.text);
    out.push_str("</span></li>");
}

/// A chat message for the page: one `<li>` appended to the message list.
///
/// The ws extension swaps the top-level `<ul id="messages">` into the page's element of the same
/// id, `beforeend`: its `<li>` is appended. User text is escaped on the way in.
///
/// ```
/// use chatroom::history::StoredMessage;
/// use chatroom::render::message_fragment;
///
/// let said = StoredMessage { seq: 1, ts: 1_795_727_045_123, name: "ann".into(), text: "tea's ready <3".into() };
/// assert_eq!(
///     message_fragment(&said),
///     concat!(
///         r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="1" data-name="ann">"#,
///         r#"<time datetime="2026-11-26T21:04:05.123Z">21:04 UTC</time> <b class="name">ann</b> "#,
///         r#"<span class="text">tea&#39;s ready &lt;3</span></li></ul>"#,
///     )
/// );
/// ```
pub fn message_fragment(message: &StoredMessage) -> String {
    let mut out = String::with_capacity(message.text.len() + message.name.len() * 2 + 200);
    out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend">"#);
    message_item(&mut out, message);
    out.push_str("</ul>");
    out
}

/// Joins and leaves (a batch of `(name, joined?, when)`), appended to the message list, plus
/// the roster as it now is. Up to `max_items` changes get an item each; a bigger batch is
/// summarised in one item per direction ("ann, bob and 38 others joined").
pub fn presence_fragment(changes: &[(&str, bool, u64)], max_items: usize, roster: &[&str], count: usize) -> String {
    let mut out = String::with_capacity(200 + roster.len() * 40);
    if changes.is_empty() {
        roster_into(&mut out, roster, count);
        return out;
    }
    out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend">"#);
    if changes.len() <= max_items {
        for (name, joined, ts) in changes {
            presence_item(&mut out, &[name], 0, *joined, *ts);
        }
    } else {
        for direction in [true, false] {
            let names: Vec<&str> = changes.iter().filter(|c| c.1 == direction).map(|c| c.0).collect();
            if let Some(last) = changes.iter().rev().find(|c| c.1 == direction) {
                let shown = names.len().min(2);
                presence_item(&mut out, &names[..shown], names.len() - shown, direction, last.2);
            }
        }
    }
    out.push_str("</ul>");
    roster_into(&mut out, roster, count);
    out
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
fn roster_into(out: &mut String, roster: &[&str], count: usize) {
    let _ = write!(out, r#"<ul id="roster" hx-swap-oob="true" aria-label="{count} here">"#);
    for name in roster {
        out.push_str(r#"<li data-name=""#);
        escape_into(out, name);
        out.push_str(r#"">"#);
        escape_into(out, name);
        out.push_str("</li>");
    }
    if count > roster.len() {
        let _ = write!(out, r#"<li class="more">and {} more</li>"#, count - roster.len());
    }
    out.push_str("</ul>");
}

/// The "load older messages" item at the top of the list, or a marker for the very beginning.
fn more_item(out: &mut String, room_path: &str, oldest: Option<u64>, more: bool) {
    match oldest {
        Some(seq) if more => {
            let _ = write!(
                out,
                r##"<li id="more" class="more"><button type="button" hx-get="{room_path}/history?before={seq}&amp;limit=50&amp;format=html" hx-target="#more" hx-swap="outerHTML">Load older messages</button></li>"##
            );
        }
        _ => out.push_str(r#"<li id="more" class="more start">This is the start of the conversation.</li>"#),
    }
}

/// What a page gets on joining, in one frame: the recent history *replacing* the message list
/// (so a reconnect never shows a message twice), the roster, who you are, and a notice.
pub fn welcome_fragment(
    room_path: &str,
    history: &[&StoredMessage],
    more: bool,
    roster: &[&str],
    count: usize,
    you: &str,
    notice: Option<&str>,
) -> String {
    let mut out = String::with_capacity(512 + history.iter().map(|m| m.text.len() + 160).sum::<usize>());
    out.push_str(r#"<ul id="messages" hx-swap-oob="true" aria-live="polite">"#);
    more_item(&mut out, room_path, history.first().map(|m| m.seq), more);
    for message in history {
        message_item(&mut out, message);
    }
    out.push_str("</ul>");
    roster_into(&mut out, roster, count);
    out.push_str(r#"<span id="me" hx-swap-oob="true" data-name=""#);
    escape_into(&mut out, you);
    out.push_str(r#"">"#);
    escape_into(&mut out, you);
    out.push_str("</span>");
    match notice {
        Some(text) => notice_into(&mut out, text, "info"),
        None => out.push_str(r#"<p id="notice" hx-swap-oob="true"></p>"#),
    }
    out
}

/// A page of older messages for "load older messages": replaces the `#more` item with a new one
/// and the messages before the ones shown.
pub fn older_fragment(room_path: &str, page: &[StoredMessage], more: bool) -> String {
    let mut out = String::with_capacity(256 + page.iter().map(|m| m.text.len() + 160).sum::<usize>());
    more_item(&mut out, room_path, page.first().map(|m| m.seq), more);
    for message in page {
        message_item(&mut out, message);
    }
    out
}

/// A notice for one member only, replacing the notice line.
pub fn notice_fragment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    notice_into(&mut out, text, "error");
    out
}

fn notice_into(out: &mut String, text: &str, kind: &str) {
    let _ = write!(out, r#"<p id="notice" hx-swap-oob="true" class="notice {kind}" role="alert">"#);
    escape_into(out, text);
    out.push_str("</p>");
}

/// One entry of the room list.
#[derive(Debug, Clone, Serialize)]
pub struct RoomSummary {
    /// The room's name.
    pub name: String,
    /// How many members are in it now.
    pub members: usize,
    /// How many messages it has had, ever (its last sequence number).
    pub messages: u64,
}

/// The limits the page's inputs announce (`maxlength`), from the server's flags.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    /// The longest message, in characters (`--max-text`).
    pub max_text: usize,
    /// The longest name, in characters (`--max-name`).
    pub max_name: usize,
}

/// The chat page for `room`.
pub fn page(
    room: &str,
    room_path: &str,
    connect: &str,
    name: &str,
    notice: Option<&str>,
    rooms: &[RoomSummary],
    limits: PageLimits,
) -> String {
    let mut list = String::new();
    for summary in rooms {
        let here = if summary.name == room { r#" aria-current="page""# } else { "" };
        let _ = write!(
            list,
            r#"<li><a href="{}"{here}>#{}</a> <span class="count" title="people here">{}</span></li>"#,
            escape(&room_url(&summary.name)),
            escape(&summary.name),
            summary.members
        );
    }
    if rooms.is_empty() {
        list.push_str(r#"<li class="empty">No other rooms yet.</li>"#);
    }
    crate::assets::PAGE_TEMPLATE
        .replace("{{room}}", &escape(room))
        .replace("{{room_path}}", &escape(room_path))
        .replace("{{connect}}", &escape(connect))
        .replace("{{name}}", &escape(name))
        .replace("{{notice_class}}", if notice.is_some() { "notice error" } else { "" })
        .replace("{{notice}}", &escape(notice.unwrap_or("")))
        .replace("{{rooms}}", &list)
        .replace("{{max_text}}", &limits.max_text.to_string())
        .replace("{{max_name}}", &limits.max_name.to_string())
}

/// The page's URL for a room: the lobby is `/`.
pub fn room_url(room: &str) -> String {
    if room == crate::http::routes::DEFAULT_ROOM {
        "/".into()
    } else {
        format!("/r/{room}")
    }
}

/// A small page saying that `raw` is not a valid room name, and what is.
pub fn bad_room_page(raw: &str) -> String {
    let mut out = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>No such room · chatroom</title><link rel="stylesheet" href="/assets/style.css"></head><body><main class="plain"><h1>No such room</h1><p>"#,
    );
    escape_into(&mut out, raw);
    out.push_str(" is not a valid room name. ");
    escape_into(&mut out, crate::name::ROOM_RULE);
    out.push_str(r#"</p><p><a href="/">Back to the lobby</a></p></main></body></html>"#);
    out
}

/// The access-code form: all a visitor without a session gets (`--access-code`).
pub fn access_page(next: &str, error: Option<&str>) -> String {
    let mut out = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Access code · chatroom</title><link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/style.css"></head><body><main class="plain"><h1>This chat needs an access code</h1>"#,
    );
    if let Some(error) = error {
        out.push_str(r#"<p id="notice" class="notice error" role="alert">"#);
        escape_into(&mut out, error);
        out.push_str("</p>");
    }
    out.push_str(r#"<form method="post" action="/login" class="go"><input type="hidden" name="next" value=""#);
    escape_into(&mut out, next);
    out.push_str(r#""><input type="password" name="code" aria-label="Access code" autocomplete="current-password" required autofocus><button type="submit">Enter</button></form><p>Ask whoever runs this chat for the code.</p></main></body></html>"#);
    out
}

// ---------------------------------------------------------------------------------------------
// JSON events for JSON clients
// ---------------------------------------------------------------------------------------------

/// A `message` event (also the shape of each entry in a `history` event).
#[derive(Serialize)]
pub struct MessageEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    room: &'a str,
    seq: u64,
    ts: String,
    name: &'a str,
    text: &'a str,
}

impl<'a> MessageEvent<'a> {
    /// The event for `message` in `room`.
    pub fn new(room: &'a str, message: &'a StoredMessage) -> Self {
        MessageEvent {
            kind: "message",
            room,
            seq: message.seq,
            ts: rfc3339(message.ts),
            name: &message.name,
            text: &message.text,
        }
    }
}

/// Every other event a JSON client gets.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event<'a> {
    /// Someone came into the room.
    Join {
        /// The room.
        room: &'a str,
        /// When, RFC 3339 in UTC.
        ts: String,
        /// Their name in the room.
        name: &'a str,
    },
    /// Someone left the room.
    Leave {
        /// The room.
        room: &'a str,
        /// When, RFC 3339 in UTC.
        ts: String,
        /// The name they had in the room.
        name: &'a str,
    },
    /// Who is here now, in order of arrival (see [`roster_event`]).
    Roster {
        /// The room.
        room: &'a str,
        /// The names, at most a thousand.
        members: &'a [&'a str],
        /// How many there are in all, when `members` is not all of them.
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<usize>,
    },
    /// The recent messages, sent once on joining.
    History {
        /// The room.
        room: &'a str,
        /// The messages, oldest first.
        messages: Vec<MessageEvent<'a>>,
        /// Whether older messages exist (ask `/r/ROOM/history` for them).
        more: bool,
    },
    /// Information for this member only; on joining, it carries the member's name.
    Notice {
        /// What to show.
        text: &'a str,
        /// The member's name in the room, on joining.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
    },
    /// Something this member sent was refused; the socket stays open.
    Error {
        /// Why, in one sentence.
        text: &'a str,
    },
}

/// A `roster` event: the names (at most a thousand, in order of arrival), and `count` when that
/// is not all of them.
pub fn roster_event<'a>(room: &'a str, members: &'a [&'a str], count: usize) -> Event<'a> {
    Event::Roster { room, members, count: (count > members.len()).then_some(count) }
}

/// Serialises an event to its JSON text.
pub fn json(event: &impl Serialize) -> String {
    serde_json::to_string(event).expect("events always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> StoredMessage {
        StoredMessage { seq: 7, ts: 1_764_190_800_123, name: "<ann>".into(), text: text.into() }
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
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_190_800_123), "2025-11-26T21:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn message_fragment_appends_one_item_out_of_band() {
        assert_eq!(
            message_fragment(&msg("<b>hi</b>")),
            concat!(
                r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="7" data-name="&lt;ann&gt;">"#,
                r#"<time datetime="2025-11-26T21:00:00.123Z">21:00 UTC</time> <b class="name">&lt;ann&gt;</b> "#,
                r#"<span class="text">&lt;b&gt;hi&lt;/b&gt;</span></li></ul>"#
            )
        );
    }

    #[test]
    fn welcome_replaces_the_list() {
        let m = msg("hello");
        let html = welcome_fragment("/r/x", &[&m], true, &["<ann>", "bob"], 2, "bob", Some("You are bob."));
        assert!(html.starts_with(r#"<ul id="messages" hx-swap-oob="true""#));
        assert!(html.contains("history?before=7&amp;limit=50"));
        assert!(html.contains(
            r#"<ul id="roster" hx-swap-oob="true" aria-label="2 here"><li data-name="&lt;ann&gt;">&lt;ann&gt;</li>"#
        ));
        assert!(html.contains(r#"<span id="me" hx-swap-oob="true" data-name="bob">bob</span>"#));
    }

    #[test]
    fn big_presence_batches_are_summarised() {
        let names: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
        let changes: Vec<(&str, bool, u64)> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i != 5, 0)).collect();
        let html = presence_fragment(&changes, 3, &["p0", "p1"], 250);
        assert!(html.contains(r#"<b class="name">p0</b>, <b class="name">p1</b> and 37 others joined</li>"#), "{html}");
        assert!(html.contains(r#"<b class="name">p5</b> left</li>"#), "{html}");
        assert!(html.contains(r#"<li class="more">and 248 more</li></ul>"#), "{html}");
        let small = presence_fragment(&changes[..2], 3, &["p0", "p1"], 2);
        assert_eq!(small.matches("<li class=\"event join\">").count(), 2);
    }

    #[test]
    fn json_events_have_a_type() {
        let m = msg("a \"quote\"");
        assert_eq!(
            json(&MessageEvent::new("lobby", &m)),
            r#"{"type":"message","room":"lobby","seq":7,"ts":"2025-11-26T21:00:00.123Z","name":"<ann>","text":"a \"quote\""}"#
        );
        assert_eq!(json(&roster_event("x", &["a", "b"], 2)), r#"{"type":"roster","room":"x","members":["a","b"]}"#);
        assert_eq!(json(&roster_event("x", &["a"], 5)), r#"{"type":"roster","room":"x","members":["a"],"count":5}"#);
        assert_eq!(json(&Event::Error { text: "no" }), r#"{"type":"error","text":"no"}"#);
        assert_eq!(json(&Event::Notice { text: "hi", name: None }), r#"{"type":"notice","text":"hi"}"#);
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("ann b/é"), "ann%20b%2F%C3%A9");
    }
}
