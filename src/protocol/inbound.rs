//! What members send, parsed in one place for both dialects.
//!
//! The page's htmx ws extension sends each submitted form as a JSON object: the form's fields
//! plus a `HEADERS` object (`{"message": "hi", "HEADERS": {"HX-Request": "true", ...}}`). JSON
//! clients send the same shape without `HEADERS`. Besides that, both send the bare text `ping`
//! as a heartbeat. Everything a member may send is one [`ClientEvent`].

use std::borrow::Cow;

use super::command::{self, Command, Slash};
use super::json::Said;

/// The text heartbeat (the page sends it every 20 s); answered with
/// [`super::HEARTBEAT_REPLY`], not relayed.
pub const HEARTBEAT: &str = "ping";

/// Everything a member may send, in either dialect.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientEvent<'a> {
    /// A chat message for the room: trimmed, not empty, within the length limit. `Cow` borrows
    /// the text straight from the frame when it has no JSON escapes, so the common case copies
    /// nothing.
    Chat(Cow<'a, str>),
    /// A chat text that starts with `/`: a command (`//text` is the chat text `/text`).
    Command(Command),
    /// The text heartbeat.
    Heartbeat,
}

/// Why a text frame is not something a member may send. Each becomes an `error` event to the
/// sender only; the socket stays open.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Not JSON, or not an object with a string `message`.
    NotChatJson,
    /// Holds a control character other than a line break or a tab (C0 and C1 controls, DEL):
    /// it would not show on the page, and in a terminal it could move the cursor, clear the
    /// screen or pass for someone else's line.
    ControlCharacter(char),
    /// Longer than the limit after trimming.
    TooLong {
        /// How long it was, in characters.
        chars: usize,
        /// The limit (`--max-text`).
        limit: usize,
    },
    /// A command that cannot be read (unknown, or a bad argument): why, in one sentence.
    Command(String),
}

impl Rejected {
    /// What to tell the sender, in one sentence.
    pub fn explain(&self) -> String {
        match self {
            Rejected::NotChatJson => r#"Could not read that message: send JSON like {"message": "hello"}."#.to_string(),
            Rejected::ControlCharacter(c) => format!(
                "Message not sent: it holds the control character U+{:04X}; only line breaks and tabs may be sent.",
                u32::from(*c)
            ),
            Rejected::TooLong { chars, limit } => {
                format!("Message not sent: it is {chars} characters long, and the limit is {limit}.")
            }
            Rejected::Command(why) => why.clone(),
        }
    }
}

impl<'a> ClientEvent<'a> {
    /// Parses one text frame. `Ok(None)` is a blank chat message, which is ignored rather than
    /// refused (an empty submit is not an error). `max_text` is the longest chat message in
    /// characters (`--max-text`): characters, not bytes, so a long message in Japanese is as
    /// long as one in English.
    ///
    /// A message may hold several lines: line breaks and tabs inside it are kept (the ends are
    /// trimmed), CR LF and a lone CR become LF, and any other control character is refused.
    pub fn parse(frame_text: &'a str, max_text: usize) -> Result<Option<ClientEvent<'a>>, Rejected> {
        if frame_text == HEARTBEAT {
            return Ok(Some(ClientEvent::Heartbeat));
        }
        // An object only: serde's derived reader would also take the array form `["hi"]`.
        if !frame_text.trim_start().starts_with('{') {
            return Err(Rejected::NotChatJson);
        }
        let said: Said<'_> = serde_json::from_str(frame_text).map_err(|_| Rejected::NotChatJson)?;
        if said.message.trim().is_empty() {
            return Ok(None);
        }
        let text = lines_of(match said.message {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
        })?;
        let chars = text.chars().count();
        if chars > max_text {
            return Err(Rejected::TooLong { chars, limit: max_text });
        }
        // One byte comparison decides: ordinary chat pays nothing more for commands.
        if text.as_bytes()[0] != b'/' {
            return Ok(Some(ClientEvent::Chat(text)));
        }
        let literal = match command::parse(&text).map_err(Rejected::Command)? {
            Slash::Command(command) => return Ok(Some(ClientEvent::Command(command))),
            Slash::Literal(literal) => literal.len(),
        };
        // `//text`: the text after the first slash, borrowed from the frame when it was.
        let start = text.len() - literal;
        Ok(Some(ClientEvent::Chat(match text {
            Cow::Borrowed(s) => Cow::Borrowed(&s[start..]),
            Cow::Owned(s) => Cow::Owned(s[start..].to_string()),
        })))
    }

    /// The text frame that sends `line` as a person typed it: a command stays a command
    /// (the terminal client).
    pub fn typed(line: &str) -> String {
        super::json::to_text(&Said { message: Cow::Borrowed(line) })
    }

    /// The text frame that sends this event, as a JSON client writes it (the terminal client,
    /// tests): the inverse of [`ClientEvent::parse`].
    pub fn to_frame_text(&self) -> String {
        match self {
            ClientEvent::Chat(text) if text.starts_with('/') => {
                super::json::to_text(&Said { message: Cow::Owned(format!("/{text}")) })
            }
            ClientEvent::Chat(text) => super::json::to_text(&Said { message: Cow::Borrowed(text) }),
            ClientEvent::Command(command) => super::json::to_text(&Said { message: Cow::Owned(command.to_text()) }),
            ClientEvent::Heartbeat => HEARTBEAT.to_string(),
        }
    }
}

/// `text` with its line breaks as LF alone, or the first control character in it that is not a
/// line break or a tab. CR LF and a lone CR are read as LF, as a browser reads a text area's
/// value (WHATWG HTML, "normalize newlines"): a JSON client on Windows says the same thing as the
/// page, and a CR can never send a terminal's cursor back over the name at the start of a line.
fn lines_of(text: Cow<'_, str>) -> Result<Cow<'_, str>, Rejected> {
    // Most messages hold no control character at all: one pass over the bytes says so. (0xC2
    // leads the UTF-8 of U+0080–U+00BF, which holds the C1 controls.)
    if !text.bytes().any(|b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F || b == 0xC2) {
        return Ok(text);
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err(Rejected::ControlCharacter(c));
    }
    if !text.contains('\r') {
        return Ok(text);
    }
    Ok(Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 2000;

    fn chat(frame: &str) -> Result<Option<String>, Rejected> {
        ClientEvent::parse(frame, LIMIT).map(|event| match event {
            Some(ClientEvent::Chat(text)) => Some(text.into_owned()),
            Some(other) => panic!("not chat: {other:?}"),
            None => None,
        })
    }

    #[test]
    fn reads_the_htmx_shape_and_trims() {
        let got = chat(r#"{"message":"  hi there ","HEADERS":{"HX-Request":"true","HX-Trigger":"send"}}"#).unwrap();
        assert_eq!(got.as_deref(), Some("hi there"));
        let plain = ClientEvent::parse(r#"{"message":"plain"}"#, LIMIT).unwrap();
        assert!(matches!(plain, Some(ClientEvent::Chat(Cow::Borrowed("plain")))));
        assert_eq!(chat(r#"{"message":"a\"b\u00e9"}"#).unwrap().as_deref(), Some("a\"bé"));
    }

    #[test]
    fn the_heartbeat_is_the_bare_text() {
        assert_eq!(ClientEvent::parse("ping", LIMIT), Ok(Some(ClientEvent::Heartbeat)));
        assert_eq!(ClientEvent::parse(" ping", LIMIT), Err(Rejected::NotChatJson));
    }

    #[test]
    fn blank_is_ignored() {
        assert_eq!(chat(r#"{"message":"   \n\t "}"#).unwrap(), None);
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "not json",
            "",
            "[]",
            r#"["hi"]"#,
            "null",
            r#""message""#,
            r#"{"message": 5}"#,
            r#"{"message": null}"#,
            r#"{"text": "hi"}"#,
            r#"{"message": "unterminated"#,
            r#"{"message":"x","message":"y"}"#,
        ] {
            assert_eq!(chat(bad), Err(Rejected::NotChatJson), "{bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(chat(&deep), Err(Rejected::NotChatJson));
    }

    #[test]
    fn lines_and_tabs_are_kept_and_other_controls_refused() {
        assert_eq!(chat(r#"{"message":" a\n\tb\n\nc \n"}"#).unwrap().as_deref(), Some("a\n\tb\n\nc"));
        let plain = ClientEvent::parse(r#"{"message":"line\nbreak"}"#, LIMIT).unwrap();
        assert_eq!(plain, Some(ClientEvent::Chat("line\nbreak".into())));
        assert_eq!(chat(r#"{"message":"a\r\nb\rc\r\n\rd"}"#).unwrap().as_deref(), Some("a\nb\nc\n\nd"));
        assert_eq!(chat(r#"{"message":"\r\n"}"#).unwrap(), None);
        for (frame, c) in [
            (r#"{"message":"a\u0000b"}"#, '\0'),
            (r#"{"message":"bell\u0007"}"#, '\u{7}'),
            (r#"{"message":"\u001b[2Jcleared"}"#, '\u{1b}'),
            (r#"{"message":"a\u000bb"}"#, '\u{b}'),
            (r#"{"message":"a\u007fb"}"#, '\u{7f}'),
            (r#"{"message":"a\u009bb"}"#, '\u{9b}'),
            // JSON allows DEL and C1 controls unescaped (RFC 8259 §7), but not C0 ones.
            ("{\"message\":\"raw \u{7f} byte\"}", '\u{7f}'),
            ("{\"message\":\"a\u{85}b\"}", '\u{85}'),
        ] {
            assert_eq!(chat(frame), Err(Rejected::ControlCharacter(c)), "{frame}");
        }
        assert!(Rejected::ControlCharacter('\u{1b}').explain().contains("U+001B"));
        assert_eq!(chat("{\"message\":\"raw \u{1b} byte\"}"), Err(Rejected::NotChatJson));
        // Non-control characters of the same UTF-8 lead byte, and other scripts, pass.
        assert_eq!(chat(r#"{"message":"¡ © ± ¿ é 日本"}"#).unwrap().as_deref(), Some("¡ © ± ¿ é 日本"));
        // Counted after CR LF became LF.
        let crlf = format!(r#"{{"message":"{}"}}"#, "a\\r\\n".repeat(LIMIT / 2));
        assert_eq!(chat(&crlf).unwrap().map(|t| t.chars().count()), Some(LIMIT - 1));
    }

    #[test]
    fn a_slash_makes_a_command_and_two_make_text() {
        let parsed = ClientEvent::parse(r#"{"message":" /kick bob "}"#, LIMIT);
        assert_eq!(parsed, Ok(Some(ClientEvent::Command(Command::Kick("bob".into())))));
        assert_eq!(chat(r#"{"message":"//kick bob"}"#).unwrap().as_deref(), Some("/kick bob"));
        let borrowed = ClientEvent::parse(r#"{"message":"//x"}"#, LIMIT).unwrap();
        assert!(matches!(borrowed, Some(ClientEvent::Chat(Cow::Borrowed("/x")))));
        assert_eq!(chat(r#"{"message":"//"}"#).unwrap().as_deref(), Some("/"));
        assert!(matches!(ClientEvent::parse(r#"{"message":"/nope"}"#, LIMIT), Err(Rejected::Command(_))));
        assert_eq!(chat(r#"{"message":"a /kick b"}"#).unwrap().as_deref(), Some("a /kick b"));
    }

    #[test]
    fn length_is_counted_in_characters() {
        let ok = format!(r#"{{"message":"{}"}}"#, "é".repeat(LIMIT));
        assert!(chat(&ok).unwrap().is_some());
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(LIMIT + 1));
        assert_eq!(chat(&long), Err(Rejected::TooLong { chars: LIMIT + 1, limit: LIMIT }));
    }

    #[test]
    fn what_a_client_writes_the_server_parses() {
        for event in [
            ClientEvent::Chat("a \"quoted\" é".into()),
            ClientEvent::Chat("/not a command".into()),
            ClientEvent::Command(Command::Edit { seq: 4, text: "new".into() }),
            ClientEvent::Command(Command::Lock),
            ClientEvent::Heartbeat,
        ] {
            assert_eq!(ClientEvent::parse(&event.to_frame_text(), LIMIT), Ok(Some(event)));
        }
    }
}
