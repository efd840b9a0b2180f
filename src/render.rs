//! The pages the server serves (the chat page, the bad-room page, the access-code form).
//! Every fragment and event sent over a WebSocket is made in [`crate::protocol`].

use std::fmt::Write as _;

use crate::protocol::html::{escape, escape_into};
use crate::protocol::json::RoomSummary;

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
    crate::http::assets::PAGE_TEMPLATE
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
    if room == crate::chat::names::DEFAULT_ROOM {
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
    escape_into(&mut out, crate::chat::names::ROOM_RULE);
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
