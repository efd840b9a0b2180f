//! The WebSocket layer: heartbeat, close codes for bad frames, the echo endpoint.

mod support;

use std::time::Duration;

use support::{Client, TestServer};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::Message;

#[test]
fn text_ping_gets_pong_and_is_not_relayed() {
    let server = TestServer::start(&[]);
    let mut a = Client::join(&server.ws_url("/connect")).0;
    let mut b = Client::join(&server.ws_url("/connect")).0;
    a.send_text("ping");
    assert_eq!(a.recv_text(), "pong");
    a.say("after the ping");
    // b's first message is the chat message: the ping was not relayed.
    let first = b.recv_text();
    assert!(first.contains("after the ping"), "{first}");
}

#[test]
fn invalid_utf8_closes_with_1007() {
    let server = TestServer::start(&[]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    let bad = Frame::message(vec![b'h', b'i', 0xff, 0xfe], OpCode::Data(Data::Text), true);
    client.ws.send(Message::Frame(bad)).unwrap();
    let close = client.expect_close();
    assert_eq!(close.code, CloseCode::Invalid);
    assert!(close.reason.contains("UTF-8"), "{}", close.reason);
}

#[test]
fn oversized_message_closes_with_1009() {
    let server = TestServer::start(&["--max-message", "1024"]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    client.say("fits");
    assert!(client.recv_text().contains("fits"));
    client.send_text(&"x".repeat(2000));
    let close = client.expect_close();
    assert_eq!(close.code, CloseCode::Size);
    assert!(close.reason.contains("1024"), "{}", close.reason);
}

#[test]
fn oversized_fragmented_message_closes_with_1009() {
    let server = TestServer::start(&["--max-message", "1024"]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    // Each fragment is under the frame limit; together they exceed the message limit.
    for (i, last) in [(0, false), (1, false), (2, true)] {
        let opcode = if i == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        client.ws.send(Message::Frame(Frame::message(vec![b'a'; 600], opcode, last))).unwrap();
    }
    assert_eq!(client.expect_close().code, CloseCode::Size);
}

#[test]
fn protocol_violation_closes_with_1002() {
    let server = TestServer::start(&[]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    // A continuation frame with nothing to continue (RFC 6455 §5.4).
    client.ws.send(Message::Frame(Frame::message(vec![b'a'], OpCode::Data(Data::Continue), true))).unwrap();
    assert_eq!(client.expect_close().code, CloseCode::Protocol);
}

#[test]
fn binary_in_a_chat_room_closes_with_1003() {
    let server = TestServer::start(&[]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    client.ws.send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(client.expect_close().code, CloseCode::Unsupported);
}

#[test]
fn clean_close_is_answered() {
    let server = TestServer::start(&[]);
    let mut client = Client::join(&server.ws_url("/connect")).0;
    client.ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).unwrap();
    // Our Close is echoed, then the server ends the TCP connection (RFC 6455 §7.1.1).
    loop {
        match client.ws.read() {
            Ok(Message::Close(_)) | Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    server.wait_for_log("closed: websocket, 1000 bye");
}

#[test]
fn server_pings_and_drops_silent_peers() {
    let server = TestServer::start(&["--ping-interval", "1", "--idle-timeout", "2"]);
    // One client never reads, so never answers the server's Pings.
    let silent = Client::join(&server.ws_url("/connect")).0;
    let mut client = Client::join(&server.ws_url("/connect")).0;
    // The other reads, and tungstenite answers each Ping with a Pong as it reads. Three Pings take
    // longer than the idle timeout, so surviving them shows that answering keeps a member alive.
    // It keeps reading (and so answering) until the silent one has been dropped for idleness.
    let mut pings = 0;
    support::wait_until("three server Pings and the silent peer's drop", || {
        match client.ws.read() {
            Ok(Message::Ping(payload)) => {
                assert!(payload.is_empty());
                pings += 1;
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("the answering client was dropped: {e}"),
        }
        (pings >= 3 && server.log().contains("idle timeout")).then_some(())
    });
    let mut raw = silent.stream().try_clone().unwrap();
    support::expect_eof(&mut raw);
    client.say("still here");
    assert!(client.recv_containing("still here").contains("still here"));
}

#[test]
fn echo_endpoint_echoes_text_and_binary() {
    let server = TestServer::start(&["--echo"]);
    let mut client = Client::connect(&server.ws_url("/echo"));
    client.send_text("hello <echo>");
    assert_eq!(client.recv_text(), "hello <echo>");
    client.ws.send(Message::binary(vec![0u8, 159, 146, 150])).unwrap();
    match client.recv_within(Duration::from_secs(5)) {
        Some(Message::Binary(data)) => assert_eq!(&data[..], &[0u8, 159, 146, 150]),
        other => panic!("expected binary echo, got {other:?}"),
    }
}
