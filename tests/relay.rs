//! Relaying: everyone in the room gets every message, escaped; a member that stops reading is
//! dropped without holding up the others; bad input gets a notice and the socket stays open.

mod support;

use std::time::{Duration, Instant};

use support::{chat_message, Client, TestServer};
use tungstenite::Message;

#[test]
fn three_members_all_receive_the_escaped_fragment() {
    let server = TestServer::start(&[]);
    let mut clients: Vec<Client> = (0..3).map(|_| Client::join(&server.ws_url("/connect")).0).collect();
    clients[1].say(r#"  <script>alert("hi & bye")</script>  "#);
    let expected = r#"<span class="text">&lt;script&gt;alert(&quot;hi &amp; bye&quot;)&lt;/script&gt;</span>"#;
    for client in &mut clients {
        let fragment = client.recv_text();
        assert!(fragment.starts_with(r#"<ul id="messages" hx-swap-oob="beforeend"><li"#), "{fragment}");
        assert!(fragment.contains(expected), "{fragment}");
        assert!(!fragment.contains("<script>"));
    }
}

#[test]
fn empty_messages_are_ignored() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    a.say("   ");
    a.say("next");
    assert!(b.recv_text().contains(">next<"));
}

#[test]
fn bad_json_gets_a_notice_and_the_socket_stays_open() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    for bad in ["not json", r#"{"message": 42}"#, "[1,2,3]", r#"{"text":"hi"}"#] {
        a.send_text(bad);
        let notice = a.recv_text();
        assert!(notice.starts_with(r#"<p id="notice" hx-swap-oob="true" class="notice error""#), "{notice}");
        assert!(notice.contains("{&quot;message&quot;: &quot;hello&quot;}"), "{notice}");
    }
    let too_long = "y".repeat(2001);
    a.say(&too_long);
    assert!(a.recv_text().contains("2001 characters"));
    // Still open, and nobody else saw any of it.
    a.say("valid");
    assert!(a.recv_text().contains(">valid<"));
    assert!(b.recv_text().contains(">valid<"));
}

#[test]
fn a_member_that_stops_reading_is_dropped_and_the_rest_keep_going() {
    let server = TestServer::start(&["--send-buffer", "4096", "--rate-limit", "0"]);
    let stuck = Client::join(&server.ws_url("/connect")).0;
    support::sys::set_receive_buffer(stuck.stream(), 4096);
    let mut reader = Client::join(&server.ws_url("/connect")).0;
    let mut sender = Client::join(&server.ws_url("/connect")).0;
    let filler = "z".repeat(1900);

    // Send until the server gives up on `stuck`; every message must reach `reader` promptly.
    let mut dropped_after = None;
    for i in 0..5000 {
        let text = format!("{i} {filler}");
        let sent = Instant::now();
        sender.say(&text);
        let got = reader.recv_containing(&format!(">{i} z"));
        assert!(got.contains(&filler));
        assert!(sent.elapsed() < Duration::from_secs(2), "message {i} took {:?}", sent.elapsed());
        sender.recv_containing(&format!(">{i} z")); // keep the sender's own buffer empty too
        if server.log().contains("dropped: stopped reading") {
            dropped_after = Some(i);
            break;
        }
    }
    let dropped_after = dropped_after.expect("the stuck member was never dropped");
    assert!(dropped_after > 0);
    // After the drop, the room goes on at full speed.
    for i in 0..20 {
        let sent = Instant::now();
        sender.say(&format!("after {i}"));
        reader.recv_containing(&format!(">after {i}<"));
        assert!(sent.elapsed() < Duration::from_secs(1));
    }
    // The stuck member's socket was shut down: once it reads, it sees the end.
    let mut raw = stuck.stream().try_clone().unwrap();
    support::expect_eof(&mut raw);
}

#[test]
fn concurrent_senders_reach_everyone_in_one_order_without_loss() {
    // Several senders at once make relays queue behind each other, and then travel in batches
    // (group commit): every member must still get every message once, all in the same order,
    // numbered without gaps. Everyone reads in a thread of its own, so no one falls behind (and
    // the send buffers are roomy for the senders, which only read at the end).
    let server = TestServer::start(&["--rate-limit", "0", "--send-buffer", "4194304"]);
    let url = server.ws_url("/connect");
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let mut reader = Client::join(&url).0;
            std::thread::spawn(move || {
                let mut seen: Vec<(u64, String)> = Vec::new();
                while seen.len() < 800 {
                    let frame = reader.recv_text();
                    for item in frame.split(r#"<li class="message""#).skip(1) {
                        let seq = item.split(r#"data-seq=""#).nth(1).unwrap().split('"').next().unwrap();
                        let text =
                            item.split(r#"<span class="text">"#).nth(1).unwrap().split("</span>").next().unwrap();
                        seen.push((seq.parse().unwrap(), text.to_string()));
                    }
                }
                seen
            })
        })
        .collect();
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let mut client = Client::join(&url).0;
            std::thread::spawn(move || {
                for i in 0..200 {
                    client.say(&format!("s{s}-{i}"));
                }
                client.recv_containing(&format!(">s{s}-199<"));
            })
        })
        .collect();
    let orders: Vec<Vec<(u64, String)>> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    for seen in &orders {
        let seqs: Vec<u64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=800).collect::<Vec<_>>(), "gaps or doubles");
        for s in 0..4 {
            let prefix = format!("s{s}-");
            let mine: Vec<&String> = seen.iter().map(|(_, t)| t).filter(|t| t.starts_with(&prefix)).collect();
            let expected: Vec<String> = (0..200).map(|i| format!("s{s}-{i}")).collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "sender {s}'s messages out of order");
        }
    }
    assert!(orders.windows(2).all(|w| w[0] == w[1]), "members saw different orders");
    for sender in senders {
        sender.join().unwrap();
    }
}

/// One counter from `/metrics`.
fn metric(server: &TestServer, name: &str) -> f64 {
    support::sample(&support::get(server.addr, "/metrics").body_text(), name)
}

/// Frames that reach the server together are relayed together: one relay, that is one `write`
/// per member for all of them, and in the order they were sent.
#[test]
fn messages_sent_together_go_out_in_one_relay_in_order() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    let relays = metric(&server, "chatroom_relays_total");
    // tungstenite's `write` only buffers; `flush` sends all ten frames in one TCP write.
    for i in 0..10 {
        a.ws.write(chat_message(&format!("batch {i}"))).unwrap();
    }
    a.ws.flush().unwrap();
    for client in [&mut a, &mut b] {
        for i in 0..10 {
            let fragment = client.recv_text();
            assert!(fragment.contains(&format!(">batch {i}<")), "expected batch {i}, got {fragment}");
        }
    }
    assert_eq!(metric(&server, "chatroom_relays_total") - relays, 1.0, "ten messages that arrived together");
    assert_eq!(metric(&server, "chatroom_messages_relayed_total"), 10.0);
}

/// Batching never reorders what one member does: a notice for a bad frame comes after the
/// relay of the messages before it and before the ones after it, and messages followed by a
/// Close in the same write are all relayed before the member leaves.
#[test]
fn a_batch_keeps_notices_and_the_close_in_order() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    a.ws.write(chat_message("first")).unwrap();
    a.ws.write(Message::text("not json")).unwrap();
    a.ws.write(chat_message("second")).unwrap();
    a.ws.write(chat_message("third")).unwrap();
    a.ws.close(None).unwrap(); // queues the Close and flushes everything in one write
    assert!(a.recv_text().contains(">first<"));
    assert!(a.recv_text().starts_with(r#"<p id="notice" hx-swap-oob="true" class="notice error""#));
    assert!(a.recv_text().contains(">second<"));
    assert!(a.recv_text().contains(">third<"));
    for text in ["first", "second", "third"] {
        let fragment = b.recv_text();
        assert!(fragment.contains(&format!(">{text}<")), "expected {text}, got {fragment}");
    }
    // And a, having said its piece, is told goodbye.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < until, "no Close reply");
        match a.ws.read() {
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => break,
            Ok(other) => assert!(support::is_presence(other.to_text().unwrap_or("")), "unexpected {other:?}"),
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("expected a clean close, got {e}"),
        }
    }
}

/// A client that sends messages and then drops the connection without a Close frame (a laptop
/// lid shut, a tab killed) still has everything it sent relayed: what a reader has posted goes
/// out before the member leaves, whatever ended its reading.
#[test]
fn messages_sent_just_before_an_abrupt_end_still_reach_the_room() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    for i in 0..3 {
        a.ws.write(chat_message(&format!("last words {i}"))).unwrap();
    }
    a.ws.flush().unwrap();
    // The FIN follows the frames at once: no Close frame, and nothing more to read.
    a.stream().shutdown(std::net::Shutdown::Write).unwrap();
    for i in 0..3 {
        let fragment = b.recv_text();
        assert!(fragment.contains(&format!(">last words {i}<")), "expected last words {i}, got {fragment}");
    }
}

/// Joins `url` over a connection with a small receive buffer, then sends Ping frames as fast as
/// the socket takes them, and never reads: the server's Pongs pile up in its send buffer. Stops
/// when the server cuts the connection or after `count`.
fn flood_pings(server: &TestServer, url: &str, count: usize) -> std::thread::JoinHandle<usize> {
    let stream = support::sys::connect_with_receive_buffer(server.addr, 2048);
    let (mut ws, _) = tungstenite::client::client(url, stream).expect("handshake");
    std::thread::spawn(move || {
        let payload = vec![b'p'; 125]; // the most a control frame carries (RFC 6455 §5.5)
        for sent in 0..count {
            if ws.send(Message::Ping(payload.clone().into())).is_err() {
                return sent;
            }
        }
        count
    })
}

/// Finding (issue 12): one member flooding Pings and never reading froze its room for about 10 s,
/// again and again: its Pongs filled its send buffer, its own writes then held its write lock for
/// up to 10 s, and every relay of the room waited for that lock under the room lock.
#[test]
fn a_member_flooding_pings_and_never_reading_holds_up_no_one() {
    let mut server = TestServer::start(&["--send-buffer", "4096"]);
    let (mut a, _) = Client::join(&server.ws_url("/connect?name=a"));
    let (mut b, _) = Client::join(&server.ws_url("/connect?name=b"));
    let flood = flood_pings(&server, &server.ws_url("/connect?name=stuck"), 50_000);
    // Meanwhile the room chats at its usual pace, and every message arrives at once.
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let sent = Instant::now();
        b.say(&format!("while flooded {i}"));
        a.recv_containing(&format!(">while flooded {i}<"));
        b.recv_containing(&format!(">while flooded {i}<"));
        slowest = slowest.max(sent.elapsed());
        // The room list takes the room lock for a moment: it must not wait either.
        let asked = Instant::now();
        assert_eq!(support::get(server.addr, "/api/rooms").status, 200);
        slowest = slowest.max(asked.elapsed());
    }
    assert!(slowest < Duration::from_millis(500), "the room waited {slowest:?} for the flooding member");
    let pings = flood.join().unwrap();
    assert!(pings < 50_000, "the flooding member was never cut off ({pings} pings went through)");
    // The flooding member (the third connection) was cut off, not the others.
    let log = server.wait_for_log("conn-3 127.0.0.1");
    support::wait_until("the flooding member to be closed", || {
        let log = server.log();
        log.lines().any(|l| l.starts_with("conn-3 ") && l.contains("closed: websocket, 1006")).then_some(())
    });
    assert!(!log.lines().any(|l| (l.starts_with("conn-1 ") || l.starts_with("conn-2 ")) && l.contains("closed")));
    // And the server still stops within its budget (1.5 s), SIGTERM to exit.
    let asked = Instant::now();
    server.signal(libc::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(5)).expect("exited").success());
    assert!(asked.elapsed() < Duration::from_millis(2500), "shutdown took {:?}", asked.elapsed());
}

/// Finding (issue 12): a joiner that never reads its welcome (a long history) held its write
/// lock while the welcome waited for room, and relays to it (under the room lock) waited too.
#[test]
fn a_joiner_that_never_reads_its_welcome_holds_up_no_one() {
    let server = TestServer::start(&["--send-buffer", "4096", "--rate-limit", "0", "--max-text", "5000"]);
    let (mut a, _) = Client::join(&server.ws_url("/connect?name=a"));
    let long = "w".repeat(4900);
    for i in 0..100 {
        a.say(&format!("{i} {long}"));
        a.recv_containing(&format!(">{i} w"));
    }
    // A raw joiner that asks for the upgrade and then never reads: its welcome (half a megabyte
    // of history) cannot be written, and stays unwritten.
    let mut joiner = support::sys::connect_with_receive_buffer(server.addr, 2048);
    std::io::Write::write_all(
        &mut joiner,
        format!(
            "GET /connect?name=joiner HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    )
    .unwrap();
    // The joiner is in the room (its welcome waits to be written): the room counts two.
    support::wait_until("the joiner to be in the room", || {
        let metrics = support::get(server.addr, "/metrics").body_text();
        (support::sample(&metrics, "chatroom_members") == 2.0).then_some(())
    });
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let sent = Instant::now();
        a.say(&format!("after the joiner {i}"));
        a.recv_containing(&format!(">after the joiner {i}<"));
        slowest = slowest.max(sent.elapsed());
    }
    assert!(slowest < Duration::from_millis(500), "the room waited {slowest:?} for the joiner");
    drop(joiner);
}
