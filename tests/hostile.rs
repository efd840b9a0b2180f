//! Hostile input, over real sockets to the real server: a corpus of malformed HTTP requests,
//! broken WebSocket handshakes, illegal WebSocket frames and odd chat payloads. Each case asserts
//! its specific answer (an exact HTTP status and a phrase of the body, or an exact close code and
//! a phrase of the reason), and each is followed by a check that the server still serves a normal
//! client; every test function ends with a WebSocket join and a message round trip.
//!
//! The tables are the specification: to add a case, add a row. A failing run names every case
//! that failed, not just the first.

mod support;

// The parts, in tests/hostile/ (a test crate's root finds its modules beside it, not below).
#[path = "hostile/frames.rs"]
mod frames;
#[path = "hostile/http.rs"]
mod http;
#[path = "hostile/http_cases.rs"]
mod http_cases;
#[path = "hostile/payloads.rs"]
mod payloads;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::protocol::json::{self, Event, Said};
use support::{parse_event, Client, RawResponse, TestServer, TIMEOUT};
use tungstenite::Message;

use http::*;
use http_cases::*;

pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

/// The end of every test: a WebSocket member joins a room, says something, and hears it back.
pub(crate) fn assert_chat_round_trip(server: &TestServer, room: &str) {
    let (mut client, _) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect")));
    client.say_json("still chatting");
    let message = client.recv_message();
    assert_eq!(message.text, "still chatting", "{message:?}");
    assert!(!server.log().contains("panic"), "the server panicked:\n{}", server.log());
}
