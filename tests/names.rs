//! Names: given on the connect URL (or the page's cookie), trimmed, 1–32 characters, no control or
//! text-direction characters, nothing invisible or blank, only single ordinary spaces, no stacked
//! combining marks, unique within a room after NFKC and case folding (`ann (2)`, `ＡＮＮ (2)`), a
//! guest name otherwise; and every name and message HTML-escaped wherever the page shows it.

mod support;

use chatroom::protocol::json::{Arrival, Entry, Event, HistoryPage};
use support::{
    get, get_history, info_notice, is_guest, json_message, me, me_element, url_encode, Client, TestServer, NO_NOTICE,
};

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
        support::without_tags(&html.body_text()),
        format!(r#"<li id="more" class="more start">This is the start of the conversation.</li>{item}"#)
    );

    // The page, given the name: escaped in #me and in the name field.
    let page = get(server.addr, &format!("/r/esc?name={}", url_encode(EVIL_NAME))).body_text();
    assert!(page.contains(&format!(r#"<span id="me" data-name="{EVIL_NAME_HTML}">{EVIL_NAME_HTML}</span>"#)));
    assert!(page.contains(&format!(r#"value="{EVIL_NAME_HTML}""#)), "{page}");
    assert!(!page.contains("<b onclick"), "{page}");
}
