//! The three HTML pages the server sends whole: the chat page, the page for a room name that is
//! not valid, and the access-code form. Each is a template asset (`assets/index.html`,
//! `assets/bad-room.html`, `assets/access.html`) filled in one pass by [`template`]: every value,
//! user input or not, is written exactly once, escaped for the place where its slot stands.
//!
//! [`template`]: crate::http::template

use std::sync::OnceLock;

use crate::chat::names::DEFAULT_ROOM;
use crate::http::assets;
use crate::http::template::{Markup, Template, Value};
use crate::protocol::html::{self, url_encode};
use crate::protocol::json::RoomSummary;

/// The limits the chat page's inputs announce (`maxlength`), from the server's flags.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    /// The longest message, in characters (`--max-text`).
    pub max_text: usize,
    /// The longest name, in characters (`--max-name`).
    pub max_name: usize,
    /// The largest file that may be shared (`--max-upload`), or `None` when files cannot be
    /// shared at all (`--memory`): the page then shows no attach button.
    pub max_upload: Option<u64>,
}

/// One page's template: the file it comes from (for messages), its embedded text, and the
/// template parsed from it on first use.
struct Source {
    file: &'static str,
    text: &'static str,
    parsed: OnceLock<Template>,
}

static CHAT: Source = Source { file: "assets/index.html", text: assets::PAGE_TEMPLATE, parsed: OnceLock::new() };
static BAD_ROOM: Source =
    Source { file: "assets/bad-room.html", text: assets::BAD_ROOM_TEMPLATE, parsed: OnceLock::new() };
static ACCESS: Source = Source { file: "assets/access.html", text: assets::ACCESS_TEMPLATE, parsed: OnceLock::new() };

/// Every page's template.
static ALL: [&Source; 3] = [&CHAT, &BAD_ROOM, &ACCESS];

impl Source {
    fn template(&self) -> &Template {
        // A template that does not parse is a bug in an asset, found by the unit test below.
        self.parsed.get_or_init(|| Template::parse(self.text).unwrap_or_else(|e| panic!("{}: {e}", self.file)))
    }

    /// The page. Which values each page gives is fixed in the code below, not chosen by any
    /// request, so a mistake (a missing or unknown slot) fails every time, in the unit tests.
    fn fill(&self, values: &[(&str, Value<'_>)]) -> String {
        self.template().fill(values).unwrap_or_else(|e| panic!("{}: {e}", self.file))
    }
}

/// The name of every slot in every page template, each once: what a test sends as hostile input
/// to check that no value is ever read as a slot.
pub fn slot_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for source in ALL {
        for name in source.template().slot_names() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The chat page of `room` (a valid room name) for the person called `name`, with `notice`
/// (why the name they asked for was refused) and the list of rooms.
pub fn chat(room: &str, name: &str, notice: Option<&str>, rooms: &[RoomSummary], limits: PageLimits) -> String {
    let room_path = html::room_url(room);
    let socket = if room == DEFAULT_ROOM { "/connect".to_string() } else { format!("{room_path}/connect") };
    let connect = format!("{socket}?name={}", url_encode(name));
    let (max_text, max_name) = (limits.max_text.to_string(), limits.max_name.to_string());
    let list = room_list(rooms, room);
    CHAT.fill(&[
        ("room", Value::Plain(room)),
        ("room_path", Value::Plain(&room_path)),
        // Where the room's data answers are (search, export), the lobby's too: `/r/ROOM`.
        ("room_api", Value::Plain(&format!("/r/{room}"))),
        ("connect", Value::Plain(&connect)),
        ("name", Value::Plain(name)),
        ("notice_class", Value::Plain(if notice.is_some() { "notice error" } else { "" })),
        ("notice", Value::Plain(notice.unwrap_or(""))),
        ("rooms", Value::Markup(&list)),
        ("max_text", Value::Plain(&max_text)),
        ("max_name", Value::Plain(&max_name)),
        ("attach_class", Value::Plain(if limits.max_upload.is_some() { "attach" } else { "attach off" })),
        ("upload_path", Value::Plain(&format!("/r/{room}/files"))),
        ("max_upload", Value::Plain(&limits.max_upload.unwrap_or(0).to_string())),
    ])
}

/// The page saying that `raw` (as the visitor typed it) is not a valid room name, and what is.
pub fn bad_room(raw: &str) -> String {
    BAD_ROOM.fill(&[("room", Value::Plain(raw)), ("rule", Value::Plain(crate::chat::names::ROOM_RULE))])
}

/// The access-code form (`--access-code`), which comes back to `next` after the code, with
/// `error` if the last code was wrong.
pub fn access(next: &str, error: Option<&str>) -> String {
    ACCESS.fill(&[("next", Value::Plain(next)), ("error", Value::Plain(error.unwrap_or("")))])
}

/// The items of the room list, `room` marked as the current one ([`html::room_items`]).
fn room_list(rooms: &[RoomSummary], room: &str) -> Markup {
    let mut list = String::new();
    html::room_items(&mut list, rooms, Some(room));
    Markup::trusted(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits { max_text: 2000, max_name: 32, max_upload: Some(1024) };

    fn summary(name: &str, members: usize) -> RoomSummary {
        RoomSummary { name: name.into(), members, messages: 1 }
    }

    #[test]
    fn every_template_parses() {
        for source in ALL {
            if let Err(e) = Template::parse(source.text) {
                panic!("{}: {e}", source.file);
            }
        }
        assert_eq!(
            CHAT.template().slot_names(),
            [
                "room",
                "rooms",
                "room_api",
                "connect",
                "name",
                "room_path",
                "max_name",
                "notice_class",
                "notice",
                "attach_class",
                "upload_path",
                "max_upload",
                "max_text"
            ]
        );
        let all = slot_names();
        assert_eq!(all.len(), 16, "{all:?}");
        assert!(all.ends_with(&["rule", "error", "next"]), "bad-room adds rule, access adds error and next: {all:?}");
    }

    #[test]
    fn the_chat_page_is_filled() {
        let rooms = [summary("lobby", 2), summary("kitchen", 1)];
        let page = chat("kitchen", "ann b", None, &rooms, LIMITS);
        for needle in [
            "<title>#kitchen · chatroom</title>",
            r#"<main id="chat" hx-ext="ws" ws-connect="/r/kitchen/connect?name=ann%20b">"#,
            r#"<span id="me" data-name="ann b">ann b</span>"#,
            r#"<form class="rename" action="/r/kitchen" method="get">"#,
            r#"<input name="name" value="ann b" maxlength="32" aria-label="Your name" required>"#,
            r#"<p id="notice" class="" role="alert"></p>"#,
            r#"<textarea name="message" maxlength="2000" rows="1" "#,
            concat!(
                r#"<ul id="rooms"><li><a href="/">#lobby</a> <span class="count" title="people here">2</span></li>"#,
                r#"<li><a href="/r/kitchen" aria-current="page">#kitchen</a> "#,
                r#"<span class="count" title="people here">1</span></li></ul>"#,
            ),
        ] {
            assert!(page.contains(needle), "no {needle}");
        }
        assert!(!page.contains("{{"));
        let lobby = chat("lobby", "bob", Some("A name cannot be empty."), &[], LIMITS);
        assert!(lobby.contains(r#"ws-connect="/connect?name=bob""#) && lobby.contains(r#"action="/""#));
        assert!(lobby.contains(r#"<p id="notice" class="notice error" role="alert">A name cannot be empty.</p>"#));
        assert!(lobby.contains(r#"<ul id="rooms"><li class="empty">No other rooms yet.</li></ul>"#));
    }

    /// The reported bug: `?name={{rooms}}` put the room list's HTML into attributes.
    #[test]
    fn a_name_like_a_slot_is_only_a_name() {
        let page = chat("lobby", "{{rooms}}", None, &[summary("lobby", 1)], LIMITS);
        assert!(page.contains(r#"<span id="me" data-name="{{rooms}}">{{rooms}}</span>"#));
        assert!(page.contains(r#"value="{{rooms}}""#));
        assert_eq!(page.matches("<li>").count(), 1, "the room list, once");
    }

    #[test]
    fn the_other_pages_are_filled_and_escaped() {
        let bad = bad_room("<b>x</b>");
        assert!(bad.contains("<p>&lt;b&gt;x&lt;/b&gt; is not a valid room name. A room name is 1 to 32 characters"));
        assert!(bad.contains(r#"<a href="/">Back to the lobby</a>"#));
        let form = access(r#"/r/x?a=1&b="2""#, None);
        assert!(form.contains(r#"<input type="hidden" name="next" value="/r/x?a=1&amp;b=&quot;2&quot;">"#));
        assert!(form.contains(r#"<p id="notice" class="notice error" role="alert"></p>"#));
        let wrong = access("/", Some("That code is not right."));
        assert!(wrong.contains(r#"role="alert">That code is not right.</p>"#));
    }

    #[test]
    fn room_names_in_the_list_are_escaped() {
        let page = chat("lobby", "ann", None, &[summary("<x>\"", 1)], LIMITS);
        assert!(page.contains(r#"<li><a href="/r/&lt;x&gt;&quot;">#&lt;x&gt;&quot;</a>"#), "{page}");
    }
}
