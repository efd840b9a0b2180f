//! Names: given on the connect URL (or the page's cookie), trimmed, 1–32 characters, no control or
//! text-direction characters, nothing invisible or blank, only single ordinary spaces, no stacked
//! combining marks, unique within a room after NFKC and case folding (`ann (2)`, `ＡＮＮ (2)`), a
//! guest name otherwise; and every name and message HTML-escaped wherever the page shows it.

mod support;

use chatroom::protocol::json::{Arrival, Entry, Event, HistoryPage};
use support::{element, get, get_history, json_message, url_encode, Client, TestServer};

/// The welcome's `#me` element must be exactly this for `name` (already escaped).
fn me_element(escaped: &str) -> String {
    format!(r#"<span id="me" hx-swap-oob="true" data-name="{escaped}">{escaped}</span>"#)
}

/// The name in a welcome's `#me` element (as written, i.e. escaped).
fn me(welcome: &str) -> String {
    let span = element(welcome, r#"<span id="me" hx-swap-oob="true" data-name=""#, "</span>")
        .unwrap_or_else(|| panic!("no #me in {welcome}"));
    let (attr, content) = span.split_once(r#"">"#).unwrap();
    let attr = attr.rsplit('"').next().unwrap();
    let content = content.strip_suffix("</span>").unwrap();
    assert_eq!(attr, content, "data-name and the shown name differ: {span}");
    content.to_string()
}

/// The welcome's notice element for `text` (already escaped); a welcome always ends with it.
fn info_notice(escaped: &str) -> String {
    format!(r#"<p id="notice" hx-swap-oob="true" class="notice info" role="alert">{escaped}</p>"#)
}

const NO_NOTICE: &str = r#"<p id="notice" hx-swap-oob="true"></p>"#;

/// Whether `name` is a guest name: `guest-` and four digits.
fn is_guest(name: &str) -> bool {
    name.strip_prefix("guest-").is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn duplicate_names_get_a_number_and_are_told_so() {
    let server = TestServer::start(&[]);
    let url = |name: &str| server.ws_url(&format!("/r/names/connect?name={}", url_encode(name)));
    let (mut ann, welcome) = Client::join(&url("ann"));
    assert_eq!(me(&welcome), "ann");
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");

    let (_ann2, welcome) = Client::join(&url("ann"));
    assert_eq!(me(&welcome), "ann (2)");
    assert!(welcome.contains(&me_element("ann (2)")));
    assert!(welcome.ends_with(&info_notice("The name ann is taken here, so you are ann (2).")), "{welcome}");

    // Compared without case; the asker's spelling is kept.
    let (mut ann3, welcome) = Client::join(&url("ANN"));
    assert_eq!(me(&welcome), "ANN (3)");
    assert!(welcome.ends_with(&info_notice("The name ANN is taken here, so you are ANN (3).")), "{welcome}");
    assert!(welcome.contains(concat!(
        r#"<ul id="roster" hx-swap-oob="true" aria-label="3 here">"#,
        r#"<li data-name="ann">ann</li><li data-name="ann (2)">ann (2)</li><li data-name="ANN (3)">ANN (3)</li></ul>"#
    )));

    // JSON clients are told in their notice event, which carries the name they got.
    let (_json, welcome) = Client::join_json(&url("Ann"));
    assert_eq!(welcome.notice, "The name Ann is taken here, so you are Ann (4).");
    assert_eq!(welcome.name, "Ann (4)");
    assert_eq!(welcome.members, ["ann", "ann (2)", "ANN (3)", "Ann (4)"]);

    // Messages carry the numbered name.
    ann3.say("which ann?");
    let got = ann.recv_text();
    assert!(got.contains(r#"data-name="ANN (3)"><time"#) && got.contains(r#"<b class="name">ANN (3)</b>"#), "{got}");

    // Unique at any moment: once the first ann has left, the name is free again.
    drop(ann);
    ann3.recv_containing(r#"<b class="name">ann</b> left</li>"#);
    let (_again, welcome) = Client::join(&url("ann"));
    assert_eq!(me(&welcome), "ann");
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");

    // A numbered name stays within 32 characters.
    let long = "x".repeat(32);
    let (_first, welcome) = Client::join(&url(&long));
    assert_eq!(me(&welcome), long);
    let (_second, welcome) = Client::join(&url(&long));
    assert_eq!(me(&welcome), format!("{} (2)", "x".repeat(28)));
}

#[test]
fn no_empty_or_blank_names_give_a_guest_name() {
    let server = TestServer::start(&[]);
    // No name at all: a guest name, and no complaint.
    let (_a, welcome) = Client::join(&server.ws_url("/connect"));
    let guest = me(&welcome);
    assert!(is_guest(&guest), "{guest}");
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");
    let (_j, json_welcome) = Client::join_json(&server.ws_url("/connect"));
    let guest = json_welcome.name;
    assert!(is_guest(&guest), "{guest}");
    assert_eq!(json_welcome.notice, format!("You joined #lobby as {guest}."));

    // An empty or blank name: a guest name, and a notice saying why.
    for query in ["?name=", "?name=%20%20%20", "?name=+++", "?name=%09"] {
        let (_c, welcome) = Client::join(&server.ws_url(&format!("/connect{query}")));
        let guest = me(&welcome);
        assert!(is_guest(&guest), "{query}: {guest}");
        assert!(
            welcome.ends_with(&info_notice(&format!("A name cannot be empty. You are {guest}."))),
            "{query}: {welcome}"
        );
    }
    let (_j, json_welcome) = Client::join_json(&server.ws_url("/connect?name=%20"));
    let guest = json_welcome.name;
    assert!(is_guest(&guest), "{guest}");
    assert_eq!(json_welcome.notice, format!("A name cannot be empty. You are {guest}."));

    // Surrounding blanks are trimmed, silently.
    let (_t, welcome) = Client::join(&server.ws_url("/connect?name=%20%20bob%09"));
    assert_eq!(me(&welcome), "bob");
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");
}

#[test]
fn overlong_names_are_refused_with_the_limit() {
    let server = TestServer::start(&[]);
    for (name, chars) in [("x".repeat(33), 33), ("é".repeat(33), 33), ("y".repeat(100), 100)] {
        let (_c, welcome) = Client::join(&server.ws_url(&format!("/connect?name={}", url_encode(&name))));
        let guest = me(&welcome);
        assert!(is_guest(&guest), "{guest}");
        assert!(
            welcome.ends_with(&info_notice(&format!(
                "That name is {chars} characters long; the limit is 32. You are {guest}."
            ))),
            "{welcome}"
        );
    }
    // 32 characters is fine, counted as characters (64 bytes here).
    let name = "é".repeat(32);
    let (_c, welcome) = Client::join(&server.ws_url(&format!("/connect?name={}", url_encode(&name))));
    assert_eq!(me(&welcome), name);
    assert!(welcome.ends_with(NO_NOTICE), "{welcome}");
    // JSON clients get the same answer.
    let (_j, welcome) = Client::join_json(&server.ws_url(&format!("/connect?name={}", "z".repeat(33))));
    let guest = welcome.name;
    assert!(is_guest(&guest), "{guest}");
    assert_eq!(welcome.notice, format!("That name is 33 characters long; the limit is 32. You are {guest}."));
}

#[test]
fn control_and_text_direction_characters_are_refused() {
    let server = TestServer::start(&[]);
    for raw in ["a\u{0}b", "a\nb", "bell\u{7}", "tab\tinside", "evil\u{202E}nna", "\u{2066}iso", "ann\u{200F}"] {
        let (_c, welcome) = Client::join(&server.ws_url(&format!("/connect?name={}", url_encode(raw))));
        let guest = me(&welcome);
        assert!(is_guest(&guest), "{raw:?}: {guest}");
        assert!(
            welcome.ends_with(&info_notice(&format!(
                "A name cannot contain control or text-direction characters. You are {guest}."
            ))),
            "{raw:?}: {welcome}"
        );
    }
    let (_j, welcome) = Client::join_json(&server.ws_url("/connect?name=evil%E2%80%AEnna"));
    let guest = welcome.name;
    assert!(is_guest(&guest), "{guest}");
    assert_eq!(welcome.notice, format!("A name cannot contain control or text-direction characters. You are {guest}."));
    // The page refuses it the same way, and remembers the guest name instead.
    let page = get(server.addr, "/?name=evil%E2%80%AEnna");
    assert_eq!(page.status, 200);
    let body = page.body_text();
    assert!(
        body.contains(
            r#"<p id="notice" class="notice error" role="alert">A name cannot contain control or text-direction characters.</p>"#
        ),
        "{body}"
    );
    assert!(!body.contains('\u{202E}'));
    let cookie = page.header("Set-Cookie").expect("a name cookie");
    let guest = cookie.strip_prefix("chatroom_name=").unwrap().split(';').next().unwrap();
    assert!(is_guest(guest), "{cookie}");
    assert!(body.contains(&format!(r#"<span id="me" data-name="{guest}">{guest}</span>"#)), "{body}");
}

/// Why a look-alike of a present name is refused; each is the start of the notice, which goes on
/// with "You are guest-NNNN.".
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

#[test]
fn the_name_cookie_names_a_socket_and_the_query_wins() {
    let server = TestServer::start(&[]);
    let cookie = [("Cookie", "theme=dark; chatroom_name=zo%C3%AB")];
    let mut zoe = Client::try_connect(&server.ws_url("/connect"), &cookie).unwrap();
    assert_eq!(me(&zoe.recv_raw_text()), "zoë");
    let mut ann = Client::try_connect(&server.ws_url("/connect?name=ann"), &cookie).unwrap();
    assert_eq!(me(&ann.recv_raw_text()), "ann");
    // The page sets that cookie from ?name=.
    let page = get(server.addr, "/?name=Zo%C3%AB%20B");
    assert_eq!(
        page.header("Set-Cookie").as_deref(),
        Some("chatroom_name=Zo%C3%AB%20B; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly")
    );
}

/// A name full of markup (21 characters) and its HTML-escaped form.
const EVIL_NAME: &str = r#"<b onclick="x">&'</b>"#;
const EVIL_NAME_HTML: &str = "&lt;b onclick=&quot;x&quot;&gt;&amp;&#39;&lt;/b&gt;";
/// A message full of markup and its HTML-escaped form.
const EVIL_TEXT: &str = r#"<script>alert("x")</script> &amp; '"#;
const EVIL_TEXT_HTML: &str = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;amp; &#39;";

#[test]
fn markup_in_names_and_messages_is_escaped_everywhere_and_raw_in_json() {
    let server = TestServer::start(&[]);
    let room_url = |name: &str| server.ws_url(&format!("/r/esc/connect?name={}", url_encode(name)));
    let (mut obs, _) = Client::join(&room_url("obs"));
    let (mut jay, _) = Client::join_json(&room_url("jay"));
    assert!(obs.recv_raw_text().contains(r#"<b class="name">jay</b> joined"#));

    // The newcomer's welcome: roster and #me escaped.
    let (mut evil, welcome) = Client::join(&room_url(EVIL_NAME));
    let roster = format!(
        r#"<ul id="roster" hx-swap-oob="true" aria-label="3 here"><li data-name="obs">obs</li><li data-name="jay">jay</li><li data-name="{e}">{e}</li></ul>"#,
        e = EVIL_NAME_HTML
    );
    assert!(welcome.contains(&roster), "{welcome}");
    assert!(welcome.contains(&me_element(EVIL_NAME_HTML)), "{welcome}");
    assert!(!welcome.contains("<b onclick"), "{welcome}");

    // The join announcement: the item and the roster escaped.
    let join = obs.recv_raw_text();
    assert!(join.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="event join"><time datetime=""#));
    assert!(join.ends_with(&format!(r#"<b class="name">{EVIL_NAME_HTML}</b> joined</li></ul>{roster}"#)), "{join}");
    // JSON: the raw name, in valid JSON.
    let event = jay.recv_event();
    assert!(matches!(&event, Event::Join(Arrival { name, .. }) if name == EVIL_NAME), "{event:?}");
    let members = vec!["obs".into(), "jay".into(), EVIL_NAME.into()];
    assert_eq!(jay.recv_event(), Event::Roster { room: "esc".into(), members, count: None });

    // The message: every place escaped, exactly.
    evil.say(EVIL_TEXT);
    let event = jay.recv_event();
    let Event::Message(message) = &event else { panic!("expected a message, got {event:?}") };
    let ts = message.ts.to_string();
    assert_eq!(event, Event::Message(json_message("esc", 1, &ts, EVIL_NAME, EVIL_TEXT)));
    let item = format!(
        r#"<li class="message" data-seq="1" data-name="{n}"><time datetime="{ts}">{hhmm} UTC</time> <b class="name">{n}</b> <span class="text">{t}</span></li>"#,
        n = EVIL_NAME_HTML,
        hhmm = &ts[11..16],
        t = EVIL_TEXT_HTML
    );
    let fragment = format!(r#"<ul id="messages" hx-swap-oob="beforeend">{item}</ul>"#);
    assert_eq!(obs.recv_text(), fragment);
    assert_eq!(evil.recv_text(), fragment);

    // A second one with the same name: numbered, and the notice is escaped too.
    let (_evil2, welcome) = Client::join(&room_url(EVIL_NAME));
    assert!(welcome.contains(&me_element(&format!("{EVIL_NAME_HTML} (2)"))), "{welcome}");
    assert!(
        welcome.ends_with(&info_notice(&format!(
            "The name {EVIL_NAME_HTML} is taken here, so you are {EVIL_NAME_HTML} (2)."
        ))),
        "{welcome}"
    );
    // Its welcome replays the message from history, escaped the same way.
    assert!(welcome.contains(&item), "{welcome}");
    assert!(!welcome.contains("<script>"));
    obs.recv_containing(r#"joined</li>"#);

    // Leaving: escaped.
    drop(evil);
    let leave = obs.recv_containing("</b> left</li>");
    assert!(leave.contains(r#"<li class="event leave"><time datetime=""#), "{leave}");
    assert!(leave.contains(&format!(r#"<b class="name">{EVIL_NAME_HTML}</b> left</li></ul>"#)), "{leave}");
    assert!(leave.contains(&format!(r#"<li data-name="{EVIL_NAME_HTML} (2)">{EVIL_NAME_HTML} (2)</li></ul>"#)));
    assert!(!leave.contains("<b onclick"), "{leave}");
    let event = jay.recv_event_where(|event| matches!(event, Event::Leave(_)));
    assert!(matches!(&event, Event::Leave(Arrival { name, .. }) if name == EVIL_NAME), "{event:?}");

    // The history API: raw in JSON, escaped in HTML.
    let history = get_history(server.addr, "/r/esc/history");
    let messages = vec![Entry::Message(json_message("esc", 1, &ts, EVIL_NAME, EVIL_TEXT))];
    assert_eq!(history, HistoryPage { room: "esc".into(), messages, more: false });
    let html = get(server.addr, "/r/esc/history?format=html");
    assert_eq!(html.status, 200);
    assert_eq!(
        html.body_text(),
        format!(r#"<li id="more" class="more start">This is the start of the conversation.</li>{item}"#)
    );

    // The page, given the name: escaped in #me and in the name field.
    let page = get(server.addr, &format!("/r/esc?name={}", url_encode(EVIL_NAME))).body_text();
    assert!(page.contains(&format!(r#"<span id="me" data-name="{EVIL_NAME_HTML}">{EVIL_NAME_HTML}</span>"#)));
    assert!(page.contains(&format!(r#"value="{EVIL_NAME_HTML}""#)), "{page}");
    assert!(!page.contains("<b onclick"), "{page}");
}
