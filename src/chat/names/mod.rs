//! Names: who a member is in a room, and what a room may be called.
//!
//! **People.** A name is 1 to 32 characters (`--max-name`) after trimming, and every character in
//! it shows: a name is how the others tell who said what, so one that can pass for another, or
//! for nothing, is refused rather than cleaned up (the person is told why, and picks another).
//! Refused:
//! - control characters and the bidirectional-text controls (UAX #9), which can make a name read
//!   as someone else's or move what follows it ([`BadName::ControlCharacter`]);
//! - invisible characters: every `Default_Ignorable_Code_Point` and format (`Cf`) character, and
//!   the letters and symbols that fonts draw blank, such as U+2800 BRAILLE PATTERN BLANK and U+3164
//!   HANGUL FILLER ([`BadName::Invisible`]; the tables are in `chars.rs`). With `ann` present,
//!   `ann` + U+2060 WORD JOINER would otherwise be a second `ann` that no one can tell apart;
//! - spaces other than single U+0020s between words ([`BadName::Spaces`]): a no-break or ideographic
//!   space is blank by definition, and HTML shows two spaces as one;
//! - combining marks at the start or after a space, the same mark twice in a row, or more than
//!   [`MAX_MARKS`] on one character ([`BadName::CombiningMarks`]): a stack of them draws over the
//!   lines above and below (UTS #39 §5.4 suggests refusing repeats and long runs).
//!
//! Letters are otherwise free: any script, and emoji that stand alone (sequences joined by U+200D
//! ZERO WIDTH JOINER or with a variation selector are refused, since both are default-ignorable).
//!
//! Names are unique within a room *at any moment*, compared by [`key`]: after NFKC (UAX #15) and
//! lower-casing, so that `ANN`, fullwidth `ＡＮＮ`, `ａnn` or a decomposed `zoe\u{308}` are the same
//! name as `ann` or `zoë`. A second one is numbered and told so (`ＡＮＮ (2)`), and keeps its own
//! spelling: a name is shown as it was typed (trimmed), never as its key. No name at all: a
//! friendly `guest-4821`.
//!
//! **Rooms.** 1 to 32 characters of `[a-z0-9_-]` after lower-casing: safe in a URL, in HTML and as
//! a file name, with no escaping anywhere. A private room's name is 128 bits of OS randomness in
//! base32 (26 characters): unguessable, so it is shared by link and never listed.

mod chars;
#[cfg(test)]
mod tests;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::random;

pub use crate::protocol::DEFAULT_ROOM;

/// Longest room name.
pub const MAX_ROOM_CHARS: usize = 32;

/// The most combining marks a name may have in a row on one character, counted in NFD (so `ễ` is
/// `e` and two marks however it was typed). Vietnamese needs 2, pointed Hebrew and some Indic
/// syllables 3; UTS #39 §5.4 suggests refusing more than 4 nonspacing marks, and a name, unlike
/// running text, has no need of more than a letter's worth.
pub const MAX_MARKS: usize = 3;

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
    /// A character that shows as nothing, or as blank space: default-ignorable, format (`Cf`), or
    /// drawn blank by fonts.
    Invisible,
    /// A space other than U+0020 (a no-break space, say), or two spaces in a row.
    Spaces,
    /// A combining mark with nothing to sit on, the same mark twice in a row, or more than
    /// [`MAX_MARKS`] on one character.
    CombiningMarks,
}

impl BadName {
    /// What to tell the person, in one sentence.
    pub fn explain(&self) -> String {
        match self {
            BadName::Empty => "A name cannot be empty.".into(),
            BadName::TooLong { chars, limit } => format!("That name is {chars} characters long; the limit is {limit}."),
            BadName::ControlCharacter => "A name cannot contain control or text-direction characters.".into(),
            BadName::Invisible => "A name cannot contain invisible or formatting characters.".into(),
            BadName::Spaces => "A name can only have single, ordinary spaces between its words.".into(),
            BadName::CombiningMarks => format!(
                "A name cannot start with an accent or other combining mark, repeat one, or stack more than {MAX_MARKS}."
            ),
        }
    }
}

/// Checks and trims a person's name, of at most `limit` characters (`--max-name`); see the
/// module docs for what is refused. The name comes back as typed, trimmed, and not normalised:
/// a person sees the name they chose.
pub fn validate(raw: &str, limit: usize) -> Result<String, BadName> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    let mut previous = None;
    for c in name.chars() {
        if chars::is_control(c) {
            return Err(BadName::ControlCharacter);
        }
        if chars::is_invisible(c) {
            return Err(BadName::Invisible);
        }
        // `trim` took White_Space off the ends, so any left is inside.
        if c.is_whitespace() && (c != ' ' || previous == Some(' ')) {
            return Err(BadName::Spaces);
        }
        previous = Some(c);
    }
    let chars = name.chars().count();
    if chars > limit {
        return Err(BadName::TooLong { chars, limit });
    }
    if !marks_are_few(name) {
        return Err(BadName::CombiningMarks);
    }
    Ok(name.to_string())
}

/// Whether every run of combining marks (`General_Category=M`) follows a character that is not a
/// space, holds no mark twice in a row, and is at most [`MAX_MARKS`] long. Counted in NFD (UAX
/// #15), where canonically equivalent spellings agree: a precomposed `ễ` counts its two marks, and
/// canonical ordering puts repeats of a mark next to each other.
fn marks_are_few(name: &str) -> bool {
    let mut run = 0;
    let mut on_a_base = false;
    let mut previous = None;
    for c in name.nfd() {
        if is_combining_mark(c) {
            run += 1;
            if !on_a_base || run > MAX_MARKS || previous == Some(c) {
                return false;
            }
        } else {
            run = 0;
            on_a_base = c != ' ';
        }
        previous = Some(c);
    }
    true
}

/// The form in which names are compared: two names with the same key are the same name in a room,
/// however they are spelt. It is NFKC (UAX #15), which folds compatibility variants (fullwidth
/// `ＡＮＮ`, ligature `ﬁ`, KELVIN SIGN, mathematical bold, superscripts, circled digits) and
/// canonical ones (a precomposed or decomposed `ë`); then lower-casing (Unicode's full mappings,
/// as `str::to_lowercase` does them); then NFKC again, because lower-casing can leave text that is
/// not normalised: `J` + U+030C COMBINING CARON lower-cases to `j` + U+030C, whose NFC is `ǰ`.
///
/// This approximates Unicode's NFKC_Casefold (UAX #31 §5.1, UAX #44) without its table. Where full
/// case folding goes further, names stay apart here: `ß` and `ss`, `ς` and `σ` are different
/// names, and they also look different, which is what matters. The default-ignorables that
/// NFKC_Casefold drops are refused by [`validate`] before a name is ever compared. Keys are
/// idempotent (`key(&key(x)) == key(x)`), which the fuzz target checks.
pub fn key(name: &str) -> String {
    let lower = name.nfkc().collect::<String>().to_lowercase();
    lower.nfkc().collect()
}

/// A friendly default name.
pub fn guest() -> String {
    format!("guest-{:04}", random::below(10_000))
}

/// `wanted`, or `wanted (2)`, `wanted (3)`... whichever `is_taken` says is free. `is_taken` is
/// given each candidate as it would be shown, and must compare it by [`key`] with the names in the
/// room (so that `ＡＮＮ` is taken when `ann` is there). The base is shortened if needed so that the
/// result stays within the limit.
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
