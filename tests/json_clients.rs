//! JSON clients: the subprotocol `chatroom.json` gets one JSON event per frame instead of HTML:
//! `history`, `roster` and `notice` on joining, then `message`, `join`/`leave` (each followed by
//! `roster`) and `error`.

mod support;

use chatroom::protocol::json::{self, Arrival, Entry, Event};
use support::{element, get, get_history, http_raw, json_message, now_ms, rfc3339, Client, TestServer};

/// The next event, which must be a `message`; returns its message.
fn next_message(client: &mut Client) -> json::Message<'static> {
    match client.recv_event() {
        Event::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Whether `ts` is RFC 3339 UTC with milliseconds, as the server writes it, and recent.
fn assert_timestamp(ts: &str) {
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.', "{ts}");
    let now = now_ms();
    // Same day (or the day just before, right after midnight) as now, per our own formatting.
    let today = rfc3339(now);
    let yesterday = rfc3339(now - 86_400_000);
    assert!(ts[..10] == today[..10] || ts[..10] == yesterday[..10], "{ts} is not from today ({today})");
}

#[test]
fn a_json_client_gets_history_then_roster_then_notice_then_live_events() {
    let server = TestServer::start(&[]);
    let (mut ann, _) = Client::join(&server.ws_url("/r/json/connect?name=ann"));
    ann.say("one");
    let first = ann.recv_text();
    ann.say("two \"quoted\" <b>");
    let second = ann.recv_text();

    let mut bob = Client::connect_json(&server.ws_url("/r/json/connect?name=bob"));
    // 1. history, oldest first, each entry shaped like a message event. (Every event is read
    // whole, so comparing typed values also says that no other field came along.)
    let history = bob.recv_event();
    let Event::History { messages, .. } = &history else { panic!("expected history, got {history:?}") };
    assert_eq!(messages.len(), 2, "{history:?}");
    let ts1 = messages[0].message().ts.to_string();
    let ts2 = messages[1].message().ts.to_string();
    assert_timestamp(&ts1);
    assert_eq!(
        history,
        Event::History {
            room: "json".into(),
            messages: vec![
                Entry::Message(json_message("json", 1, &ts1, "ann", "one")),
                Entry::Message(json_message("json", 2, &ts2, "ann", "two \"quoted\" <b>")),
            ],
            more: false,
        }
    );
    // The page saw the same instants.
    assert!(first.contains(&format!(r#"<time datetime="{ts1}">{} UTC</time>"#, &ts1[11..16])), "{first}");
    assert!(second.contains(&format!(r#"<time datetime="{ts2}">"#)), "{second}");
    // 2. roster, 3. notice.
    assert_eq!(bob.recv_event(), roster(&["ann", "bob"]));
    assert_eq!(bob.recv_event(), Event::Notice { text: "You joined #json as bob.".into(), name: Some("bob".into()) });
    // The page heard about bob.
    let join = ann.recv_raw_text();
    assert!(join.contains(r#"<li class="event join">"#) && join.contains("<b class=\"name\">bob</b> joined"), "{join}");

    // 4. live: a message from the page.
    ann.say("three");
    let message = next_message(&mut bob);
    let ts = message.ts.as_ref();
    assert_timestamp(ts);
    assert_eq!(message, json_message("json", 3, ts, "ann", "three"));
    assert!(ann.recv_text().contains(&format!(r#"data-seq="3" data-name="ann"><time datetime="{ts}">"#)));

    // A JSON client talks the same way the page does (without HEADERS); text is trimmed.
    bob.send_text(r#"{"message": "  from bob  "}"#);
    let message = next_message(&mut bob);
    assert_eq!((message.seq, message.name.as_ref(), message.text.as_ref()), (4, "bob", "from bob"));
    let page = ann.recv_text();
    assert!(
        page.contains(r#"data-seq="4" data-name="bob">"#) && page.contains(r#"<span class="text">from bob</span>"#)
    );

    // Someone joins and leaves: join + roster, then leave + roster.
    let (carol, _) = Client::join(&server.ws_url("/r/json/connect?name=carol"));
    let event = bob.recv_event();
    let Event::Join(Arrival { ts, .. }) = &event else { panic!("expected a join, got {event:?}") };
    assert_timestamp(ts);
    assert_eq!(event, Event::Join(Arrival { room: "json".into(), ts: ts.clone(), name: "carol".into() }));
    assert_eq!(bob.recv_event(), roster(&["ann", "bob", "carol"]));
    drop(carol);
    let event = bob.recv_event();
    let Event::Leave(Arrival { ts, .. }) = &event else { panic!("expected a leave, got {event:?}") };
    assert_eq!(event, Event::Leave(Arrival { room: "json".into(), ts: ts.clone(), name: "carol".into() }));
    assert_timestamp(ts);
    assert_eq!(bob.recv_event(), roster(&["ann", "bob"]));
}

/// The `roster` event of room `json` listing `members`, all of them (so no `count`).
fn roster(members: &[&'static str]) -> Event<'static> {
    Event::Roster { room: "json".into(), members: members.iter().map(|&name| name.into()).collect(), count: None }
}

#[test]
fn a_json_client_that_joins_a_long_history_is_told_there_is_more() {
    let server = TestServer::start(&["--history", "2"]);
    let (mut ann, _) = Client::join(&server.ws_url("/r/long/connect?name=ann"));
    for text in ["a", "b", "c"] {
        ann.say(text);
        ann.recv_containing(&format!(">{text}<"));
    }
    let (_bob, welcome) = Client::join_json(&server.ws_url("/r/long/connect?name=bob"));
    let seqs: Vec<u64> = welcome.history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![2, 3]);
    assert!(welcome.more);
    // And in an empty room: an empty history.
    let (_carol, welcome) = Client::join_json(&server.ws_url("/r/empty/connect?name=carol"));
    assert_eq!(welcome.room, "empty");
    assert!(welcome.history.is_empty() && !welcome.more, "{welcome:?}");
    assert_eq!((welcome.members, welcome.count), (vec!["carol".into()], None));
}

#[test]
fn bad_input_from_a_json_client_gets_an_error_event_and_the_socket_stays_open() {
    let server = TestServer::start(&[]);
    let (mut bot, _) = Client::join_json(&server.ws_url("/connect?name=bot"));
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=page"));
    bot.recv_event_where(|event| matches!(event, Event::Roster { .. }));
    let not_chat = r#"Could not read that message: send JSON like {"message": "hello"}."#;
    for bad in ["not json", r#"{"message": 42}"#, "[1,2,3]", r#"{"text":"hi"}"#, "{}"] {
        bot.send_text(bad);
        assert_eq!(bot.recv_event(), Event::Error { text: not_chat.into() }, "{bad}");
    }
    bot.say_json(&"y".repeat(2001));
    assert_eq!(
        bot.recv_event(),
        Event::Error { text: "Message not sent: it is 2001 characters long, and the limit is 2000.".into() }
    );
    // A blank message is ignored, silently; the socket still works, and nobody saw the errors.
    bot.say_json("   ");
    bot.say_json("fine");
    let message = next_message(&mut bot);
    assert_eq!((message.seq, message.text.as_ref()), (1, "fine"));
    let got = page.recv_text();
    assert!(got.contains(r#"data-seq="1" data-name="bot">"#), "{got}");
}

/// Opens a WebSocket by hand, offering `protocols`, and returns the 101 response's head.
fn handshake_offering(server: &TestServer, protocols: &str) -> support::RawResponse {
    let request = format!(
        "GET /connect HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocols}\r\n\r\n",
        server.addr
    );
    let response = http_raw(server.addr, request.as_bytes());
    assert_eq!(response.status, 101, "{}", response.head);
    assert_eq!(response.header("Sec-WebSocket-Accept").as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    response
}

#[test]
fn the_json_subprotocol_is_chosen_only_when_offered() {
    let server = TestServer::start(&[]);
    let response = handshake_offering(&server, "chat.v2, chatroom.json");
    assert_eq!(response.header("Sec-WebSocket-Protocol").as_deref(), Some("chatroom.json"));
    let response = handshake_offering(&server, "chat.v2");
    assert_eq!(response.header("Sec-WebSocket-Protocol"), None);
    // Without the subprotocol, the same socket speaks HTML.
    let (_page, welcome) = Client::join(&server.ws_url("/connect?name=page"));
    assert!(welcome.starts_with(r#"<ul id="messages" hx-swap-oob="true""#), "{welcome}");
    assert!(serde_json::from_str::<serde::de::IgnoredAny>(&welcome).is_err(), "not JSON at all");
}

#[test]
fn json_and_page_members_of_one_room_see_the_same_conversation() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/mixed/connect?name=page"));
    let (mut bot, _) = Client::join_json(&server.ws_url("/r/mixed/connect?name=bot"));
    page.recv_raw_text(); // bot joined
    let mut last = None;
    for i in 1..=6u64 {
        let text = format!("turn {i} & <more>");
        if i % 2 == 0 {
            bot.say_json(&text);
        } else {
            page.say(&text);
        }
        let message = next_message(&mut bot);
        let from = if i % 2 == 0 { "bot" } else { "page" };
        assert_eq!(message.seq, i);
        assert_eq!(message.name, from);
        assert_eq!(message.text, text);
        let fragment = page.recv_text();
        let ts = message.ts.as_ref();
        assert_eq!(
            fragment,
            format!(
                r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="{i}" data-name="{from}"><time datetime="{ts}">{} UTC</time> <b class="name">{from}</b> <span class="text">turn {i} &amp; &lt;more&gt;</span></li></ul>"#,
                &ts[11..16]
            )
        );
        last = Some(message);
    }
    // The history API returns the very events the JSON client got live.
    let history = get_history(server.addr, "/r/mixed/history?limit=1");
    assert_eq!(history.messages, [Entry::Message(last.unwrap())]);
    assert_eq!(history.messages[0].message().text, "turn 6 & <more>");
    let page_html = get(server.addr, "/r/mixed").body_text();
    assert!(element(&page_html, "<h1>", "</h1>").is_some_and(|h| h == "<h1>#mixed</h1>"));
}
