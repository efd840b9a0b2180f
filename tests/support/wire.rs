//! What goes over the wire and into logs, written and read for comparison: URL encoding, the
//! JSON types read whole, log lines, times, and pieces of page fragments.

use std::borrow::Cow;

use chatroom::protocol::json::{self, Event};
use chatroom::protocol::ChatMessage;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Percent-encodes `text` for a URL query value (everything but unreserved characters).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One JSON event as the server wrote it, read through the protocol's own [`Event`] type (see
/// [`read_whole`]). Fails the test if it is not one.
///
/// What the server writes is only ever read here through `chatroom::protocol`'s types, never as
/// an untyped `serde_json::Value`: the tests and the terminal client share the schema, so a change
/// to it shows up in both (and at compile time).
pub fn parse_event(text: &str) -> Event<'static> {
    read_whole("the event", text)
}

/// Reads `text` as a `T`, and checks that `T` holds all of it: written back, it is the same JSON
/// (no field that `T` does not know, none missing that `T` would write, no `null` where `T` leaves
/// a field out). So a test that checks a typed value's fields has checked the whole text, as a
/// comparison with a `serde_json::json!` object did, and `count: None` means `count` was absent.
pub fn read_whole<T: DeserializeOwned + Serialize>(what: &str, text: &str) -> T {
    let typed: T = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what} is not a {} ({e}): {text}", std::any::type_name::<T>()));
    let as_sent: serde_json::Value = serde_json::from_str(text).unwrap();
    let as_read = serde_json::to_value(&typed).unwrap();
    assert_eq!(as_read, as_sent, "{what}: {} does not hold all of {text}", std::any::type_name::<T>());
    typed
}

/// A message as JSON clients get it (in `message` events, `history` lists and the history API),
/// to compare with what they got.
pub fn json_message(room: &str, seq: u64, ts: &str, name: &str, text: &str) -> json::Message<'static> {
    json::Message {
        room: owned(room),
        seq,
        ts: owned(ts),
        name: owned(name),
        text: owned(text),
        mentions: vec![],
        action: false,
        edited: false,
        file: None,
    }
}

/// `text` as the owned `Cow` that the protocol's types hold when they are read.
pub fn owned(text: &str) -> Cow<'static, str> {
    Cow::Owned(text.to_string())
}

/// The `data-seq` values of the message items in a page fragment, in order.
pub fn data_seqs(fragment: &str) -> Vec<u64> {
    fragment
        .split(r#"data-seq=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().expect("data-seq is a number"))
        .collect()
}

/// The text from the first `start` up to and including the next `end` after it.
pub fn element<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)?;
    let len = text[from..].find(end)? + end.len();
    Some(&text[from..from + len])
}

/// Now, in milliseconds since the epoch (the server's clock: they share the machine).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("the clock is after 1970").as_millis()
        as u64
}

/// RFC 3339 UTC with milliseconds for `ms` since the epoch (as the server writes `ts`).
pub fn rfc3339(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, (secs % 86_400) as u32);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), computed independently
    // of the server's code so that a mistake there shows up here.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// One line of a room log, as the server writes it: a [`ChatMessage`] as JSON, then a newline.
pub fn log_line(seq: u64, ts: u64, name: &str, text: &str) -> String {
    let mut line = json::to_text(&ChatMessage {
        seq,
        ts,
        name: name.into(),
        text: text.into(),
        mentions: vec![],
        ..ChatMessage::default()
    });
    line.push('\n');
    line
}

/// The value of an unlabelled (or exactly labelled) sample in a Prometheus exposition, such as
/// `/metrics` answers.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// The welcome's `#me` element must be exactly this for `name` (already escaped).
pub fn me_element(escaped: &str) -> String {
    format!(r#"<span id="me" hx-swap-oob="true" data-name="{escaped}">{escaped}</span>"#)
}

/// The name in a welcome's `#me` element (as written, i.e. escaped).
pub fn me(welcome: &str) -> String {
    let span = element(welcome, r#"<span id="me" hx-swap-oob="true" data-name=""#, "</span>")
        .unwrap_or_else(|| panic!("no #me in {welcome}"));
    let (attr, content) = span.split_once(r#"">"#).unwrap();
    let attr = attr.rsplit('"').next().unwrap();
    let content = content.strip_suffix("</span>").unwrap();
    assert_eq!(attr, content, "data-name and the shown name differ: {span}");
    content.to_string()
}

/// The welcome's notice element for `text` (already escaped); a welcome always ends with it.
pub fn info_notice(escaped: &str) -> String {
    format!(r#"<p id="notice" hx-swap-oob="true" class="notice info" role="alert">{escaped}</p>"#)
}

pub const NO_NOTICE: &str = r#"<p id="notice" hx-swap-oob="true"></p>"#;

/// Whether `name` is a guest name: `guest-` and four digits.
pub fn is_guest(name: &str) -> bool {
    name.strip_prefix("guest-").is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `fragment` without the attributes that come from random member ids: the author tags on
/// message items (`data-by`) and in the welcome (`data-tag`), and the host's mark (`data-host`).
/// Most tests are about something else, and compare fragments whole; `tests/host.rs` reads them.
pub fn without_tags(fragment: &str) -> String {
    let mut out = fragment.replace(r#" data-host="true""#, "");
    for attr in [r#" data-by=""#, r#" data-tag=""#] {
        while let Some(at) = out.find(attr) {
            let value = at + attr.len();
            let end = value + out[value..].find('"').expect("a closed attribute") + 1;
            out.replace_range(at..end, "");
        }
    }
    out
}
