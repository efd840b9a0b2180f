//! What the terminal shows: each event of the JSON dialect (see docs/protocol.md) as a line or
//! two, and the bell when someone mentions us.

use std::io::Write;

use crate::protocol::attachment::human_size;
use crate::protocol::json::{Arrival, Event, Message as Said};
use crate::protocol::HEARTBEAT_REPLY;

/// What the terminal shows: each event of the JSON dialect (see docs/protocol.md) as a line or
/// two, and the bell when someone mentions us.
pub(super) struct Screen<W: Write> {
    pub(super) out: W,
    /// Our name in the room, from the welcome's notice.
    me: Option<String>,
    /// `http://host:port` of the server, to print a shared file's full URL.
    base: String,
}

impl<W: Write> Screen<W> {
    pub(super) fn new(out: W, base: String) -> Screen<W> {
        Screen { out, me: None, base }
    }

    /// Prints one event. A message that mentions us (not one we sent) rings the terminal bell
    /// (BEL, which terminals turn into a sound or a flash): only live ones, not the history
    /// replayed on joining.
    pub(super) fn event(&mut self, text: &str) {
        let out = &mut self.out;
        let base = &self.base;
        let said = |out: &mut W, m: &Said<'_>| {
            let time = local_hhmm(&m.ts);
            let edited = if m.edited { " (edited)" } else { "" };
            match (&m.file, m.action) {
                // A shared file: its name, size and the full URL, which terminals make clickable.
                (Some(file), _) => {
                    let size = human_size(file.size);
                    writeln!(out, "{time} {}: [file] {} ({size}) {base}{}", m.name, file.name, file.url)
                }
                (None, true) => writeln!(out, "{time} * {} {}{edited}", m.name, m.text),
                (None, false) => writeln!(out, "{time} {}: {}{edited}", m.name, m.text),
            }
        };
        let _ = match serde_json::from_str::<Event<'_>>(text) {
            Ok(Event::Message(m)) => {
                let me = self.me.as_deref();
                if me.is_some_and(|me| m.name != me && m.mentions.iter().any(|name| name == me)) {
                    let _ = out.write_all(b"\x07");
                }
                said(out, &m)
            }
            Ok(Event::History { messages, .. }) => messages.iter().try_for_each(|entry| said(out, entry.message())),
            Ok(Event::Roster { members, count, .. }) => {
                let more = count.map(|n| format!(" and {} more", n - members.len())).unwrap_or_default();
                writeln!(out, "* here: {}{more}", members.join(", "))
            }
            Ok(Event::Join(Arrival { ts, name, .. })) => writeln!(out, "{} * {name} joined", local_hhmm(&ts)),
            Ok(Event::Leave(Arrival { ts, name, .. })) => writeln!(out, "{} * {name} left", local_hhmm(&ts)),
            Ok(Event::Notice { text, name }) => {
                if let Some(name) = name {
                    self.me = Some(name.into_owned());
                }
                writeln!(out, "* {text}")
            }
            Ok(Event::Error { text }) => writeln!(out, "! {text}"),
            Ok(Event::Direct { from, to, text, ts }) => {
                writeln!(out, "{} [private] {from} -> {to}: {text}  (never saved)", local_hhmm(&ts))
            }
            Ok(Event::Edit { seq, text, .. }) => writeln!(out, "* message #{seq} is now: {text}"),
            Ok(Event::Delete { seq, .. }) => writeln!(out, "* message #{seq} was deleted"),
            Ok(Event::Announce { text, .. }) if text.is_empty() => writeln!(out, "* the banner is gone"),
            Ok(Event::Announce { text, .. }) => writeln!(out, "=== {text} ==="),
            Ok(Event::Rename { ts, from, to, .. }) => {
                if self.me.as_deref() == Some(&*from) {
                    self.me = Some(to.to_string());
                }
                writeln!(out, "{} * {from} is now {to}", local_hhmm(&ts))
            }
            // Events the terminal has no line for (the room list).
            Ok(Event::Rooms { .. }) => Ok(()),
            Err(_) if text == HEARTBEAT_REPLY => Ok(()),
            Err(_) => writeln!(out, "? {text}"),
        };
    }
}

/// `HH:MM` in the local time zone for an RFC 3339 UTC timestamp (`...Z`), by the C library's
/// time zone rules (std has none). The UTC time as sent if the C library cannot convert it.
fn local_hhmm(ts: &str) -> String {
    let Some(secs) = crate::time::parse_rfc3339(ts) else { return "--:--".into() };
    match crate::sys::local_hour_minute(secs) {
        Some((hour, minute)) => format!("{hour:02}:{minute:02}"),
        None => ts.get(11..16).unwrap_or("--:--").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_print_as_lines() {
        let mut screen = Screen::new(Vec::new(), "http://h:1".into());
        screen.event(r#"{"type":"roster","room":"x","members":["a","b"]}"#);
        screen.event(r#"{"type":"error","text":"no"}"#);
        screen.event("pong");
        screen.event(concat!(
            r#"{"type":"message","room":"x","seq":2,"ts":"2026-11-27T10:00:00.000Z","name":"ann","text":"","#,
            r#""file":{"url":"/files/ab/a%20b.png","name":"a b.png","size":2048,"type":"image/png"}}"#
        ));
        screen.event(r#"{"type":"direct","from":"a","to":"b","text":"psst","ts":"x"}"#);
        screen.event(r#"{"type":"delete","room":"x","seq":4}"#);
        screen.event(r#"{"type":"announce","room":"x","text":"Test at 10"}"#);
        let shown = String::from_utf8(screen.out).unwrap();
        assert!(shown.starts_with("* here: a, b\n! no\n"), "{shown}");
        assert!(shown.contains(" ann: [file] a b.png (2.0 KiB) http://h:1/files/ab/a%20b.png\n"), "{shown}");
        assert!(
            shown.ends_with(
                "--:-- [private] a -> b: psst  (never saved)\n* message #4 was deleted\n=== Test at 10 ===\n"
            ),
            "{shown}"
        );
    }

    #[test]
    fn a_mention_of_me_rings_the_bell() {
        let message = |name: &str, mentions: &str| {
            format!(
                r#"{{"type":"message","room":"x","seq":1,"ts":"2026-11-27T10:00:00.000Z","name":"{name}","text":"@t","mentions":{mentions}}}"#
            )
        };
        let mut screen = Screen::new(Vec::new(), "http://h:1".into());
        // Before the welcome we do not know who we are: no bell.
        screen.event(&message("bob", r#"["ann"]"#));
        screen.event(r#"{"type":"notice","text":"You are ann.","name":"ann"}"#);
        screen.event(&message("bob", r#"["ann"]"#));
        screen.event(&message("bob", r#"["cleo"]"#));
        screen.event(&message("ann", r#"["ann"]"#));
        screen.event(&message("bob", "[]"));
        let shown = String::from_utf8(screen.out).unwrap();
        assert_eq!(shown.matches('\x07').count(), 1, "{shown:?}");
        assert!(shown.contains("* You are ann.\n\x07"), "{shown:?}");
    }

    #[test]
    fn after_a_rename_of_ours_the_new_name_rings() {
        let mentioning = |who: &str| {
            format!(
                r#"{{"type":"message","room":"x","seq":1,"ts":"2026-11-27T10:00:00.000Z","name":"bob","text":"@t","mentions":["{who}"]}}"#
            )
        };
        let renamed = |from: &str, to: &str| {
            format!(r#"{{"type":"rename","room":"x","ts":"2026-11-27T10:00:00.000Z","from":"{from}","to":"{to}"}}"#)
        };
        let mut screen = Screen::new(Vec::new(), "http://h:1".into());
        screen.event(r#"{"type":"notice","text":"You are ann.","name":"ann"}"#);
        screen.event(&renamed("bob", "rob")); // someone else's: we stay ann
        screen.event(&renamed("ann", "zoe"));
        screen.event(&mentioning("ann"));
        screen.event(&mentioning("zoe"));
        let shown = String::from_utf8(screen.out).unwrap();
        assert!(shown.contains("* bob is now rob\n") && shown.contains("* ann is now zoe\n"), "{shown:?}");
        assert_eq!(shown.matches('\x07').count(), 1, "{shown:?}");
        let last_line = shown.trim_end().rsplit('\n').next().unwrap();
        assert!(last_line.starts_with('\x07'), "the mention of zoe rang, not that of ann: {shown:?}");
    }
}
