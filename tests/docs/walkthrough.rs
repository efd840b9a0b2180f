//! `docs/walkthrough.md`: the page, the accept key, the length forms, one message and the
//! heartbeats and closes, each against what the server does.

use super::*;

/// Every line of a doc's HTML block that is not `...` is a line of `page`, in the same order
/// (leading and trailing spaces aside).
pub(crate) fn lines_in_order(doc: &str, name: &str, page: &str) {
    let shown = block(doc, name);
    let mut page_lines = page.lines().map(str::trim);
    for line in shown.lines().map(str::trim).filter(|l| *l != "...") {
        assert!(
            page_lines.any(|p| p == line),
            "{doc}, block {name}: the line {line:?} is not in the page (or not in this order):\n{page}"
        );
    }
}

#[test]
fn walkthrough_page_is_what_the_server_serves() {
    let server = TestServer::start(&[]);
    let page = support::get(server.addr, "/?name=ann");
    assert_eq!(page.status, 200);
    lines_in_order(WALKTHROUGH, "page-html", &page.body_text());
}

/// The JSON the page sends cannot be made without a browser (the browser suite in `e2e/` sends it
/// for real); it was captured from one. What can drift is checked here: the form it comes from,
/// the headers htmx adds, in htmx's order, and that the server takes it.
#[test]
fn walkthrough_page_json_is_what_the_ws_extension_builds() {
    let json = block(WALKTHROUGH, "page-json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("the page's JSON parses");
    // The form: `<form id="send" ws-send>` with a text area named `message`, no name, no hx-target.
    let page = include_str!("../../assets/index.html");
    let form = support::element(page, "<form id=\"send\"", ">").expect("the page has the send form");
    assert!(form.contains("ws-send") && !form.contains(" name=") && !form.contains("hx-target"), "{form}");
    assert!(page.contains(r#"<textarea name="message""#));
    assert_eq!(value["message"], "tea's ready <3");
    let headers = &value["HEADERS"];
    assert_eq!(headers["HX-Request"], "true");
    assert_eq!(headers["HX-Trigger"], "send", "the id of the form that triggered");
    assert_eq!(headers["HX-Trigger-Name"], serde_json::Value::Null, "the form has no name attribute");
    assert_eq!(headers["HX-Target"], "send", "no hx-target: the target is the form itself");
    assert_eq!(headers["HX-Current-URL"], "http://127.0.0.1:8080/?name=ann");
    // The header names in the order htmx writes them (JSON.stringify keeps insertion order).
    let htmx = include_str!("../../assets/vendor/htmx-2.0.11.min.js");
    let object = support::element(htmx, "{\"HX-Request\":\"true\"", "}").expect("htmx builds its headers");
    let keys = |text: &str| -> Vec<String> {
        text.split("\"HX-").skip(1).map(|k| format!("HX-{}", k.split('"').next().unwrap())).collect()
    };
    assert_eq!(keys(&json), keys(object), "HEADERS as htmx 2.0.11 builds them");
    // The ws extension sends the form's values plus HEADERS, through JSON.stringify.
    let ws = include_str!("../../assets/vendor/htmx-ext-ws-2.0.4.js");
    assert!(ws.contains("toSend.HEADERS = headers") && ws.contains("body = JSON.stringify(toSend)"));
    let said = ClientEvent::parse(&json, 2000).expect("the server reads it");
    assert_eq!(said, Some(ClientEvent::Chat("tea's ready <3".into())));
}

/// RFC 6455 §1.3 and §4.2.2: the GUID every server appends to the client's key.
pub(crate) const RFC_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#[test]
fn walkthrough_accept_key_step_by_step() {
    let key = header_in(&block(WALKTHROUGH, "upgrade-request"), "Sec-WebSocket-Key");
    let nonce = base64::engine::general_purpose::STANDARD.decode(&key).expect("the key is base64");
    let joined = format!("{key}{RFC_GUID}");
    let digest = Sha1::digest(joined.as_bytes());
    let accept = base64::engine::general_purpose::STANDARD.encode(digest);
    assert_eq!(chatroom::ws::handshake::accept_key(&key), accept, "the server computes the same");
    assert_eq!(header_in(&block(WALKTHROUGH, "upgrade-response"), "Sec-WebSocket-Accept"), accept);
    let readable =
        String::from_utf8(nonce.clone()).ok().filter(|s| s.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    let rows = [
        ("Sec-WebSocket-Key", key.clone()),
        (
            &format!("  base64-decoded: {} bytes", nonce.len()),
            match readable {
                Some(s) => format!("{} ({s:?})", hex(&nonce)),
                None => hex(&nonce),
            },
        ),
        (&format!("1. key + GUID: {} bytes", joined.len()), joined.clone()),
        ("2. SHA-1 of that: 20 bytes", hex(&digest)),
        ("3. base64 of the digest", accept.clone()),
    ];
    let text: Vec<String> = rows.iter().map(|(what, value)| format!("{what:<30}{value}")).collect();
    check(WALKTHROUGH, "accept-key", &text.join("\n"));
}

#[test]
fn walkthrough_length_forms_are_what_encoded_frame_writes() {
    let mut rows = vec![format!("{:<16}{}", "payload length", "header of a final, unmasked text frame")];
    for len in [5usize, 125, 126, 65_535, 65_536] {
        let frame = EncodedFrame::text(&"x".repeat(len));
        let parsed = parse(frame.as_bytes());
        assert_eq!(parsed.payload.len(), len);
        rows.push(format!("{:<16}{}", format!("{len} bytes"), hex(&frame.as_bytes()[..parsed.header_len])));
    }
    check(WALKTHROUGH, "length-forms", &rows.join("\n"));
}

/// The heart of the walkthrough, on a real server: ann's page opens its WebSocket with the very
/// bytes of the doc, sends the doc's masked frame, and bob's page (and ann's) receives the relay.
#[test]
fn walkthrough_one_message_over_a_real_server() {
    let server = TestServer::start(&[]);
    // Bob's page is in the lobby first, on a raw socket so that the test sees every byte it gets.
    let mut bob = raw_page(server.addr, "bob");

    // Ann's page: the upgrade request of the doc, byte for byte, and the 101 that answers it.
    let request = wire(&block(WALKTHROUGH, "upgrade-request"));
    let (mut ann, head) = send_request(server.addr, &request);
    check(WALKTHROUGH, "upgrade-response", &unwire(&head));
    let welcome = parse(&read_frame(&mut ann));
    assert!(welcome.payload.starts_with(br#"<ul id="messages" hx-swap-oob="true""#), "the welcome comes first");

    // Ann presses Enter: the ws extension's JSON, in a masked text frame.
    let sent = client_frame(TEXT, block(WALKTHROUGH, "page-json").as_bytes());
    check(WALKTHROUGH, "client-frame", &dump(&sent));
    ann.write_all(&sent).unwrap();

    // The relay: one frame, encoded once, the same bytes to every member, sender included.
    let to_bob = read_until(&mut bob, "the relayed message", is_chat_message);
    let to_ann = read_until(&mut ann, "the relayed message", is_chat_message);
    assert_eq!(to_bob, to_ann, "every member gets the very same bytes");
    let relayed = parse(&to_bob);
    let fragment_doc = block(WALKTHROUGH, "relay-fragment");
    let fragment = with_doc_clock(std::str::from_utf8(&relayed.payload).unwrap(), &fragment_doc);
    // The author's tag comes from a random member id: the doc shows its own, as for the clock.
    let tag_of = |text: &str| text.split("data-by=\"").nth(1).map(|rest| rest[..12].to_string());
    let (server_tag, doc_tag) = (tag_of(&fragment).expect("a tag"), tag_of(&fragment_doc).expect("a tag in the doc"));
    let fragment = fragment.replace(&server_tag, &doc_tag);
    check(WALKTHROUGH, "relay-fragment", &fragment);
    let frame = [&to_bob[..relayed.header_len], fragment.as_bytes()].concat();
    check(WALKTHROUGH, "server-frame", &dump(&frame));

    // The log line, written before the relay, and the same instant as the fragment's <time>.
    let log_path = server.data_dir().unwrap().join("lobby.jsonl");
    let log = std::fs::read_to_string(log_path).unwrap();
    let line: ChatMessage = serde_json::from_str(log.trim_end()).expect("the log line is a ChatMessage");
    let iso = std::str::from_utf8(&relayed.payload).unwrap().split("datetime=\"").nth(1).unwrap()[..24].to_string();
    assert_eq!(support::rfc3339(line.ts), iso, "one timestamp, two spellings");
    let log_doc = block(WALKTHROUGH, "log-line");
    let doc_ms = clock_readings(&log_doc).first().map(|&(at, len, _)| log_doc[at..at + len].parse::<u64>().unwrap());
    let doc_iso = clock_readings(&fragment_doc).first().map(|&(at, len, _)| fragment_doc[at..at + len].to_string());
    assert_eq!(doc_ms.map(support::rfc3339), doc_iso, "the doc's log line and fragment tell the same time");
    // The author is a keyed hash of a random id under this data directory's secret: the doc shows
    // its own, as it shows its own clock.
    let doc_line: ChatMessage = serde_json::from_str(&log_doc).expect("the doc's log line is a ChatMessage");
    assert_eq!(line.by.len(), doc_line.by.len(), "an author of the doc's length");
    let log = log.trim_end().replace(&line.by, &doc_line.by);
    check(WALKTHROUGH, "log-line", &with_doc_clock(&log, &log_doc));

    // The history API, asked with the doc's request.
    let request = block(WALKTHROUGH, "history-request");
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(&wire(&request)).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let doc = block(WALKTHROUGH, "history-response");
    check(WALKTHROUGH, "history-response", &with_doc_clock(&unwire(&response), &doc));
}

#[test]
fn walkthrough_heartbeats_and_closes_over_a_real_server() {
    let server = TestServer::start(&["--ping-interval", "1"]);
    let mut page = raw_page(server.addr, "ann");

    // The page's own heartbeat: the text "ping", answered with the text "pong".
    let ping = client_frame(TEXT, b"ping");
    check(WALKTHROUGH, "ping-text", &dump(&ping));
    page.write_all(&ping).unwrap();
    check(WALKTHROUGH, "pong-text", &dump(&read_frame(&mut page)));

    // After --ping-interval of silence, the server's Ping; the browser answers with a Pong.
    check(WALKTHROUGH, "server-ping", &dump(&read_frame(&mut page)));
    let pong = client_frame(PONG, b"");
    check(WALKTHROUGH, "client-pong", &dump(&pong));
    page.write_all(&pong).unwrap();

    // Another page closes its tab: Close 1001 (going away), and the server's reply.
    let mut leaving = raw_page(server.addr, "bob");
    let close = client_frame(CLOSE, &1001u16.to_be_bytes());
    check(WALKTHROUGH, "client-close", &dump(&close));
    leaving.write_all(&close).unwrap();
    check(WALKTHROUGH, "close-echo", &dump(&read_frame(&mut leaving)));

    // The server stops: 1012, after which the page reconnects by itself.
    server.signal(libc::SIGTERM);
    let goodbye = read_until(&mut page, "the server's Close", |f| f.byte0 & 0xf == CLOSE);
    check(WALKTHROUGH, "close-1012", &dump(&goodbye));
}
