//! What members send, parsed in one place for both dialects.
//!
//! The page's htmx ws extension sends each submitted form as a JSON object: the form's fields
//! plus a `HEADERS` object (`{"message": "hi", "HEADERS": {"HX-Request": "true", ...}}`). JSON
//! clients send the same shape without `HEADERS`. Besides that, both send the bare text `ping`
//! as a heartbeat. Everything a member may send is one [`ClientEvent`].

use std::borrow::Cow;

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
    /// The text heartbeat.
    Heartbeat,
}

/// Why a text frame is not something a member may send. Each becomes an `error` event to the
/// sender only; the socket stays open.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Not JSON, or not an object with a string `message`.
    NotChatJson,
    /// Longer than the limit after trimming.
    TooLong {
        /// How long it was, in characters.
        chars: usize,
        /// The limit (`--max-text`).
        limit: usize,
    },
}

impl Rejected {
    /// What to tell the sender, in one sentence.
    pub fn explain(&self) -> String {
        match self {
            Rejected::NotChatJson => r#"Could not read that message: send JSON like {"message": "hello"}."#.to_string(),
            Rejected::TooLong { chars, limit } => {
                format!("Message not sent: it is {chars} characters long, and the limit is {limit}.")
            }
        }
    }
}

impl<'a> ClientEvent<'a> {
    /// Parses one text frame. `Ok(None)` is a blank chat message, which is ignored rather than
    /// refused (an empty submit is not an error). `max_text` is the longest chat message in
    /// characters (`--max-text`): characters, not bytes, so a long message in Japanese is as
    /// long as one in English.
    pub fn parse(frame_text: &'a str, max_text: usize) -> Result<Option<ClientEvent<'a>>, Rejected> {
        if frame_text == HEARTBEAT {
            return Ok(Some(ClientEvent::Heartbeat));
        }
        // An object only: serde's derived reader would also take the array form `["hi"]`.
        if !frame_text.trim_start().starts_with('{') {
            return Err(Rejected::NotChatJson);
        }
        let said: Said<'_> = serde_json::from_str(frame_text).map_err(|_| Rejected::NotChatJson)?;
        let trimmed = said.message.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let chars = trimmed.chars().count();
        if chars > max_text {
            return Err(Rejected::TooLong { chars, limit: max_text });
        }
        Ok(Some(ClientEvent::Chat(match said.message {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
        })))
    }

    /// The text frame that sends this event, as a JSON client writes it (the terminal client,
    /// tests): the inverse of [`ClientEvent::parse`].
    pub fn to_frame_text(&self) -> String {
        match self {
            ClientEvent::Chat(text) => super::json::to_text(&Said { message: Cow::Borrowed(text) }),
            ClientEvent::Heartbeat => HEARTBEAT.to_string(),
        }
    }
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
    fn length_is_counted_in_characters() {
        let ok = format!(r#"{{"message":"{}"}}"#, "é".repeat(LIMIT));
        assert!(chat(&ok).unwrap().is_some());
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(LIMIT + 1));
        assert_eq!(chat(&long), Err(Rejected::TooLong { chars: LIMIT + 1, limit: LIMIT }));
    }

    #[test]
    fn what_a_client_writes_the_server_parses() {
        for event in [ClientEvent::Chat("a \"quoted\" é".into()), ClientEvent::Heartbeat] {
            assert_eq!(ClientEvent::parse(&event.to_frame_text(), LIMIT), Ok(Some(event)));
        }
    }
}
