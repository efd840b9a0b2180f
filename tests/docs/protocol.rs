//! `docs/protocol.md`: every JSON example, the formatted text, search and the room list, over a
//! real server.

use super::*;
use crate::support::{host, member, HOST_KEY};

/// 2026-11-20T09:15:00.000Z and 2026-11-26T21:00:00.123Z, in milliseconds since 1970.
pub(crate) const FIRST_MESSAGE_MS: u64 = 1_795_166_100_000;
pub(crate) const HI_ALL_MS: u64 = 1_795_726_800_123;

/// A data dir whose lobby log holds 41 messages: ann's "first!", 39 more, and ann's "hi all".
pub(crate) fn lobby_with_41_messages() -> TempDir {
    let dir = TempDir::new("docs-protocol");
    let mut log = support::log_line(1, FIRST_MESSAGE_MS, "ann", "first!");
    for seq in 2..=40 {
        let name = if seq % 2 == 0 { "bob" } else { "ann" };
        log.push_str(&support::log_line(seq, FIRST_MESSAGE_MS + seq * 60_000, name, &format!("message {seq}")));
    }
    log.push_str(&support::log_line(41, HI_ALL_MS, "ann", "hi all"));
    std::fs::write(dir.path().join("lobby.jsonl"), log).unwrap();
    dir
}

/// Reads JSON events until `wanted` says yes; returns that event's text as the server wrote it.
pub(crate) fn text_of_event(client: &mut Client, wanted: impl FnMut(&Event<'static>) -> bool) -> String {
    client.recv_event_text_where(wanted).1
}

/// Reads the next JSON event, which must be one that `expected` says yes to.
pub(crate) fn next_event_is(client: &mut Client, expected: impl FnOnce(&Event<'static>) -> bool) {
    let event = client.recv_event();
    assert!(expected(&event), "unexpected event: {event:?}");
}

/// Whether `pattern`, in which each `...` stands for any text, occurs in `text`.
pub(crate) fn occurs(pattern: &str, text: &str) -> bool {
    // The first piece may start anywhere; each next one must follow the one before.
    let mut rest = text;
    for piece in pattern.split("...").filter(|p| !p.is_empty()) {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Every code span in a doc's table occurs, `...` standing for any text, in one of `fragments`.
pub(crate) fn spans_occur(doc: &str, name: &str, fragments: &[String]) {
    let table = block(doc, name);
    let spans: Vec<&str> = table.split('`').skip(1).step_by(2).collect();
    assert!(!spans.is_empty(), "{doc}, block {name}: no code spans");
    for span in spans {
        assert!(
            fragments.iter().any(|f| occurs(span, f)),
            "{doc}, block {name}: `{span}` is in none of the fragments the server sent:\n{}",
            fragments.join("\n")
        );
    }
}

#[test]
fn protocol_json_examples_over_a_real_server() {
    let data = lobby_with_41_messages();
    let dir = data.path().to_str().unwrap();
    let server = TestServer::start(&["--data-dir", dir, "--history", "1"]);
    let url = |name: &str| server.ws_url(&format!("/connect?name={}", support::url_encode(name)));

    // Ann's page, to see the HTML side of the same events.
    let (mut page, welcome) = Client::join(&url("ann"));
    // Bob, a JSON client: history, roster, notice, each compared as the server wrote it.
    let mut bob = Client::connect_json(&url("bob"));
    check(PROTOCOL, "history-event", &bob.recv_raw_text());
    let members = ["ann", "bob", "..."].map(Into::into).to_vec();
    let big = json::to_text(&Event::Roster { room: "stadium".into(), members, count: Some(2417) });
    check(PROTOCOL, "roster-event", &format!("{}\n{big}", bob.recv_raw_text()));
    next_event_is(&mut bob, |e| matches!(e, Event::Notice { .. }));
    // A second ann, as a JSON client, is told the name is taken.
    let mut ann2 = Client::connect_json(&url("ann"));
    next_event_is(&mut ann2, |e| matches!(e, Event::History { .. }));
    next_event_is(&mut ann2, |e| matches!(e, Event::Roster { .. }));
    check(PROTOCOL, "notice-event", &ann2.recv_raw_text());

    // Bob says something: the message event, and the page's fragment of it.
    bob.say_json("<b>hello</b> & welcome, @ANN");
    let message = text_of_event(&mut ann2, |e| matches!(e, Event::Message(_)));
    check(PROTOCOL, "message-event", &with_doc_clock(&message, &block(PROTOCOL, "message-event")));
    let message_html = page.recv_tagged_containing(r#"data-seq="42""#);

    // Carol comes, bob goes.
    let (_carol, _) = Client::join_json(&url("carol"));
    let joined = text_of_event(&mut ann2, |e| matches!(e, Event::Join(a) if a.name == "carol"));
    let joined_html = page.recv_containing("carol");
    bob.ws.close(None).unwrap();
    let left = text_of_event(&mut ann2, |e| matches!(e, Event::Leave(a) if a.name == "bob"));
    let left_html = page.recv_containing("event leave");
    let doc = block(PROTOCOL, "join-leave-events");
    check(PROTOCOL, "join-leave-events", &with_doc_clock(&format!("{joined}\n{left}"), &doc));

    // Something that is not a chat message.
    ann2.send_text("not json");
    check(PROTOCOL, "error-event", &text_of_event(&mut ann2, |e| matches!(e, Event::Error { .. })));
    page.send_text("not json");
    let error_html = page.recv_containing("notice error");

    // The list of rooms, which comes to everyone within seconds of a change.
    let rooms_html = page.recv_room_list(support::TIMEOUT).expect("a room list");

    spans_occur(PROTOCOL, "page-fragments", &[welcome, message_html, joined_html, left_html, error_html, rooms_html]);

    let older = support::get(server.addr, "/r/lobby/history?before=2&limit=1");
    assert_eq!(older.status, 200);
    check(PROTOCOL, "history-page", &older.body_text());
}

/// A message's text on the page: the block's first line is what is said, as a JSON string (as
/// the server writes it to JSON clients), the second the `<span>` the page gets.
#[test]
fn protocol_formatted_text_over_a_real_server() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=bob"));
    let (mut ann, _) = Client::join_json(&server.ws_url("/connect?name=ann"));
    let doc = block(PROTOCOL, "formatted-text");
    let said: String = serde_json::from_str(doc.lines().next().unwrap()).expect("the first line is a JSON string");
    ann.say_json(&said);
    let (_, raw) = ann.recv_event_text_where(|e| matches!(e, Event::Message(_)));
    let event: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let fragment = page.recv_containing(r#"class="message""#);
    let span = support::element(&fragment, r#"<span class="text">"#, "</span></li>").expect("the message's text");
    let shown = format!("{}\n{}", event["text"], span.strip_suffix("</li>").unwrap());
    check(PROTOCOL, "formatted-text", &shown);
}

#[test]
fn protocol_search_over_a_real_server() {
    let data = lobby_with_41_messages();
    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    let found = support::get(server.addr, "/r/lobby/search?q=%20MESSAGE%203&limit=2");
    assert_eq!(found.status, 200);
    check(PROTOCOL, "search-results", &found.body_text());
}

#[test]
fn protocol_room_list_over_a_real_server() {
    let data = TempDir::new("docs-rooms");
    // Written an hour ago: the list shows rooms active within the last day.
    let an_hour_ago = support::now_ms() - 3_600_000;
    let lines = |room: &str, n: u64| -> String {
        (1..=n).map(|seq| support::log_line(seq, an_hour_ago + seq, "ann", &format!("{room} {seq}"))).collect()
    };
    std::fs::write(data.path().join("lobby.jsonl"), lines("lobby", 120)).unwrap();
    std::fs::write(data.path().join("kitchen.jsonl"), lines("kitchen", 8)).unwrap();
    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    let mut three: Vec<Client> = (0..3).map(|_| Client::join_json(&server.ws_url("/connect")).0).collect();
    let rooms = support::get(server.addr, "/api/rooms");
    assert_eq!(rooms.status, 200);
    check(PROTOCOL, "room-list", &rooms.body_text());
    // The same list, live: the `rooms` event once all three are in.
    let until = std::time::Instant::now() + support::TIMEOUT;
    let live = loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let text = three[0].recv_room_list(left).expect("a room list with all three in the lobby");
        if text.contains(r#"{"name":"lobby","members":3,"#) {
            break text;
        }
    };
    check(PROTOCOL, "rooms-event", &live);
}

#[test]
fn protocol_file_sharing_over_a_real_server() {
    use support::upload::{upload_with, PNG};
    let server = TestServer::start(&[]);
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/kitchen/connect?name=ann"));
    let answer = upload_with(server.addr, "kitchen", "lunch menu.png", "image/png", PNG, "");
    assert_eq!(answer.status, 201, "{}", answer.body_text());
    check(PROTOCOL, "upload-answer", &answer.body_text());
    let (_, event) = ann.recv_event_text_where(|e| matches!(e, Event::Message(_)));
    check(PROTOCOL, "file-message-event", &with_doc_clock(&event, &block(PROTOCOL, "file-message-event")));
}

/// The commands' events (`command-events`), as ann (a JSON client) sees them.
#[test]
fn protocol_command_events_over_a_real_server() {
    let server = TestServer::start(&["--host-key", HOST_KEY, "--rate-limit", "0"]);
    let mut ann = member(&server, "ann");
    let (mut bob, _) = Client::join_json(&server.ws_url("/connect?name=bob"));
    let mut host = host(&server, "teacher");
    for text in ["helo class", "oops"] {
        ann.type_in(text);
        text_of_event(&mut host, |e| matches!(e, Event::Message(_)));
    }
    let mut seen = Vec::new();
    ann.type_in("/msg bob see me after class");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Direct { .. })));
    ann.type_in("/edit 1 hello, class!");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Edit { .. })));
    host.type_in("/delete 2");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Delete { .. })));
    host.type_in("/announce Test at 10: phones away");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Announce { .. })));
    host.type_in("/kick bob");
    assert_eq!(u16::from(bob.expect_close().code), 4003);
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Notice { .. })));
    ann.type_in("/me waves");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Message(_))));
    ann.type_in("/nick Ms Ann");
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Rename { .. })));
    seen.push(text_of_event(&mut ann, |e| matches!(e, Event::Roster { .. })));
    let doc = block(PROTOCOL, "command-events");
    check(PROTOCOL, "command-events", &with_doc_clock(&seen.join("\n"), &doc));
}
