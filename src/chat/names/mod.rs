//! Names: who a member is in a room, and what a room may be called.
//!
//! **People.** A name is 1 to 32 characters after trimming, with no control characters and no
//! bidirectional-text controls (which could make a name display as someone else's). Names are
//! unique within a room *at any moment*, compared without case: a second `ann` becomes `ann (2)`
//! and is told so. No name at all: a friendly `guest-4821`.
//!
//! **Rooms.** 1 to 32 characters of `[a-z0-9_-]` after lower-casing: safe in a URL, in HTML and as
//! a file name, with no escaping anywhere. A private room's name is 128 bits of OS randomness in
//! base32 (26 characters): unguessable, so it is shared by link and never listed.

use crate::random;

/// The room behind `/` and `/connect`: it always exists and is always listed.
pub const DEFAULT_ROOM: &str = "lobby";

/// Longest room name.
pub const MAX_ROOM_CHARS: usize = 32;

/// Why a name was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BadName {
    /// Nothing left after trimming.
    Empty,
    /// Too many characters.
    TooLong {
        /// How long it was, in characters.
        chars: usize,
        /// The limit (`--max-name`).
        limit: usize,
    },
    /// A control character or a bidirectional-text control.
    ControlCharacter,
}

impl BadName {
    /// What to tell the person, in one sentence.
    pub fn explain(&self) -> String {
        match self {
            BadName::Empty => "A name cannot be empty.".into(),
            BadName::TooLong { chars, limit } => format!("That name is {chars} characters long; the limit is {limit}."),
            BadName::ControlCharacter => "A name cannot contain control or text-direction characters.".into(),
        }
    }
}

/// Checks and trims a person's name, of at most `limit` characters (`--max-name`).
pub fn validate(raw: &str, limit: usize) -> Result<String, BadName> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(BadName::ControlCharacter);
    }
    let chars = name.chars().count();
    if chars > limit {
        return Err(BadName::TooLong { chars, limit });
    }
    Ok(name.to_string())
}

/// Unicode's explicit direction controls (UAX #9) and zero-width characters: invisible, and able
/// to make `ann` look like another name.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

/// A friendly default name.
pub fn guest() -> String {
    format!("guest-{:04}", random::below(10_000))
}

/// `wanted`, or `wanted (2)`, `wanted (3)`... whichever `is_taken` says is free (the room
/// compares without case). The base is shortened if needed so that the result stays within the
/// limit.
pub fn unique(wanted: &str, limit: usize, is_taken: impl Fn(&str) -> bool) -> String {
    if !is_taken(wanted) {
        return wanted.to_string();
    }
    for n in 2u32.. {
        let suffix = format!(" ({n})");
        let room_for_base = limit.saturating_sub(suffix.chars().count()).max(1);
        let base: String = wanted.chars().take(room_for_base).collect();
        let candidate = format!("{}{suffix}", base.trim_end());
        if !is_taken(&candidate) {
            return candidate;
        }
    }
    unreachable!("some suffix is always free")
}

/// The canonical form of a room name (lower-cased), or `None` if it is not a valid one.
pub fn room(raw: &str) -> Option<String> {
    let name = raw.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= MAX_ROOM_CHARS
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    valid.then_some(name)
}

/// A new private room name: 16 random bytes, base32.
pub fn private_room() -> String {
    let mut bytes = [0u8; 16];
    random::fill(&mut bytes);
    random::base32(&bytes)
}

/// Whether a room name looks like one made by [`private_room`]: such rooms are never listed.
pub fn is_private_room(name: &str) -> bool {
    name.len() == 26 && name.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// What to tell someone about valid room names.
pub const ROOM_RULE: &str = "A room name is 1 to 32 characters: letters a-z, digits, '-' and '_'.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(validate("  Ann  ", 32).unwrap(), "Ann");
        assert_eq!(validate("   ", 32), Err(BadName::Empty));
        assert_eq!(validate(&"é".repeat(33), 32), Err(BadName::TooLong { chars: 33, limit: 32 }));
        assert_eq!(validate("abcd", 3), Err(BadName::TooLong { chars: 4, limit: 3 }));
        assert!(validate(&"é".repeat(32), 32).is_ok());
        assert_eq!(validate("a\u{0}b", 32), Err(BadName::ControlCharacter));
        assert_eq!(validate("a\nb", 32), Err(BadName::ControlCharacter));
        assert_eq!(validate("evil\u{202E}nna", 32), Err(BadName::ControlCharacter));
        assert_eq!(validate("<b>bold</b>", 32).unwrap(), "<b>bold</b>", "markup is escaped where shown, not refused");
    }

    #[test]
    fn duplicates_get_a_number() {
        let taken = |c: &str| ["ann", "ann (2)", "bob"].contains(&c.to_lowercase().as_str());
        assert_eq!(unique("carol", 32, taken), "carol");
        assert_eq!(unique("ANN", 32, taken), "ANN (3)");
        let long = "x".repeat(32);
        let second = unique(&long, 32, |c: &str| c == long);
        assert_eq!(second.chars().count(), 32);
        assert!(second.ends_with(" (2)"));
    }

    #[test]
    fn room_names() {
        assert_eq!(room("Lobby").as_deref(), Some("lobby"));
        assert_eq!(room("a-b_9").as_deref(), Some("a-b_9"));
        assert_eq!(room(""), None);
        assert_eq!(room(&"a".repeat(33)), None);
        for bad in ["a b", "a/b", "..", "é", "a%20b", "<x>"] {
            assert_eq!(room(bad), None, "{bad}");
        }
        let private = private_room();
        assert_eq!(room(&private).as_deref(), Some(private.as_str()));
        assert!(is_private_room(&private));
        assert!(!is_private_room("lobby"));
    }

    #[test]
    fn guests() {
        let g = guest();
        assert!(g.starts_with("guest-") && g.len() == 10);
        assert!(validate(&g, 32).is_ok());
    }
}
