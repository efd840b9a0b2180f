//! Plain HTTP for tests: raw requests and responses over a real socket, and the JSON APIs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use chatroom::protocol::json::{HistoryPage, RoomList};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{read_whole, TIMEOUT};

/// An HTTP response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw bytes on a new connection and reads one response (by Content-Length).
pub fn http_raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request).expect("send request");
    read_response(&mut stream, request.starts_with(b"HEAD"))
}

/// A plain `GET path` with a Host header.
pub fn get(addr: SocketAddr, path: &str) -> RawResponse {
    http_raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
}

/// Reads one response from `stream`: the head, then exactly Content-Length bytes of body.
pub fn read_response(stream: &mut TcpStream, head_only: bool) -> RawResponse {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => panic!("connection closed mid-head: {:?}", String::from_utf8_lossy(&buf)),
            Err(e) => panic!("reading response head: {e} (got {:?})", String::from_utf8_lossy(&buf)),
        }
    }
    let head = String::from_utf8(buf).expect("ASCII head");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let mut response = RawResponse { status, head, body: Vec::new() };
    let length: usize = response.header("Content-Length").map(|v| v.parse().unwrap()).unwrap_or(0);
    if !head_only {
        response.body = vec![0; length];
        stream.read_exact(&mut response.body).expect("body");
    }
    response
}

/// Waits until the peer closes `stream` (EOF or reset). Fails after [`TIMEOUT`].
pub fn expect_eof(stream: &mut TcpStream) {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("connection still open after {TIMEOUT:?}")
            }
            Err(_) => return, // reset counts as closed
        }
    }
}

/// `GET path`, which must answer 200 with a JSON body; returns the body read as a `T` (one of
/// the protocol's JSON types; see [`read_whole`]).
pub fn get_json<T: DeserializeOwned + Serialize>(addr: SocketAddr, path: &str) -> T {
    let response = get(addr, path);
    assert_eq!(response.status, 200, "GET {path}: {}", response.body_text());
    let kind = response.header("Content-Type").unwrap_or_default();
    assert!(kind.starts_with("application/json"), "GET {path}: Content-Type {kind:?}");
    let body = std::str::from_utf8(&response.body).unwrap_or_else(|e| panic!("GET {path}: not UTF-8 ({e})"));
    read_whole(&format!("GET {path}"), body)
}

/// `GET path` of a room's history API (`/r/ROOM/history...`), which must answer with a page.
pub fn get_history(addr: SocketAddr, path: &str) -> HistoryPage<'static> {
    get_json(addr, path)
}

/// `GET /api/rooms`: the room list.
pub fn get_rooms(addr: SocketAddr) -> RoomList {
    get_json(addr, "/api/rooms")
}
