//! Look-alike names: invisible and formatting characters, blanks and stacked marks are refused
//! with a reason; letters from other forms of the same script (full width, ligatures, case) that
//! make a present name are numbered like the name itself; names near the line are kept as typed.

mod support;

use chatroom::protocol::json::{Arrival, Event};
use support::{get, info_notice, is_guest, me, url_encode, Client, TestServer, NO_NOTICE};

const INVISIBLE: &str = "A name cannot contain invisible or formatting characters.";
const SPACES: &str = "A name can only have single, ordinary spaces between its words.";
const MARKS: &str = "A name cannot start with an accent or other combining mark, repeat one, or stack more than 3.";

/// `n` different combining marks (U+0300 onwards), for stacks that are not refused merely for
/// repeating one mark.
fn marks(n: u32) -> String {
    (0..n).map(|i| char::from_u32(0x300 + i).unwrap()).collect()
}

/// Names that would look like `ann`, or like nothing at all, if they were let in: each row is what
/// is asked for and why it is refused. Every code point the finding names has a row, and so has
/// each class it stands for (default-ignorable, format, blank, spaces, combining marks): to cover
/// a new case, add a row.
fn invisible_look_alikes() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("ann + WORD JOINER U+2060", "ann\u{2060}".into(), INVISIBLE),
        ("ann + SOFT HYPHEN U+00AD", "ann\u{AD}".into(), INVISIBLE),
        ("ann + COMBINING GRAPHEME JOINER U+034F", "ann\u{34F}".into(), INVISIBLE),
        ("ann + MONGOLIAN VOWEL SEPARATOR U+180E", "ann\u{180E}".into(), INVISIBLE),
        ("ann + VARIATION SELECTOR-16 U+FE0F", "ann\u{FE0F}".into(), INVISIBLE),
        ("ann + VARIATION SELECTOR-17 U+E0100", "ann\u{E0100}".into(), INVISIBLE),
        ("ann + TAG LATIN SMALL LETTER X U+E0078", "ann\u{E0078}".into(), INVISIBLE),
        ("ann + CANCEL TAG U+E007F", "ann\u{E007F}".into(), INVISIBLE),
        ("ann + ZERO WIDTH SPACE U+200B", "ann\u{200B}".into(), INVISIBLE),
        ("ann + ZERO WIDTH JOINER U+200D", "ann\u{200D}".into(), INVISIBLE),
        ("ZERO WIDTH NO-BREAK SPACE U+FEFF inside", "an\u{FEFF}n".into(), INVISIBLE),
        ("ann + INVISIBLE TIMES U+2062", "ann\u{2062}".into(), INVISIBLE),
        ("ann + reserved default-ignorable U+2065", "ann\u{2065}".into(), INVISIBLE),
        ("ann + ARABIC NUMBER SIGN U+0600 (format, not default-ignorable)", "ann\u{600}".into(), INVISIBLE),
        ("ann + KHMER VOWEL INHERENT AQ U+17B4", "ann\u{17B4}".into(), INVISIBLE),
        ("ann + BRAILLE PATTERN BLANK U+2800", "ann\u{2800}".into(), INVISIBLE),
        ("BRAILLE PATTERN BLANK U+2800 alone", "\u{2800}".into(), INVISIBLE),
        ("HANGUL FILLER U+3164 alone", "\u{3164}".into(), INVISIBLE),
        ("HANGUL CHOSEONG FILLER U+115F alone", "\u{115F}".into(), INVISIBLE),
        ("HANGUL JUNGSEONG FILLER U+1160 alone", "\u{1160}".into(), INVISIBLE),
        ("HALFWIDTH HANGUL FILLER U+FFA0 alone", "\u{FFA0}".into(), INVISIBLE),
        ("blanks of three kinds", "\u{2800}\u{3164}\u{115F}".into(), INVISIBLE),
        ("NO-BREAK SPACE U+00A0 inside", "ann\u{A0}b".into(), SPACES),
        ("EM SPACE U+2003 inside", "ann\u{2003}b".into(), SPACES),
        ("IDEOGRAPHIC SPACE U+3000 inside", "ann\u{3000}b".into(), SPACES),
        ("LINE SEPARATOR U+2028 inside", "ann\u{2028}b".into(), SPACES),
        ("two spaces (HTML shows one)", "ann  b".into(), SPACES),
        ("ann with 29 marks stacked on its last n", format!("ann{}", marks(29)), MARKS),
        ("a with 31 marks stacked", format!("a{}", marks(31)), MARKS),
        ("ann with 4 marks on one letter", format!("ann{}", marks(4)), MARKS),
        ("ann with one mark twice", "ann\u{301}\u{301}".into(), MARKS),
        ("a mark first", "\u{301}ann".into(), MARKS),
        ("a mark on a space", "ann \u{301}b".into(), MARKS),
    ]
}

#[test]
fn invisible_blank_and_stacked_look_alikes_are_refused() {
    let server = TestServer::start(&[]);
    let url = |name: &str| server.ws_url(&format!("/r/looks/connect?name={}", url_encode(name)));
    let (_ann, welcome) = Client::join(&url("ann"));
    assert_eq!(me(&welcome), "ann");
    let cases = invisible_look_alikes();
    let mut failures = Vec::new();
    for (what, raw, why) in &cases {
        let (_c, welcome) = Client::join(&url(raw));
        let guest = me(&welcome);
        let notice = info_notice(&format!("{why} You are {guest}."));
        if !is_guest(&guest) || !welcome.ends_with(&notice) {
            failures.push(format!("  {what}: got {guest:?}, {}", welcome.rsplit("<p id=\"notice\"").next().unwrap()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} look-alikes were not refused:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // JSON clients are told the same.
    let (_j, welcome) = Client::join_json(&url("ann\u{2060}"));
    assert!(is_guest(&welcome.name), "{}", welcome.name);
    assert_eq!(welcome.notice, format!("{INVISIBLE} You are {}.", welcome.name));
    // And so is the page, which then keeps the guest name rather than the look-alike.
    let body = get(server.addr, &format!("/r/looks?name={}", url_encode("ann\u{FE0F}"))).body_text();
    assert!(body.contains(&format!(r#"<p id="notice" class="notice error" role="alert">{INVISIBLE}</p>"#)), "{body}");
    assert!(!body.contains('\u{FE0F}'), "{body}");
}

#[test]
fn names_near_the_line_are_kept_as_typed() {
    let server = TestServer::start(&[]);
    let url = |name: &str| server.ws_url(&format!("/r/near/connect?name={}", url_encode(name)));
    let kept = [
        "ann b",                               // one ordinary space between words
        "zoe\u{308}",                          // ë as e + COMBINING DIAERESIS: one mark
        "Nguye\u{302}\u{303}n",                // ễ decomposed: two marks (Vietnamese)
        "\u{5E9}\u{5BC}\u{5C1}\u{5B8}\u{5DC}", // שּׁ + qamats: three marks (pointed Hebrew)
        "ann \u{1F642}",                       // an emoji without a variation selector
        "\u{1F1EB}\u{1F1F7} fr",               // a flag: regional indicators, no joiner
        "ko\u{301}\u{323}",                    // two different marks on one letter
    ];
    let mut here = Vec::new();
    for name in kept {
        let (client, welcome) = Client::join(&url(name));
        assert_eq!(me(&welcome), name);
        assert!(welcome.ends_with(NO_NOTICE), "{name:?}: {welcome}");
        here.push(client);
    }
}

/// Look-alikes made of letters: each row is a name present in a room and a name that looks like
/// it, the same after NFKC (UAX #15) and lower-casing, so the newcomer is numbered, keeping its own
/// spelling. To cover a new case, add a row.
fn letter_look_alikes() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("upper case", "ann", "ANN"),
        ("fullwidth", "ann", "\u{FF21}\u{FF2E}\u{FF2E}"),
        ("fullwidth lower case", "ann", "\u{FF41}\u{FF4E}\u{FF4E}"),
        ("fullwidth title case", "ann", "\u{FF21}\u{FF4E}\u{FF4E}"),
        ("one fullwidth letter", "ann", "a\u{FF4E}n"),
        ("fullwidth first, then plain", "\u{FF21}\u{FF2E}\u{FF2E}", "ann"),
        ("mathematical bold", "ann", "\u{1D41A}\u{1D427}\u{1D427}"),
        ("KELVIN SIGN U+212A", "kim", "\u{212A}im"),
        ("ANGSTROM SIGN U+212B", "\u{C5}sa", "\u{212B}sa"),
        ("ligature fi U+FB01", "fin", "\u{FB01}n"),
        ("superscript two", "ann2", "ann\u{B2}"),
        ("circled digit one", "ann 1", "ann \u{2460}"),
        ("ROMAN NUMERAL TWO U+2161", "ann ii", "ann \u{2161}"),
        ("decomposed e with diaeresis", "zo\u{EB}", "zoe\u{308}"),
        ("decomposed e with circumflex and tilde", "Nguy\u{1EC5}n", "Nguye\u{302}\u{303}n"),
        ("the same marks in another order", "ko\u{323}\u{301}", "ko\u{301}\u{323}"),
        ("J + caron, lower-cased, composes to U+01F0", "\u{1F0}o", "J\u{30C}o"),
    ]
}

#[test]
fn letter_look_alikes_of_a_present_name_are_numbered() {
    let server = TestServer::start(&[]);
    let cases = letter_look_alikes();
    let mut failures = Vec::new();
    for (i, (what, present, newcomer)) in cases.iter().enumerate() {
        let url = |name: &str| server.ws_url(&format!("/r/alike-{i}/connect?name={}", url_encode(name)));
        let (_first, welcome) = Client::join(&url(present));
        assert_eq!(me(&welcome), *present, "{what}");
        let (_second, welcome) = Client::join(&url(newcomer));
        let notice = info_notice(&format!("The name {newcomer} is taken here, so you are {newcomer} (2)."));
        if me(&welcome) != format!("{newcomer} (2)") || !welcome.ends_with(&notice) {
            failures.push(format!("  {what}: {newcomer:?} after {present:?} became {:?}", me(&welcome)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} look-alikes were not numbered:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Lower-casing, not full case folding: `ß` and `ss` stay two names (they do not look alike).
    let url = |name: &str| server.ws_url(&format!("/r/strasse/connect?name={}", url_encode(name)));
    let (_first, _) = Client::join(&url("stra\u{DF}e"));
    let (_second, welcome) = Client::join(&url("STRASSE"));
    assert_eq!(me(&welcome), "STRASSE");

    // In one room: numbered in turn, JSON clients too, and a name is free again under its key as
    // soon as whoever held it has left.
    let url = |name: &str| server.ws_url(&format!("/r/alike/connect?name={}", url_encode(name)));
    let (ann, _) = Client::join(&url("ann"));
    let (_wide, welcome) = Client::join(&url("\u{FF21}\u{FF2E}\u{FF2E}"));
    assert_eq!(me(&welcome), "\u{FF21}\u{FF2E}\u{FF2E} (2)");
    let (mut json, welcome) = Client::join_json(&url("\u{FF21}\u{FF4E}\u{FF4E}"));
    assert_eq!(welcome.name, "\u{FF21}\u{FF4E}\u{FF4E} (3)");
    assert_eq!(
        welcome.notice,
        "The name \u{FF21}\u{FF4E}\u{FF4E} is taken here, so you are \u{FF21}\u{FF4E}\u{FF4E} (3)."
    );
    assert_eq!(welcome.members, ["ann", "\u{FF21}\u{FF2E}\u{FF2E} (2)", "\u{FF21}\u{FF4E}\u{FF4E} (3)"]);
    drop(ann);
    json.recv_event_where(|event| matches!(event, Event::Leave(Arrival { name, .. }) if name == "ann"));
    let (_again, welcome) = Client::join(&url("\u{FF41}\u{FF4E}\u{FF4E}"));
    assert_eq!(me(&welcome), "\u{FF41}\u{FF4E}\u{FF4E}");
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");
}
