//! JSON clients: the subprotocol `chatroom.json` gets one JSON event per frame instead of HTML:
//! `history`, `roster` and `notice` on joining, then `message`, `join`/`leave` (each followed by
//! `roster`) and `error`.

mod support;

use serde_json::{json, Value};
use support::{element, get, http_raw, rfc3339, Client, TestServer};

/// The keys of a JSON object, sorted.
fn keys(event: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = event.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// Whether `ts` is RFC 3339 UTC with milliseconds, as the server writes it, and recent.
fn assert_timestamp(ts: &str) {
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.', "{ts}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
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
    // 1. history, oldest first, each entry shaped like a message event.
    let history = bob.recv_json();
    let messages = history["messages"].as_array().expect("a messages array");
    assert_eq!(messages.len(), 2, "{history}");
    let ts1 = messages[0]["ts"].as_str().unwrap().to_string();
    let ts2 = messages[1]["ts"].as_str().unwrap().to_string();
    assert_timestamp(&ts1);
    assert_eq!(
        history,
        json!({ "type": "history", "room": "json", "more": false, "messages": [
            { "type": "message", "room": "json", "seq": 1, "ts": ts1, "name": "ann", "text": "one" },
            { "type": "message", "room": "json", "seq": 2, "ts": ts2, "name": "ann", "text": "two \"quoted\" <b>" },
        ] })
    );
    // The page saw the same instants.
    assert!(first.contains(&format!(r#"<time datetime="{ts1}">{} UTC</time>"#, &ts1[11..16])), "{first}");
    assert!(second.contains(&format!(r#"<time datetime="{ts2}">"#)), "{second}");
    // 2. roster, 3. notice.
    assert_eq!(bob.recv_json(), json!({ "type": "roster", "room": "json", "members": ["ann", "bob"] }));
    assert_eq!(bob.recv_json(), json!({ "type": "notice", "text": "You joined #json as bob.", "name": "bob" }));
    // The page heard about bob.
    let join = ann.recv_raw_text();
    assert!(join.contains(r#"<li class="event join">"#) && join.contains("<b class=\"name\">bob</b> joined"), "{join}");

    // 4. live: a message from the page.
    ann.say("three");
    let event = bob.recv_json();
    assert_eq!(keys(&event), ["name", "room", "seq", "text", "ts", "type"]);
    let ts = event["ts"].as_str().unwrap();
    assert_timestamp(ts);
    assert_eq!(event, json!({ "type": "message", "room": "json", "seq": 3, "ts": ts, "name": "ann", "text": "three" }));
    assert!(ann.recv_text().contains(&format!(r#"data-seq="3" data-name="ann"><time datetime="{ts}">"#)));

    // A JSON client talks the same way the page does (without HEADERS); text is trimmed.
    bob.send_text(r#"{"message": "  from bob  "}"#);
    let event = bob.recv_json();
    assert_eq!((event["type"].as_str(), event["seq"].as_u64()), (Some("message"), Some(4)));
    assert_eq!((event["name"].as_str(), event["text"].as_str()), (Some("bob"), Some("from bob")));
    let page = ann.recv_text();
    assert!(
        page.contains(r#"data-seq="4" data-name="bob">"#) && page.contains(r#"<span class="text">from bob</span>"#)
    );

    // Someone joins and leaves: join + roster, then leave + roster.
    let (carol, _) = Client::join(&server.ws_url("/r/json/connect?name=carol"));
    let event = bob.recv_json();
    assert_eq!(keys(&event), ["name", "room", "ts", "type"]);
    assert_timestamp(event["ts"].as_str().unwrap());
    assert_eq!(event, json!({ "type": "join", "room": "json", "ts": event["ts"], "name": "carol" }));
    assert_eq!(bob.recv_json(), json!({ "type": "roster", "room": "json", "members": ["ann", "bob", "carol"] }));
    drop(carol);
    let event = bob.recv_json();
    assert_eq!(event, json!({ "type": "leave", "room": "json", "ts": event["ts"], "name": "carol" }));
    assert_timestamp(event["ts"].as_str().unwrap());
    assert_eq!(bob.recv_json(), json!({ "type": "roster", "room": "json", "members": ["ann", "bob"] }));
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
    let seqs: Vec<u64> =
        welcome.history["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(welcome.history["more"], true);
    // And in an empty room: an empty history.
    let (_carol, welcome) = Client::join_json(&server.ws_url("/r/empty/connect?name=carol"));
    assert_eq!(welcome.history, json!({ "type": "history", "room": "empty", "messages": [], "more": false }));
    assert_eq!(welcome.roster, json!({ "type": "roster", "room": "empty", "members": ["carol"] }));
}

#[test]
fn bad_input_from_a_json_client_gets_an_error_event_and_the_socket_stays_open() {
    let server = TestServer::start(&[]);
    let (mut bot, _) = Client::join_json(&server.ws_url("/connect?name=bot"));
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=page"));
    bot.recv_json_type("roster");
    let not_chat = r#"Could not read that message: send JSON like {"message": "hello"}."#;
    for bad in ["not json", r#"{"message": 42}"#, "[1,2,3]", r#"{"text":"hi"}"#, "{}"] {
        bot.send_text(bad);
        assert_eq!(bot.recv_json(), json!({ "type": "error", "text": not_chat }), "{bad}");
    }
    bot.say_json(&"y".repeat(2001));
    assert_eq!(
        bot.recv_json(),
        json!({ "type": "error", "text": "Message not sent: it is 2001 characters long, and the limit is 2000." })
    );
    // A blank message is ignored, silently; the socket still works, and nobody saw the errors.
    bot.say_json("   ");
    bot.say_json("fine");
    let event = bot.recv_json();
    assert_eq!(
        (event["type"].as_str(), event["seq"].as_u64(), event["text"].as_str()),
        (Some("message"), Some(1), Some("fine"))
    );
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
    assert!(serde_json::from_str::<Value>(&welcome).is_err());
}

#[test]
fn json_and_page_members_of_one_room_see_the_same_conversation() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/mixed/connect?name=page"));
    let (mut bot, _) = Client::join_json(&server.ws_url("/r/mixed/connect?name=bot"));
    page.recv_raw_text(); // bot joined
    for i in 1..=6u64 {
        let text = format!("turn {i} & <more>");
        if i % 2 == 0 {
            bot.say_json(&text);
        } else {
            page.say(&text);
        }
        let event = bot.recv_json();
        let from = if i % 2 == 0 { "bot" } else { "page" };
        assert_eq!(event["seq"], i);
        assert_eq!(event["name"], from);
        assert_eq!(event["text"], text);
        let fragment = page.recv_text();
        let ts = event["ts"].as_str().unwrap();
        assert_eq!(
            fragment,
            format!(
                r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="{i}" data-name="{from}"><time datetime="{ts}">{} UTC</time> <b class="name">{from}</b> <span class="text">turn {i} &amp; &lt;more&gt;</span></li></ul>"#,
                &ts[11..16]
            )
        );
    }
    // The history API returns the very events the JSON client got live.
    let history: Value = serde_json::from_slice(&get(server.addr, "/r/mixed/history?limit=1").body).unwrap();
    assert_eq!(history["messages"][0]["text"], "turn 6 & <more>");
    let page_html = get(server.addr, "/r/mixed").body_text();
    assert!(element(&page_html, "<h1>", "</h1>").is_some_and(|h| h == "<h1>#mixed</h1>"));
}
