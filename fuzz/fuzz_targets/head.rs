//! Fuzzes the HTTP request-head parser, `chatroom::http::head::parse`, and everything that reads
//! a parsed `Request` without a socket: the header helpers, query and cookie decoding, and the
//! WebSocket handshake check.
//!
//! Beyond "no panic", it checks:
//! - a complete parse: `0 < used <= buf.len()`, the path starts with '/' and holds no '?', the
//!   method is a non-empty token, the version is HTTP/1.0 or 1.1, no header value holds CR or LF;
//! - the head alone parses to the same request (what follows it is not part of it);
//! - every strict prefix of a complete head is `Ok(None)` ("send more"), never an error: the
//!   server may parse after any read, so a valid head that arrives in pieces must not be refused;
//! - fed in pieces through `Scan`, which decides when the server parses, a complete head is
//!   parsed, as the same request, by the time its last piece is in (its end is never missed);
//! - `parse` on a buffer never returns the socket-only errors (`Idle`, `Timeout`, `Io`);
//! - a handshake that validates has a 28-character accept key and a well-formed 101 response.
#![no_main]

use chatroom::ws::handshake;
use chatroom::http::head::{parse, percent_decode, HeadError, Request, Scan};
use chatroom::http::routes::NAME_COOKIE;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|buf: &[u8]| {
    match parse(buf) {
        Ok(Some((req, used))) => {
            assert!(used > 0 && used <= buf.len(), "used {used} of {}", buf.len());
            check_request(&req);
            // The head alone is the same complete request.
            let (again, used_again) = parse(&buf[..used]).expect("head alone: error").expect("head alone: partial");
            assert_eq!(used_again, used);
            assert_eq!((&again.method, &again.path, &again.query), (&req.method, &req.path, &req.query));
            assert_eq!(again.minor_version, req.minor_version);
            assert_eq!(again.headers, req.headers);
            // In pieces of 1 to 8 bytes (the first byte says), as reads deliver it.
            let piece = usize::from(buf[0] % 8) + 1;
            let scanned = scan_in_pieces(&buf[..used], piece).unwrap_or_else(|| panic!("end missed in pieces of {piece}"));
            assert_eq!((&scanned.method, &scanned.path, &scanned.headers), (&req.method, &req.path, &req.headers));
            // Strict prefixes ask for more. Every split point for short heads, a few for long ones.
            if used <= 256 {
                for k in 1..used {
                    check_prefix(&buf[..k]);
                }
            } else {
                let first_line = buf.iter().position(|&b| b == b'\n').unwrap_or(0);
                for k in [1, first_line, first_line + 1, used / 3, used / 2, used - 2, used - 1] {
                    if k > 0 && k < used {
                        check_prefix(&buf[..k]);
                    }
                }
            }
        }
        Ok(None) => {}
        Err(HeadError::TooLarge | HeadError::BadVersion | HeadError::Malformed(_)) => {}
        Err(e @ (HeadError::Idle | HeadError::Timeout | HeadError::Io(_))) => {
            panic!("parse of a buffer returned a socket-only error: {e:?}")
        }
    }
});

/// Feeds `head` to a `Scan` in pieces of `piece` bytes, parsing whenever it says so, as
/// `read_head` does; the request once one parses whole.
fn scan_in_pieces(head: &[u8], piece: usize) -> Option<Request> {
    let (mut scan, mut buf) = (Scan::default(), Vec::new());
    for piece in head.chunks(piece) {
        let new = buf.len();
        buf.extend_from_slice(piece);
        if scan.worth_parsing(&mut buf, new) {
            if let Ok(Some((request, _))) = parse(&buf) {
                return Some(request);
            }
        }
    }
    None
}

fn check_prefix(prefix: &[u8]) {
    match parse(prefix) {
        Ok(None) => {}
        Ok(Some((_, used))) => panic!("a strict prefix ({} bytes) of a head is complete at {used}", prefix.len()),
        Err(e) => panic!("a strict prefix ({} bytes) of a valid head is an error: {e:?}", prefix.len()),
    }
}

fn check_request(req: &Request) {
    assert!(req.path.starts_with('/'), "path {:?}", req.path);
    assert!(!req.path.contains('?'), "path {:?}", req.path);
    assert!(!req.method.is_empty());
    assert!(req.method.bytes().all(|b| b.is_ascii_graphic()), "method {:?}", req.method);
    assert!(req.minor_version <= 1, "HTTP/1.{}", req.minor_version);
    for (name, value) in &req.headers {
        assert!(!name.is_empty());
        assert!(name.bytes().all(|b| b.is_ascii_graphic() && b != b':'), "header name {name:?}");
        assert!(!value.contains(&b'\r') && !value.contains(&b'\n'), "header value {value:?}");
    }

    // The helpers must not panic, whatever the headers hold.
    for name in ["Host", "Connection", "Upgrade", "Origin", "Cookie", "Sec-WebSocket-Key", "If-None-Match"] {
        let _ = req.header(name);
        if let Some(s) = req.header_str(name) {
            assert_eq!(s, s.trim());
        }
        let count = req.header_count(name);
        assert_eq!(count > 0, req.header(name).is_some());
    }
    let _ = req.has_token("Connection", "upgrade");
    let _ = req.has_token("Upgrade", "websocket");
    let keep_alive = req.keep_alive();
    if req.minor_version == 0 && !req.has_token("Connection", "keep-alive") {
        assert!(!keep_alive);
    }
    for name in ["name", "before", "limit", "format", "room", "next", ""] {
        let _ = req.query_param(name);
    }
    if let Some((first, _)) = req.query.split('&').next().and_then(|p| p.split_once('=')) {
        let _ = req.query_param(first);
    }
    let _ = percent_decode(&req.query);
    let _ = percent_decode(&req.path);
    let _ = req.cookie(NAME_COOKIE);
    let _ = req.cookie("chatroom_session");

    match handshake::validate(req, &["chatroom.json"]) {
        Ok(upgrade) => {
            assert_eq!(upgrade.accept.len(), 28, "accept {:?}", upgrade.accept);
            assert!(req.minor_version >= 1);
            assert_eq!(req.header_count("Host"), 1);
            let bytes = upgrade.response_bytes();
            assert!(bytes.starts_with(b"HTTP/1.1 101 "));
            assert!(bytes.ends_with(b"\r\n\r\n"));
            // Nothing from the request but the accept key (derived) and a fixed subprotocol.
            assert_eq!(bytes.windows(4).filter(|w| w == b"\r\n\r\n").count(), 1);
        }
        Err(response) => {
            assert!(response.status == 400 || response.status == 426, "status {}", response.status);
        }
    }
}
