//! What members send, parsed: the page's htmx JSON and JSON clients' messages.
//!
//! The htmx ws extension sends each submitted form as a JSON object: the form's fields plus a
//! `HEADERS` object (`{"message": "hi", "HEADERS": {"HX-Request": "true", ...}}`). JSON clients
//! send the same shape without `HEADERS`. We read the one field we need and ignore the rest.

use std::borrow::Cow;

use serde::Deserialize;

/// The longest chat message by default (`--max-text`), in characters (not bytes: a long message
/// in Japanese is as long as one in English).
pub const MAX_TEXT_CHARS: usize = 2000;

/// A chat message as sent. `Cow` borrows the text straight from the frame when it has no JSON
/// escapes, so the common case copies nothing.
#[derive(Deserialize)]
struct Inbound<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// Why a text frame is not a chat message. Each becomes a notice to the sender only.
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
    /// The notice text for the sender.
    pub fn explain(&self) -> String {
        match self {
            Rejected::NotChatJson => r#"Could not read that message: send JSON like {"message": "hello"}."#.to_string(),
            Rejected::TooLong { chars, limit } => {
                format!("Message not sent: it is {chars} characters long, and the limit is {limit}.")
            }
        }
    }
}

/// Parses one text frame into the chat text to relay: trimmed, and `None` when it is empty
/// (a blank submit is ignored, not an error).
pub fn parse_chat(frame_text: &str) -> Result<Option<Cow<'_, str>>, Rejected> {
    parse_chat_within(frame_text, MAX_TEXT_CHARS)
}

/// [`parse_chat`] with another length limit (`--max-text`).
pub fn parse_chat_within(frame_text: &str, limit: usize) -> Result<Option<Cow<'_, str>>, Rejected> {
    // An object only: serde's derived reader would also take the array form `["hi"]`.
    if !frame_text.trim_start().starts_with('{') {
        return Err(Rejected::NotChatJson);
    }
    let inbound: Inbound<'_> = serde_json::from_str(frame_text).map_err(|_| Rejected::NotChatJson)?;
    let trimmed = inbound.message.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let chars = trimmed.chars().count();
    if chars > limit {
        return Err(Rejected::TooLong { chars, limit });
    }
    Ok(Some(match inbound.message {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_htmx_shape_and_trims() {
        let got =
            parse_chat(r#"{"message":"  hi there ","HEADERS":{"HX-Request":"true","HX-Trigger":"send"}}"#).unwrap();
        assert_eq!(got.as_deref(), Some("hi there"));
        assert!(matches!(parse_chat(r#"{"message":"plain"}"#).unwrap(), Some(Cow::Borrowed("plain"))));
        assert_eq!(parse_chat(r#"{"message":"a\"b\u00e9"}"#).unwrap().as_deref(), Some("a\"bé"));
    }

    #[test]
    fn blank_is_ignored() {
        assert_eq!(parse_chat(r#"{"message":"   \n\t "}"#).unwrap(), None);
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
            assert_eq!(parse_chat(bad), Err(Rejected::NotChatJson), "{bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(parse_chat(&deep), Err(Rejected::NotChatJson));
    }

    #[test]
    fn length_is_counted_in_characters() {
        let ok = format!(r#"{{"message":"{}"}}"#, "é".repeat(MAX_TEXT_CHARS));
        assert!(parse_chat(&ok).unwrap().is_some());
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(MAX_TEXT_CHARS + 1));
        assert_eq!(parse_chat(&long), Err(Rejected::TooLong { chars: MAX_TEXT_CHARS + 1, limit: MAX_TEXT_CHARS }));
        assert_eq!(parse_chat_within(r#"{"message":"abcd"}"#, 3), Err(Rejected::TooLong { chars: 4, limit: 3 }));
    }
}
