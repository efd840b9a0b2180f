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

/// `ann` followed by each character the finding names, and by one of each class it stands for.
#[test]
fn invisible_characters_are_refused() {
    let invisible = [
        '\u{2060}',  // WORD JOINER
        '\u{00AD}',  // SOFT HYPHEN
        '\u{034F}',  // COMBINING GRAPHEME JOINER
        '\u{180E}',  // MONGOLIAN VOWEL SEPARATOR
        '\u{FE0F}',  // VARIATION SELECTOR-16
        '\u{E0100}', // VARIATION SELECTOR-17
        '\u{E0041}', // TAG LATIN CAPITAL LETTER A
        '\u{E007F}', // CANCEL TAG
        '\u{E0001}', // LANGUAGE TAG
        '\u{200B}',  // ZERO WIDTH SPACE
        '\u{200C}',  // ZERO WIDTH NON-JOINER
        '\u{200D}',  // ZERO WIDTH JOINER
        '\u{FEFF}',  // ZERO WIDTH NO-BREAK SPACE
        '\u{2062}',  // INVISIBLE TIMES
        '\u{17B4}',  // KHMER VOWEL INHERENT AQ
        '\u{1D173}', // MUSICAL SYMBOL BEGIN BEAM
        '\u{0600}',  // ARABIC NUMBER SIGN (Cf, not default-ignorable)
        '\u{FFF9}',  // INTERLINEAR ANNOTATION ANCHOR (likewise)
        '\u{2800}',  // BRAILLE PATTERN BLANK
        '\u{3164}',  // HANGUL FILLER
        '\u{115F}',  // HANGUL CHOSEONG FILLER
        '\u{1160}',  // HANGUL JUNGSEONG FILLER
        '\u{FFA0}',  // HALFWIDTH HANGUL FILLER
    ];
    for c in invisible {
        let code = c as u32;
        assert_eq!(validate(&format!("ann{c}"), 32), Err(BadName::Invisible), "ann + U+{code:04X}");
        assert_eq!(validate(&format!("{c}ann"), 32), Err(BadName::Invisible), "U+{code:04X} + ann");
        // A name of nothing else is refused too (trimming does not take these away).
        assert_eq!(validate(&format!(" {c}{c} "), 32), Err(BadName::Invisible), "U+{code:04X} alone");
    }
    // Direction controls are told as such, though they are invisible too.
    assert_eq!(validate("ann\u{200F}", 32), Err(BadName::ControlCharacter));
    assert_eq!(validate("ann\u{2066}", 32), Err(BadName::ControlCharacter));
    assert_eq!(validate("ann\u{61C}", 32), Err(BadName::ControlCharacter));
    assert_eq!(BadName::Invisible.explain(), "A name cannot contain invisible or formatting characters.");
}

#[test]
fn only_single_ordinary_spaces() {
    assert_eq!(validate("ann b", 32).unwrap(), "ann b");
    assert_eq!(validate("ann b c", 32).unwrap(), "ann b c");
    assert_eq!(validate("ann  b", 32), Err(BadName::Spaces));
    for space in ['\u{A0}', '\u{1680}', '\u{2000}', '\u{2003}', '\u{200A}', '\u{202F}', '\u{205F}', '\u{3000}'] {
        let code = space as u32;
        assert_eq!(validate(&format!("ann{space}b"), 32), Err(BadName::Spaces), "U+{code:04X}");
        // At the ends they are White_Space, trimmed like any other.
        assert_eq!(validate(&format!("{space}ann{space}"), 32).unwrap(), "ann", "U+{code:04X}");
    }
    for separator in ['\u{2028}', '\u{2029}'] {
        assert_eq!(validate(&format!("ann{separator}b"), 32), Err(BadName::Spaces));
    }
}

#[test]
fn combining_marks_are_limited() {
    // Accepted: one mark, two (Vietnamese), three (pointed Hebrew), precomposed or not.
    for name in ["zoe\u{308}", "zo\u{EB}", "Nguye\u{302}\u{303}n", "Nguy\u{1EC5}n", "\u{5E9}\u{5BC}\u{5C1}\u{5B8}"] {
        assert_eq!(validate(name, 32).as_deref(), Ok(name), "{name:?}");
    }
    let marks = |n: u32| (0..n).map(|i| char::from_u32(0x300 + i).unwrap()).collect::<String>();
    assert!(validate(&format!("ann{}", marks(3)), 32).is_ok());
    for bad in [
        format!("ann{}", marks(4)),        // four on one letter
        format!("a{}", marks(31)),         // the finding: a stack the height of the limit
        format!("\u{1EC5}{}", marks(2)),   // ễ is e and two marks already
        "\u{301}ann".into(),               // nothing to sit on
        "ann \u{301}".into(),              // a space to sit on
        "ann\u{301}\u{301}".into(),        // the same mark twice
        "ann\u{301}\u{323}\u{301}".into(), // twice, once canonical order puts them together
    ] {
        assert_eq!(validate(&bad, 32), Err(BadName::CombiningMarks), "{bad:?}");
    }
}

#[test]
fn the_key_folds_compatibility_forms_and_case() {
    for alike in
        ["ann", "ANN", "Ann", "\u{FF41}\u{FF4E}\u{FF4E}", "\u{FF21}\u{FF2E}\u{FF2E}", "\u{FF21}\u{FF4E}\u{FF4E}"]
    {
        assert_eq!(key(alike), "ann", "{alike:?}");
    }
    assert_eq!(key("\u{1D41A}\u{1D427}\u{1D427}"), "ann", "mathematical bold");
    assert_eq!(key("\u{212A}im"), key("Kim"), "KELVIN SIGN");
    assert_eq!(key("\u{212B}"), key("\u{C5}"), "ANGSTROM SIGN");
    assert_eq!(key("\u{FB01}n"), key("fin"), "ligature fi");
    assert_eq!(key("ann\u{B2}"), key("ann2"), "superscript two");
    assert_eq!(key("\u{2161}"), key("ii"), "ROMAN NUMERAL TWO");
    assert_eq!(key("zoe\u{308}"), key("zo\u{EB}"), "decomposed and precomposed");
    assert_eq!(key("ko\u{301}\u{323}"), key("ko\u{323}\u{301}"), "marks in either order");
    assert_eq!(key("J\u{30C}o"), key("\u{1F0}o"), "the second NFKC: j + caron composes to U+01F0");
    assert_eq!(key("\u{130}"), "i\u{307}", "full lower-casing: İ is i + U+0307");
    // Lower-casing is not full case folding: these stay two names (and look like two).
    assert_ne!(key("stra\u{DF}e"), key("STRASSE"));
    assert_ne!(key("\u{3C2}"), key("\u{3C3}"));
    // Distinct names stay distinct, and the key is idempotent.
    assert_ne!(key("ann"), key("anne"));
    for name in ["ANN", "J\u{30C}o", "\u{FB01}", "\u{130}", "\u{3A3}\u{391}\u{3A3}", "\u{2161} (2)"] {
        assert_eq!(key(&key(name)), key(name), "{name:?}");
    }
    // A refused look-alike never reaches the key: `ann` + U+FE0F is refused, not numbered.
    assert_eq!(validate("ann\u{FE0F}", 32), Err(BadName::Invisible));
}

#[test]
fn duplicates_get_a_number() {
    let taken = |c: &str| ["ann", "ann (2)", "bob"].contains(&key(c).as_str());
    assert_eq!(unique("carol", 32, taken), "carol");
    assert_eq!(unique("ANN", 32, taken), "ANN (3)");
    // Look-alikes keep their own spelling, numbered.
    assert_eq!(unique("\u{FF21}\u{FF2E}\u{FF2E}", 32, taken), "\u{FF21}\u{FF2E}\u{FF2E} (3)");
    assert_eq!(unique("\u{1D41B}\u{1D428}\u{1D41B}", 32, taken), "\u{1D41B}\u{1D428}\u{1D41B} (2)");
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
