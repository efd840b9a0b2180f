//! Fuzzes what members send and what is made of it: the parser of what members send
//! (`chatroom::protocol::ClientEvent::parse`), name and room-name checks (`chatroom::chat::names`), and
//! the HTML and URL escaping that every piece of user text goes through
//! (`chatroom::protocol::html`).
//!
//! The input is read as UTF-8 (lossily, so that every input exercises the code: a WebSocket text
//! frame is valid UTF-8 by the time it reaches `parse_chat`), and used three ways:
//! 1. as a whole text frame: `parse_chat` must agree with serde_json's own reading of it;
//! 2. as the `message` of a well-formed frame: the text must come back trimmed (its line breaks
//!    as LF), or be refused for a control character other than a line break or a tab, or as too
//!    long exactly when it is over `MAX_TEXT_CHARS` characters;
//! 3. as a name, a room name, and text to escape (a message's text without what the `format`
//!    target's formatter reads): an accepted name shows every character it holds
//!    (nothing invisible, blank or stacked), names' keys are idempotent and blind to case, width
//!    and composition; escaped text holds no raw `<`, `>`, `"` or `'`, unescapes to the input, and
//!    the HTML fragments hold exactly the tags of their template.
#![no_main]

use std::borrow::Cow;

use chatroom::chat::names::{self, BadName, MAX_ROOM_CHARS};
use chatroom::http::head::percent_decode;
use chatroom::protocol::html::{self, escape, url_encode};
use chatroom::protocol::{Change, ChatMessage, ClientEvent, Direct, Presence, Rejected, Roster, ServerEvent, Welcome};
use libfuzzer_sys::fuzz_target;

// A target's root finds its modules beside it, not below.
#[path = "inbound/names.rs"]
mod names_checks;
use names_checks::check_name;

/// The server's default `--max-text` and `--max-name`.
const MAX_TEXT_CHARS: usize = 2000;
const MAX_NAME_CHARS: usize = 32;

/// A chat frame's text, as the server reads it: `Ok(None)` for a blank one. (The heartbeat,
/// `ping`, is not JSON and not a chat message: it never reaches the JSON checks below.)
fn parse_chat(frame: &str) -> Result<Option<Cow<'_, str>>, Rejected> {
    match ClientEvent::parse(frame, MAX_TEXT_CHARS)? {
        Some(ClientEvent::Chat(text)) => Ok(Some(text)),
        Some(ClientEvent::Heartbeat) => {
            assert_eq!(frame, chatroom::protocol::HEARTBEAT);
            Err(Rejected::NotChatJson)
        }
        // A command: what a client writes for it reads back as the same command.
        Some(ClientEvent::Command(command)) => {
            let written = ClientEvent::Command(command).to_frame_text();
            let again = ClientEvent::parse(&written, usize::MAX);
            assert!(matches!(again, Ok(Some(ClientEvent::Command(_)))), "{written}: {again:?}");
            Err(Rejected::Command(String::new()))
        }
        None => Ok(None),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_frame(&text);
    check_message_text(&text);
    check_name(&text);
    check_room(&text);
    check_escaping(&text);
});

/// The input as a whole frame.
fn check_frame(frame: &str) {
    let parsed = parse_chat(frame);
    match &parsed {
        Ok(Some(text)) => {
            assert!(!text.is_empty());
            assert_eq!(text.as_ref(), text.trim());
            assert!(text.chars().count() <= MAX_TEXT_CHARS);
        }
        Ok(None) => {}
        Err(Rejected::TooLong { chars, .. }) => assert!(*chars > MAX_TEXT_CHARS),
        Err(Rejected::ControlCharacter(c)) => assert!(refused(*c), "{c:?}"),
        Err(Rejected::NotChatJson) => {}
        // A command (see parse_chat), or one that cannot be read: one line saying why.
        Err(Rejected::Command(why)) => assert!(!why.contains('\n'), "{why:?}"),
    }
    if let Err(rejected) = &parsed {
        assert!(!rejected.explain().is_empty() || matches!(rejected, Rejected::Command(_)));
    }
    // Accepted frames are JSON objects with a string `message`, and the text is its trimmed value.
    if let Ok(got) = &parsed {
        let value: serde_json::Value = match serde_json::from_str(frame) {
            Ok(value) => value,
            Err(e) => {
                // JSON that a `Value` cannot hold, in a field that parse_chat skips: a number out
                // of f64's range, or an unpaired surrogate escape (RFC 8259 §8.2 allows both).
                // serde_json names a high surrogate followed by another escape than `\u`
                // (`"\ud83d\\"`) "unexpected end of hex escape".
                let unrepresentable =
                    ["number out of range", "surrogate", "end of hex escape"].iter().any(|m| e.to_string().contains(m));
                assert!(unrepresentable, "parse_chat accepted what is not JSON: {e}");
                serde_json::from_str::<serde::de::IgnoredAny>(frame).expect("parse_chat accepted what is not JSON");
                return;
            }
        };
        let message = value.get("message").and_then(|m| m.as_str()).unwrap_or_else(|| {
            panic!("parse_chat accepted a frame that is not an object with a string message: {frame:?}")
        });
        let trimmed = message.trim();
        match got {
            // `//text` says `/text`: the first slash is taken off.
            Some(text) if trimmed.starts_with("//") => assert_eq!(text.as_ref(), &lines_of(trimmed)[1..]),
            Some(text) => assert_eq!(text.as_ref(), lines_of(trimmed)),
            None => assert!(trimmed.is_empty()),
        }
    }
}

/// Control characters a message may not hold: all but the line break, the tab and the CR
/// (which is read as a line break).
fn refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

/// `text` with CR LF and a lone CR as LF, as the server keeps it.
fn lines_of(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The input as the text of a well-formed frame, in both shapes clients send.

fn check_message_text(text: &str) {
    let plain = serde_json::json!({ "message": text }).to_string();
    let htmx =
        serde_json::json!({ "message": text, "HEADERS": { "HX-Request": "true", "HX-Trigger": "send" } }).to_string();
    for frame in [plain, htmx] {
        check_well_formed(&frame, text);
    }
    // Inputs are short; repeat this one to land on both sides of the length limit. That is
    // thousands of characters through instrumented code, so only for one input length in eight
    // (deterministic, so that a crash replays).
    let chars = text.chars().count();
    if chars > 0 && chars <= MAX_TEXT_CHARS && text.len() % 8 == 0 {
        let reps = MAX_TEXT_CHARS / chars;
        for n in [reps, reps + 1] {
            let long = text.repeat(n);
            check_well_formed(&serde_json::json!({ "message": long }).to_string(), &long);
        }
    }
}

/// `frame` is `{"message": text}`: the text comes back trimmed with its line breaks as LF,
/// nothing if blank, or is refused for its first control character (other than a line break or
/// a tab), or as too long exactly when it is over the limit; a text that starts with `/` is a
/// command (or, after `//`, the text without its first slash).
fn check_well_formed(frame: &str, text: &str) {
    let trimmed = text.trim();
    let kept = lines_of(trimmed);
    let chars = kept.chars().count();
    let got = parse_chat(frame);
    if trimmed.is_empty() {
        assert_eq!(got, Ok(None));
    } else if let Some(c) = trimmed.chars().find(|&c| refused(c)) {
        assert_eq!(got, Err(Rejected::ControlCharacter(c)));
    } else if chars > MAX_TEXT_CHARS {
        assert_eq!(got, Err(Rejected::TooLong { chars, limit: MAX_TEXT_CHARS }));
    } else if let Some(literal) = kept.strip_prefix("//") {
        assert_eq!(got, Ok(Some(Cow::Owned(format!("/{literal}")))));
    } else if kept.starts_with('/') {
        assert!(matches!(got, Err(Rejected::Command(_))), "{got:?}");
    } else {
        assert_eq!(got, Ok(Some(Cow::Owned(kept))));
    }
}

fn check_room(raw: &str) {
    if let Some(room) = names::room(raw) {
        assert!(!room.is_empty() && room.len() <= MAX_ROOM_CHARS);
        assert!(room.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'));
        assert_eq!(room, raw.to_ascii_lowercase());
        assert_eq!(names::room(&room).as_deref(), Some(room.as_str()));
        // Safe in a URL as it is.
        assert_eq!(url_encode(&room), room);
    }
    let _ = names::is_private_room(raw);
}

fn check_escaping(text: &str) {
    let escaped = escape(text);
    assert!(!escaped.contains(['<', '>', '"', '\'']), "raw markup in {escaped:?}");
    assert_eq!(unescape(&escaped), text, "escape does not round-trip");

    let encoded = url_encode(text);
    assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)), "{encoded:?}");
    assert_eq!(percent_decode(&encoded).as_deref(), Some(text), "url_encode does not round-trip");

    // Every fragment with user text in it has exactly the markup its template has: the same
    // number of '<', '>', '"' and '\'' as with harmless text. A message's text is formatted
    // (links and code: the `format` target reads that markup), so here it is the input without
    // backticks and colons, which is only escaped.
    let ts = text.len() as u64 * 1_000_003;
    let unformatted = text.replace(['`', ':'], ";");
    let user = ChatMessage {
        seq: 7,
        ts,
        name: text.to_string(),
        text: unformatted,
        mentions: vec![],
        ..ChatMessage::default()
    };
    let harmless =
        ChatMessage { seq: 7, ts, name: "ann".into(), text: "hi".into(), mentions: vec![], ..ChatMessage::default() };
    let page = |event: &ServerEvent<'_>| html::fragment("x", event);
    same_markup(&page(&ServerEvent::Message(&user)), &page(&ServerEvent::Message(&harmless)));
    same_markup(&page(&ServerEvent::Error(text)), &page(&ServerEvent::Error("hi")));
    same_markup(&chatroom::http::pages::bad_room(text), &chatroom::http::pages::bad_room("hi"));
    // One item per change, and the summed-up form of a big batch ("ann, bob and 3 others joined").
    let changes = |name: &str| -> Vec<Change> {
        [(name, true), (name, false), ("bob", true), (name, true), ("carol", true)]
            .map(|(name, joined)| Change { name: name.to_string(), joined, ts })
            .to_vec()
    };
    let (mine, theirs) = (changes(text), changes("ann"));
    for n in [3, 5] {
        let presence = |changes: &[Change], names: &[&str]| {
            page(&ServerEvent::Presence(Presence { changes, roster: Roster { names, count: 3 } }))
        };
        same_markup(&presence(&mine[..n], &[text, "bob"]), &presence(&theirs[..n], &["ann", "bob"]));
    }
    let welcome = |history: &[ChatMessage], name: &str| {
        let roster = Roster { names: &[name], count: 2 };
        // Never empty: an empty banner is left out of a welcome.
        let announce = format!("!{name}");
        page(&ServerEvent::Welcome(Welcome {
            you: name,
            history,
            more: true,
            roster,
            notice: name,
            alert: true,
            announce: &announce,
            tag: "",
            host: false,
        }))
    };
    // The commands' events carry user text too.
    let direct = |name: &str, text: &str| page(&ServerEvent::Direct(Direct { from: name, to: name, text, ts }));
    same_markup(&direct(text, &user.text), &direct("ann", "hi"));
    let edit = |text: &str| page(&ServerEvent::Edit { seq: 7, text });
    same_markup(&edit(&user.text), &edit("hi"));
    let banner = |text: &str| page(&ServerEvent::Announce(&format!("!{text}")));
    same_markup(&banner(text), &banner("hi"));
    let happened = |text: &str| page(&ServerEvent::Happened { text, ts });
    same_markup(&happened(text), &happened("hi"));
    same_markup(&welcome(&[user.clone()], text), &welcome(&[harmless.clone()], "ann"));
}

fn same_markup(with_user_text: &str, with_harmless_text: &str) {
    assert_eq!(
        markup_counts(with_user_text),
        markup_counts(with_harmless_text),
        "user text changed the markup (counts of < > \" '): {with_user_text:?}"
    );
}

/// How many `<`, `>`, `"` and `'` a text holds, in one pass.
fn markup_counts(html: &str) -> [usize; 4] {
    let mut counts = [0; 4];
    for b in html.bytes() {
        match b {
            b'<' => counts[0] += 1,
            b'>' => counts[1] += 1,
            b'"' => counts[2] += 1,
            b'\'' => counts[3] += 1,
            _ => {}
        }
    }
    counts
}

/// The inverse of `html::escape`, for its five entities only.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (entity, c) = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\'')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e))
            .unwrap_or_else(|| panic!("a bare '&' in escaped text: {s:?}"));
        out.push(c);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    out
}
