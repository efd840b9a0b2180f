//! Which characters a person's name may hold: the tables behind [`super::validate`].
//!
//! A name is shown to everyone in the room as the proof of who said what, so every character in
//! it must show. The tables list what does not: controls, the characters that Unicode itself says
//! to draw as nothing (`Default_Ignorable_Code_Point`), format characters (`General_Category=Cf`),
//! the few letters and symbols that fonts draw blank, and spaces other than U+0020 (which are
//! blank by definition, and which HTML, where names are shown, may collapse or stretch).
//!
//! The ranges were checked against the Unicode Character Database 15.0 (`DerivedCoreProperties.txt`
//! for `Default_Ignorable_Code_Point`, `UnicodeData.txt` for `Cf`), and are unchanged in 16.0. A
//! character assigned later with either property gets through until it is added here; code points
//! that Unicode reserves as default-ignorable are refused already, assigned or not.

/// A control character (`General_Category=Cc`) or one of the explicit directional formatting
/// characters of UAX #9 (§2): they can make a name display as another, or move the text after it.
pub(super) fn is_control(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The explicit directional formatting characters: ALM, LRM, RLM, the embeddings and overrides,
/// and the isolates (UAX #9 §2.1–2.6).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` would show as nothing, or as blank space, in a name: it is default-ignorable, a
/// format character, or one of [`is_drawn_blank`]'s.
pub(super) fn is_invisible(c: char) -> bool {
    is_default_ignorable(c) || is_format(c) || is_drawn_blank(c)
}

/// `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt): the characters that a renderer
/// without special support must draw as nothing (Unicode §5.21), so `ann` followed by any of them
/// looks like `ann`. Among them: soft hyphen, combining grapheme joiner, the Hangul fillers, the
/// Khmer inherent vowels, the Mongolian free variation selectors and vowel separator, the zero-width
/// and directional characters, word joiner and invisible operators, variation selectors, the byte
/// order mark, the tag characters, and the code points reserved to be default-ignorable.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `General_Category=Cf` (format) characters that are not default-ignorable: prefixed number
/// signs and annotation controls, which change how the characters around them are drawn rather
/// than being drawn themselves. (Every other `Cf` character is in [`is_default_ignorable`].)
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{0600}'..='\u{0605}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
    )
}

/// Visible characters by their properties that fonts draw as blank space, a favourite way to
/// make a name that looks empty: BRAILLE PATTERN BLANK (the braille cell with no dots), KHITAN
/// SMALL SCRIPT FILLER, and MUSICAL SYMBOL NULL NOTEHEAD. (The Hangul fillers, which are as blank,
/// are default-ignorable.)
fn is_drawn_blank(c: char) -> bool {
    matches!(c, '\u{2800}' | '\u{16FE4}' | '\u{1D159}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Cf characters of UnicodeData.txt 15.0, all of them, as ranges: each must be refused.
    const FORMAT: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];

    fn every(ranges: &[(u32, u32)]) -> impl Iterator<Item = char> + '_ {
        ranges.iter().flat_map(|&(lo, hi)| (lo..=hi).filter_map(char::from_u32))
    }

    #[test]
    fn every_format_character_is_refused() {
        for c in every(FORMAT) {
            assert!(is_control(c) || is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn the_characters_the_finding_names_are_invisible() {
        let named = "\u{2060}\u{00AD}\u{034F}\u{180E}\u{FE0F}\u{E0041}\u{E0061}\u{E007F}\u{2800}\u{3164}\u{115F}\u{1160}\u{FFA0}\u{200B}\u{FEFF}";
        for c in named.chars() {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        // The whole tag block, variation selectors 17-256 included.
        assert!(every(&[(0xE0000, 0xE0FFF)]).all(is_invisible));
    }

    #[test]
    fn direction_controls_and_cc_are_controls() {
        for c in "\u{0}\u{7}\t\n\u{7F}\u{85}\u{9F}\u{61C}\u{200E}\u{200F}\u{202A}\u{202E}\u{2066}\u{2069}".chars() {
            assert!(is_control(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn visible_characters_pass() {
        // Letters of several scripts, digits, punctuation, symbols, emoji, a plain space, and
        // visible neighbours of the refused ranges.
        let visible = "Ann zoë Ἀθηνᾶ Анна 安娜 안나 ᄀ ㄱ ﾡ שרה علي ⠁ 🙂 🇫🇷 #_-.'()\u{2801}\u{2067F}\u{FE10}\u{FFFC}";
        for c in visible.chars() {
            assert!(!is_control(c) && !is_invisible(c), "U+{:04X}", c as u32);
        }
    }
}
