//! The token each message carries, finding it again in what the server relays, and telling a
//! first delivery from a duplicate.
//!
//! A measured message's text is `bench-NONCE-SENDER-SEQ-SENTNS`: the run's nonce (so a message
//! from anything else, e.g. history replayed from an earlier run, is never counted), the sender's
//! index, its sequence number (0, 1, 2, … per sender) and the send time in nanoseconds on the
//! process-wide monotonic clock ([`now_ns`]). A scenario that wants bigger messages pads the token
//! to its size with `-xxxx…` ([`measured_padded`]); [`parse`] ignores everything after the fourth
//! field. Probes, which only check that everyone is in the room, are `probe-NONCE-ID` and are never
//! counted. Tokens use only `[a-z0-9-]`, so HTML escaping
//! leaves them unchanged.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Instant;

/// Where a chat text starts in a relayed fragment. The server may add elements around it (a name,
/// a time); the text itself stays inside this span.
const TEXT_OPEN: &str = r#"<span class="text">"#;
const TEXT_CLOSE: &str = "</span>";

/// Nanoseconds since the first call, on a monotonic clock shared by every task of the process, so
/// that a receiver can subtract a sender's timestamp.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// What a chat text turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Token {
    Measured {
        sender: usize,
        seq: u64,
        sent_ns: u64,
    },
    Probe {
        id: u64,
    },
    /// Not ours: another nonce, or text that is not a token at all.
    Foreign,
}

/// The text of a measured message.
pub fn measured(nonce: u32, sender: usize, seq: u64, sent_ns: u64) -> String {
    format!("bench-{nonce:08x}-{sender}-{seq}-{sent_ns}")
}

/// The text of a measured message, padded to `len` bytes with `-` and then `x`s (the token alone
/// when it is already that long, or nearly). Only `[a-z0-9-]`, so escaping leaves it unchanged.
pub fn measured_padded(nonce: u32, sender: usize, seq: u64, sent_ns: u64, len: usize) -> String {
    let mut text = measured(nonce, sender, seq, sent_ns);
    if text.len() + 1 < len {
        text.reserve(len - text.len());
        text.push('-');
        while text.len() < len {
            text.push('x');
        }
    }
    text
}

/// The text of a probe.
pub fn probe(nonce: u32, id: u64) -> String {
    format!("probe-{nonce:08x}-{id}")
}

/// The frame a client sends: the JSON shape chatroom and the page agree on. Tokens need no JSON
/// escaping.
pub fn message_json(text: &str) -> String {
    format!(r#"{{"message":"{text}"}}"#)
}

/// Reads one chat text as a token of the run with this `nonce`.
pub fn parse(text: &str, nonce: u32) -> Token {
    parse_parts(text.trim(), nonce).unwrap_or(Token::Foreign)
}

fn parse_parts(text: &str, nonce: u32) -> Option<Token> {
    let (kind, rest) = text.split_once('-')?;
    let (their_nonce, rest) = rest.split_once('-')?;
    if u32::from_str_radix(their_nonce, 16).ok()? != nonce {
        return None;
    }
    match kind {
        "bench" => {
            // A fourth field, if any, is padding ([`measured_padded`]): ignored.
            let mut fields = rest.splitn(4, '-');
            let sender = fields.next()?.parse().ok()?;
            let seq = fields.next()?.parse().ok()?;
            let sent_ns = fields.next()?.parse().ok()?;
            Some(Token::Measured { sender, seq, sent_ns })
        }
        "probe" => Some(Token::Probe { id: rest.parse().ok()? }),
        _ => None,
    }
}

/// Every chat text in a relayed frame: the content of each `<span class="text">…</span>`. A frame
/// may hold several (a history replay) or none (a roster or notice update).
pub fn chat_texts(frame: &str) -> impl Iterator<Item = &str> {
    let mut rest = frame;
    std::iter::from_fn(move || {
        let start = rest.find(TEXT_OPEN)? + TEXT_OPEN.len();
        let len = rest[start..].find(TEXT_CLOSE)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + TEXT_CLOSE.len()..];
        Some(text)
    })
}

/// The sequence numbers one receiver has seen from one sender, in O(1) memory while they arrive
/// in order (both servers keep each sender's order): everything below `next` has been seen, and
/// `ahead` holds what arrived early.
#[derive(Default)]
pub struct SeenSeqs {
    next: u64,
    ahead: BTreeSet<u64>,
}

impl SeenSeqs {
    /// Records `seq`; `false` when it had been seen already (a duplicate delivery).
    pub fn first_time(&mut self, seq: u64) -> bool {
        if seq < self.next {
            return false;
        }
        if seq > self.next {
            return self.ahead.insert(seq);
        }
        self.next += 1;
        while self.ahead.remove(&self.next) {
            self.next += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(
            parse(&measured(0xab, 3, 17, 123_456_789), 0xab),
            Token::Measured { sender: 3, seq: 17, sent_ns: 123_456_789 }
        );
        assert_eq!(parse(&probe(0xab, 4), 0xab), Token::Probe { id: 4 });
        assert_eq!(parse(&measured(0xab, 3, 17, 1), 0xac), Token::Foreign);
        assert_eq!(parse("hello there", 0xab), Token::Foreign);
        assert_eq!(parse("bench-000000ab-1-2", 0xab), Token::Foreign);
    }

    #[test]
    fn padding_is_ignored() {
        let padded = measured_padded(0xab, 3, 17, 123_456_789, 1024);
        assert_eq!(padded.len(), 1024);
        assert!(padded.starts_with("bench-000000ab-3-17-123456789-xxx"));
        assert!(padded.ends_with("xxx"));
        assert_eq!(parse(&padded, 0xab), Token::Measured { sender: 3, seq: 17, sent_ns: 123_456_789 });
        assert_eq!(parse(&format!("  {padded} "), 0xab), Token::Measured { sender: 3, seq: 17, sent_ns: 123_456_789 });
        assert_eq!(parse(&padded, 0xac), Token::Foreign);
        // Too short to pad: the bare token.
        assert_eq!(measured_padded(0xab, 3, 17, 1, 10), measured(0xab, 3, 17, 1));
        assert_eq!(measured_padded(0xab, 3, 17, 1, 0), measured(0xab, 3, 17, 1));
        // The padding never stands in for a missing field.
        assert_eq!(parse("bench-000000ab-1-2-", 0xab), Token::Foreign);
        assert_eq!(parse("bench-000000ab-1-x-xxxx", 0xab), Token::Foreign);
    }

    #[test]
    fn finds_texts_in_richer_fragments() {
        let today =
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">a</span></li></ul>"#;
        assert_eq!(chat_texts(today).collect::<Vec<_>>(), ["a"]);
        let later = concat!(
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="name">ann</span>"#,
            r#"<time datetime="x">12:00</time><span class="text">b</span></li>"#,
            r#"<li class="message"><span class="text"> c </span></li></ul><p id="notice"></p>"#
        );
        assert_eq!(chat_texts(later).collect::<Vec<_>>(), ["b", " c "]);
        assert_eq!(chat_texts(r#"<p id="roster">3 here</p>"#).count(), 0);
    }

    #[test]
    fn seen_seqs_counts_duplicates_in_and_out_of_order() {
        let mut seen = SeenSeqs::default();
        assert!(seen.first_time(0));
        assert!(!seen.first_time(0));
        assert!(seen.first_time(2));
        assert!(!seen.first_time(2));
        assert!(seen.first_time(1));
        assert!(seen.ahead.is_empty());
        assert_eq!(seen.next, 3);
        assert!(!seen.first_time(1));
    }
}
