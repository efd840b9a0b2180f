//! The name checks of the `inbound` target: what an accepted name shows, and that names' keys
//! are idempotent and blind to case, width and composition.

use super::*;

pub(crate) fn check_name(raw: &str) {
    let verdict = names::validate(raw, MAX_NAME_CHARS);
    match &verdict {
        Ok(valid) => {
            assert!(!valid.is_empty());
            assert_eq!(valid, valid.trim());
            assert_eq!(valid, raw.trim());
            assert!(valid.chars().count() <= MAX_NAME_CHARS);
            assert_shows(valid);
            // Idempotent.
            assert_eq!(names::validate(valid, MAX_NAME_CHARS).as_deref(), Ok(valid.as_str()));
            // A taken name gets a suffix, and the result is a valid name that is not taken, compared
            // by key as the room compares them.
            let upper = valid.to_uppercase();
            let taken = [names::key(valid), names::key(&upper)];
            let is_taken = |candidate: &str| taken.contains(&names::key(candidate));
            let other = names::unique(valid, MAX_NAME_CHARS, is_taken);
            assert!(!is_taken(&other), "{other:?} is taken");
            assert_eq!(
                names::validate(&other, MAX_NAME_CHARS).as_deref(),
                Ok(other.as_str()),
                "unique gave an invalid name"
            );
            // And a free one is kept as it is.
            assert_eq!(names::unique(valid, MAX_NAME_CHARS, |_| false), *valid);
        }
        Err(BadName::Empty) => assert!(raw.trim().is_empty()),
        Err(BadName::TooLong { chars, .. }) => assert!(*chars > MAX_NAME_CHARS),
        Err(BadName::ControlCharacter | BadName::Invisible | BadName::Spaces | BadName::CombiningMarks) => {}
    }
    if let Err(bad) = &verdict {
        assert!(!bad.explain().is_empty());
    }
    // The key of any text at all is idempotent: a key compares equal to the names it stands for.
    let key = names::key(raw);
    assert_eq!(names::key(&key), key, "key is not idempotent");
    // Spellings with the same key, that differ only in letters, get the same verdict: ASCII letters
    // in the other case and fullwidth, or precomposed letters decomposed (whose verdict may differ
    // only by the length, since decomposing adds characters).
    let wide = fullwidth_swapped(raw);
    assert_eq!(names::key(&wide), key, "{wide:?}");
    assert!(same_verdict(&names::validate(&wide, MAX_NAME_CHARS), &verdict), "{wide:?}: {verdict:?}");
    let decomposed = decompose_some(raw);
    assert_eq!(names::key(&decomposed), key, "{decomposed:?}");
    let other = names::validate(&decomposed, MAX_NAME_CHARS);
    let too_long = |v: &Result<String, BadName>| matches!(v, Err(BadName::TooLong { .. }));
    if !too_long(&verdict) && !too_long(&other) {
        assert!(same_verdict(&other, &verdict), "{decomposed:?}: {other:?}, {verdict:?}");
    }
}

/// Whether two verdicts are the same, an accepted name aside (two spellings of it differ).
pub(crate) fn same_verdict(a: &Result<String, BadName>, b: &Result<String, BadName>) -> bool {
    match (a, b) {
        (Ok(_), Ok(_)) => true,
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

/// `text` with every ASCII letter fullwidth and in the other case (`a` → `Ａ`): the same key.
pub(crate) fn fullwidth_swapped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32(c as u32 - 'a' as u32 + 0xFF21).unwrap(),
            'A'..='Z' => char::from_u32(c as u32 - 'A' as u32 + 0xFF41).unwrap(),
            c => c,
        })
        .collect()
}

/// `text` with a few precomposed letters decomposed (canonically equivalent: the same key).
pub(crate) fn decompose_some(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '\u{E9}' => out.push_str("e\u{301}"),
            '\u{EB}' => out.push_str("e\u{308}"),
            '\u{F1}' => out.push_str("n\u{303}"),
            '\u{C5}' => out.push_str("A\u{30A}"),
            '\u{1EC5}' => out.push_str("e\u{302}\u{303}"),
            c => out.push(c),
        }
    }
    out
}

/// Every character of an accepted name shows, checked against tables kept apart from the
/// server's own: no control, no default-ignorable or format character (Unicode 15.0's
/// DerivedCoreProperties.txt and UnicodeData.txt), nothing drawn blank, no space but single
/// U+0020s, and no combining diacritical mark (U+0300–036F) first, twice in a row or four in a row.
pub(crate) fn assert_shows(name: &str) {
    const NOT_SHOWN: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x2800, 0x2800),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x16FE4, 0x16FE4),
        (0x1BCA0, 0x1BCA3),
        (0x1D159, 0x1D159),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];
    let diacritic = |c: char| ('\u{300}'..='\u{36F}').contains(&c);
    let mut run = 0;
    let mut previous = None;
    for c in name.chars() {
        let code = c as u32;
        assert!(!c.is_control(), "control U+{code:04X} in {name:?}");
        assert!(!NOT_SHOWN.iter().any(|&(lo, hi)| (lo..=hi).contains(&code)), "invisible U+{code:04X} in {name:?}");
        assert!(!c.is_whitespace() || (c == ' ' && previous != Some(' ')), "space U+{code:04X} in {name:?}");
        run = if diacritic(c) { run + 1 } else { 0 };
        assert!(run <= names::MAX_MARKS, "{run} marks in a row in {name:?}");
        if diacritic(c) {
            assert!(previous.is_some_and(|p| p != ' ' && p != c), "a mark first, on a space or repeated in {name:?}");
        }
        previous = Some(c);
    }
}
