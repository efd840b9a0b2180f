//! Hostile input, over real sockets to the real server: a corpus of malformed HTTP requests,
//! broken WebSocket handshakes, illegal WebSocket frames and odd chat payloads. Each case asserts
//! its specific answer (an exact HTTP status and a phrase of the body, or an exact close code and
//! a phrase of the reason), and each is followed by a check that the server still serves a normal
//! client; every test function ends with a WebSocket join and a message round trip.
//!
//! The tables are the specification: to add a case, add a row. A failing run names every case
//! that failed, not just the first.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::protocol::json::{self, Event, Said};
use support::{parse_event, Client, RawResponse, TestServer, TIMEOUT};
use tungstenite::Message;

// ---------------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------------

/// What happens to the connection after the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// `Connection: close`, and the server closes: after such a request the stream may be out of
    /// step, so nothing more may be read from it.
    Closes,
    /// `Connection: keep-alive`, and the next request on the same connection is answered: the
    /// parser stayed in step.
    KeepsAlive,
}
use After::{Closes, KeepsAlive};

/// One malformed request and the answer it must get.
struct HttpCase {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    /// A phrase the body must contain ("" to skip: HEAD answers have no body).
    phrase: &'static str,
    /// A header the answer must carry, with this exact value.
    header: Option<(&'static str, &'static str)>,
    after: After,
}

fn http(name: &'static str, request: impl Into<Vec<u8>>, status: u16, phrase: &'static str, after: After) -> HttpCase {
    HttpCase { name, request: request.into(), status, phrase, header: None, after }
}

impl HttpCase {
    fn with_header(mut self, name: &'static str, value: &'static str) -> HttpCase {
        self.header = Some((name, value));
        self
    }
}

/// RFC 6455 §1.3's example key; its accept value is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The upgrade headers of a valid handshake, without the key.
const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

/// `request_line`, `Host: ADDR`, then `headers` (each line ending in CRLF), then the blank line.
fn request_to(addr: SocketAddr, request_line: &str, headers: &str) -> Vec<u8> {
    format!("{request_line}\r\nHost: {addr}\r\n{headers}\r\n").into_bytes()
}

/// `n` bytes of deterministic junk (xorshift), standing in for random binary.
fn junk(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The start of a TLS 1.2 ClientHello: what a browser sends to `https://` on this port.
fn tls_client_hello() -> Vec<u8> {
    let mut hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    hello.extend_from_slice(&junk(32)); // client random
    hello.extend_from_slice(&[0x20]); // session id length
    hello.extend_from_slice(&junk(32));
    hello.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0x13, 0x02, 0x01, 0x00]);
    hello
}

/// `n` header lines: `X-H0: v`, `X-H1: v`, ...
fn header_lines(n: usize) -> String {
    (0..n).map(|i| format!("X-H{i}: v\r\n")).collect()
}

const MALFORMED: &str = "Malformed request";
const BAD_HEADER: &str = "Malformed request: invalid header.";
const NOT_ORIGIN_FORM: &str = "request target must start with /";
const VERSION: &str = "Only HTTP/1.0 and HTTP/1.1 are spoken here.";
const TOO_LARGE: &str = "Request head too large";
const NOT_FOUND: &str = "Nothing at ";
const BAD_ROOM: &str = "is not a valid room name";
const BODY_ON_GET: &str = "A GET request must not have a body.";
const DUPLICATE_LENGTH: &str = "Duplicate Content-Length headers.";
const PLAIN_LENGTH: &str = "Content-Length must be a number in plain digits.";
const TRANSFER_ENCODING: &str = "Transfer-Encoding is not accepted";
const BAD_KEY: &str = "Malformed Sec-WebSocket-Key";
const NOT_A_WEBSOCKET: &str = "This is a WebSocket endpoint";
const BAD_VERSION_WS: &str = "Unsupported Sec-WebSocket-Version";
const ONE_HOST: &str = "needs exactly one Host header.";
const BAD_HOST: &str = "Malformed request: invalid Host header.";
const MISDIRECTED: &str =
    "does not answer for rebind.evil.example; to serve it under that name, start it with --allow-host";
const CROSS_ORIGIN: &str = "Cross-origin WebSocket refused";

/// The corpus of malformed HTTP requests and WebSocket handshakes, for the server at `addr`.
#[rustfmt::skip]
fn http_cases(addr: SocketAddr) -> Vec<HttpCase> {
    // A request with `Host: ADDR`; a WebSocket upgrade of `GET /connect` with `headers` after Host.
    let req = |request_line: &str, headers: &str| request_to(addr, request_line, headers);
    let upgrade = |headers: &str| request_to(addr, "GET /connect HTTP/1.1", headers);
    let host = format!("Host: {addr}");
    vec![
        // --- Sizes (16 KiB, 64 header lines) -------------------------------------------------
        http("oversized header value (20 KB)", req("GET / HTTP/1.1", &format!("X-Pad: {}\r\n", "a".repeat(20_000))), 431, TOO_LARGE, Closes),
        http("too many headers (100)", req("GET / HTTP/1.1", &header_lines(100)), 431, TOO_LARGE, Closes),
        http("65 header lines, one over the limit", req("GET /healthz HTTP/1.1", &header_lines(64)), 431, TOO_LARGE, Closes),
        http("64 header lines, exactly the limit", req("GET /healthz HTTP/1.1", &header_lines(63)), 200, "ok", KeepsAlive),
        http("very long URL (20 KB)", req(&format!("GET /{} HTTP/1.1", "a".repeat(20_000)), ""), 431, TOO_LARGE, Closes),
        http("long method token (10 KB)", req(&format!("{} / HTTP/1.1", "A".repeat(10_000)), ""), 405, "is not allowed here", Closes),
        // --- Request line: methods ------------------------------------------------------------
        http("POST", req("POST / HTTP/1.1", "Content-Length: 3\r\n"), 405, "Method POST is not allowed here", Closes)
            .with_header("Allow", "GET, HEAD"),
        http("PUT", req("PUT / HTTP/1.1", ""), 405, "Method PUT is not allowed here", Closes).with_header("Allow", "GET, HEAD"),
        http("DELETE", req("DELETE /connect HTTP/1.1", ""), 405, "Method DELETE is not allowed here", Closes),
        http("OPTIONS", req("OPTIONS / HTTP/1.1", ""), 405, "Method OPTIONS is not allowed here", Closes),
        http("TRACE", req("TRACE / HTTP/1.1", ""), 405, "Method TRACE is not allowed here", Closes),
        http("CONNECT with an origin-form target", req("CONNECT / HTTP/1.1", ""), 405, "Method CONNECT is not allowed here", Closes),
        http("PATCH", req("PATCH / HTTP/1.1", ""), 405, "Method PATCH is not allowed here", Closes),
        // Methods are case-sensitive (RFC 9110 §9.1): `get` is some other, unknown method.
        http("lower-case get", req("get / HTTP/1.1", ""), 405, "Method get is not allowed here", Closes),
        http("method with a non-token character", req("G(T / HTTP/1.1", ""), 400, MALFORMED, Closes),
        http("non-ASCII method", req("GÉT / HTTP/1.1", ""), 400, MALFORMED, Closes),
        http("tabs between the parts", req("GET\t/\tHTTP/1.1", ""), 400, MALFORMED, Closes),
        http("double spaces between the parts", req("GET  /  HTTP/1.1", ""), 400, MALFORMED, Closes),
        // --- Request line: targets that are not origin-form ---------------------------------------
        http("absolute-form target", req("GET http://x/ HTTP/1.1", ""), 400, NOT_ORIGIN_FORM, Closes),
        http("asterisk-form target with OPTIONS", req("OPTIONS * HTTP/1.1", ""), 400, NOT_ORIGIN_FORM, Closes),
        http("asterisk-form target with GET", req("GET * HTTP/1.1", ""), 400, NOT_ORIGIN_FORM, Closes),
        http("authority-form target", req("CONNECT x:443 HTTP/1.1", ""), 400, NOT_ORIGIN_FORM, Closes),
        http("query-only target", req("GET ?x=1 HTTP/1.1", ""), 400, NOT_ORIGIN_FORM, Closes),
        http("empty target", req("GET  HTTP/1.1", ""), 400, MALFORMED, Closes),
        http("NUL byte in the target", req("GET /assets/\0 HTTP/1.1", ""), 400, MALFORMED, Closes),
        http("DEL byte in the target", req("GET /\x7f HTTP/1.1", ""), 400, MALFORMED, Closes),
        http("Latin-1 byte in the target", [b"GET /\xe9 HTTP/1.1\r\n", host.as_bytes(), b"\r\n\r\n"].concat(), 400, MALFORMED, Closes),
        // --- Versions and other protocols -------------------------------------------------------
        // HTTP/0.9 has no version and no headers; the parser sees a request line cut short.
        http("HTTP/0.9 request", *b"GET /\r\n", 400, MALFORMED, Closes),
        http("HTTP/0.9 request and a blank line", *b"GET /\r\n\r\n", 400, MALFORMED, Closes),
        http("HTTP/2 connection preface", *b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, VERSION, Closes),
        http("HTTP/2.0 request line", req("GET / HTTP/2.0", ""), 505, VERSION, Closes),
        http("HTTP/1.2", req("GET / HTTP/1.2", ""), 505, VERSION, Closes),
        http("HTTP/3.0", req("GET / HTTP/3.0", ""), 505, VERSION, Closes),
        http("lower-case http/1.1", req("GET / http/1.1", ""), 505, VERSION, Closes),
        http("junk after the version", req("GET / HTTP/1.1x", ""), 400, "invalid request line", Closes),
        http("TLS ClientHello", tls_client_hello(), 400, MALFORMED, Closes),
        http("random binary", junk(512), 400, MALFORMED, Closes),
        http("NUL bytes", vec![0u8; 64], 400, MALFORMED, Closes),
        http("SSH banner", *b"SSH-2.0-OpenSSH_9.6\r\n", 400, MALFORMED, Closes),
        // --- Line endings and header syntax ------------------------------------------------------
        // Bare LF is tolerated (RFC 9112 §2.2 allows it), and the stream stays in step.
        http("bare LF line endings", format!("GET /healthz HTTP/1.1\n{host}\n\n"), 200, "ok", KeepsAlive),
        http("bare CR line endings", format!("GET / HTTP/1.1\r{host}\r\r"), 400, "invalid request line", Closes),
        http("header without a colon", req("GET / HTTP/1.1", "NoColonHere\r\n"), 400, BAD_HEADER, Closes),
        http("header name with a space", req("GET / HTTP/1.1", "Bad Name: v\r\n"), 400, BAD_HEADER, Closes),
        http("space before the colon", req("GET / HTTP/1.1", "X-A : v\r\n"), 400, BAD_HEADER, Closes),
        http("obs-fold continuation line", req("GET / HTTP/1.1", "X-A: v\r\n  folded\r\n"), 400, BAD_HEADER, Closes),
        http("first header line indented", format!("GET / HTTP/1.1\r\n {host}\r\n\r\n"), 400, BAD_HEADER, Closes),
        http("NUL in a header value", req("GET / HTTP/1.1", "X-A: a\0b\r\n"), 400, BAD_HEADER, Closes),
        http("DEL in a header value", req("GET / HTTP/1.1", "X-A: a\x7fb\r\n"), 400, BAD_HEADER, Closes),
        // obs-text (bytes >= 0x80) is allowed in values (RFC 9110 §5.5).
        http("UTF-8 in a header value", req("GET /healthz HTTP/1.1", "X-A: é\r\n"), 200, "ok", KeepsAlive),
        // --- Host (RFC 9112 §3.2; RFC 9110 §15.5.20 for a host that is not this server) ---------------
        http("HTTP/1.1 without Host", *b"GET /healthz HTTP/1.1\r\n\r\n", 400, ONE_HOST, Closes),
        http("two Host headers", req("GET /healthz HTTP/1.1", &format!("{host}\r\n")), 400, ONE_HOST, Closes),
        http("two Host headers on HTTP/1.0", req("GET /healthz HTTP/1.0", &format!("{host}\r\n")), 400, ONE_HOST, Closes),
        http("HTTP/1.0 without Host", *b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "ok", KeepsAlive),
        http("empty Host", *b"GET /healthz HTTP/1.1\r\nHost: \r\n\r\n", 400, BAD_HOST, Closes),
        http("Host with user info", *b"GET /healthz HTTP/1.1\r\nHost: me@127.0.0.1\r\n\r\n", 400, BAD_HOST, Closes),
        http("Host with a port out of range", *b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:65536\r\n\r\n", 400, BAD_HOST, Closes),
        http("Host with a path", *b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1/x\r\n\r\n", 400, BAD_HOST, Closes),
        http("Host of another site (DNS rebinding)", *b"GET /healthz HTTP/1.1\r\nHost: rebind.evil.example:8080\r\n\r\n", 421, MISDIRECTED, KeepsAlive),
        http("Host of another site on an upgrade", [b"GET /connect HTTP/1.1\r\nHost: rebind.evil.example\r\n", UPGRADE.as_bytes(), format!("Sec-WebSocket-Key: {KEY}\r\n\r\n").as_bytes()].concat(), 421, MISDIRECTED, KeepsAlive),
        // --- Bodies and framing (request smuggling) ----------------------------------------------
        http("Content-Length with a body on GET", req("GET / HTTP/1.1", "Content-Length: 4\r\n").into_iter().chain(*b"body").collect::<Vec<u8>>(), 400, BODY_ON_GET, Closes),
        http("negative Content-Length on GET", req("GET / HTTP/1.1", "Content-Length: -1\r\n"), 400, PLAIN_LENGTH, Closes),
        http("huge Content-Length on GET", req("GET / HTTP/1.1", "Content-Length: 99999999999999999999999\r\n"), 400, PLAIN_LENGTH, Closes),
        http("list-valued Content-Length", req("GET / HTTP/1.1", "Content-Length: 0, 0\r\n"), 400, PLAIN_LENGTH, Closes),
        http("signed Content-Length on a form", req("POST /login HTTP/1.1", "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: +20\r\n"), 400, PLAIN_LENGTH, Closes),
        http("zero-padded Content-Length on a form", req("POST /login HTTP/1.1", "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 020\r\n"), 400, PLAIN_LENGTH, Closes),
        http("duplicate Content-Length", req("GET / HTTP/1.1", "Content-Length: 0\r\nContent-Length: 0\r\n"), 400, DUPLICATE_LENGTH, Closes),
        http("conflicting Content-Length", req("GET / HTTP/1.1", "Content-Length: 0\r\nContent-Length: 5\r\n").into_iter().chain(*b"hello").collect::<Vec<u8>>(), 400, DUPLICATE_LENGTH, Closes),
        http("smuggled request in a GET body", req("GET /healthz HTTP/1.1", "Content-Length: 34\r\n").into_iter().chain(format!("GET /nothing HTTP/1.1\r\n{host}\r\n\r\n").into_bytes()).collect::<Vec<u8>>(), 400, BODY_ON_GET, Closes),
        http("Transfer-Encoding: chunked on GET", req("GET / HTTP/1.1", "Transfer-Encoding: chunked\r\n").into_iter().chain(*b"0\r\n\r\n").collect::<Vec<u8>>(), 400, TRANSFER_ENCODING, Closes),
        http("smuggled request after a chunked GET", req("GET /healthz HTTP/1.1", "Transfer-Encoding: chunked\r\n").into_iter().chain(format!("0\r\n\r\nGET /nothing HTTP/1.1\r\n{host}\r\n\r\n").into_bytes()).collect::<Vec<u8>>(), 400, TRANSFER_ENCODING, Closes),
        http("Transfer-Encoding and Content-Length", req("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"), 400, TRANSFER_ENCODING, Closes),
        http("odd-case Transfer-Encoding", req("GET / HTTP/1.1", "transfer-encoding: CHUNKED\r\n"), 400, TRANSFER_ENCODING, Closes),
        http("empty Transfer-Encoding", req("GET / HTTP/1.1", "Transfer-Encoding: \r\n"), 400, TRANSFER_ENCODING, Closes),
        http("Transfer-Encoding on HEAD", req("HEAD /healthz HTTP/1.1", "Transfer-Encoding: identity\r\n"), 400, "", Closes),
        // --- Asset paths: a fixed table, so every trick misses ------------------------------------
        http("dot-dot in an asset path", req("GET /assets/../Cargo.toml HTTP/1.1", ""), 404, "Nothing at /assets/../Cargo.toml", KeepsAlive),
        http("percent-encoded dot-dot", req("GET /assets/%2e%2e/Cargo.toml HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("percent-encoded slash after dot-dot", req("GET /assets/..%2fCargo.toml HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("percent-encoded backslash after dot-dot", req("GET /assets/..%5cCargo.toml HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("backslash after dot-dot", req("GET /assets/..\\Cargo.toml HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("double slash to an absolute path", req("GET /assets//etc/passwd HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("root double slash", req("GET //etc/passwd HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("dot-dot from the root", req("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("dot segment before a real asset", req("GET /assets/./app.js HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("percent-encoded NUL after a real asset", req("GET /assets/app.js%00 HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("percent-encoded NUL alone", req("GET /assets/%00 HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("trailing slash after a real asset", req("GET /assets/app.js/ HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("fragment in the target", req("GET /healthz#x HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        // --- Room names -------------------------------------------------------------------------
        http("room name %00", req("GET /r/%00 HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        http("room name of 33 characters", req(&format!("GET /r/{} HTTP/1.1", "a".repeat(33)), ""), 404, BAD_ROOM, KeepsAlive),
        http("room name with an encoded slash", req("GET /r/a%2fb HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        http("room name ..", req("GET /r/.. HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        http("room name with a bad escape", req("GET /r/%zz HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        http("room name with non-ASCII", req("GET /r/caf%C3%A9 HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        http("room form with markup, escaped", req("GET /r/?room=%3Cscript%3E HTTP/1.1", ""), 404, "&lt;script&gt; is not a valid room name", KeepsAlive),
        http("unknown path under a room", req("GET /r/abc/connect/x HTTP/1.1", ""), 404, NOT_FOUND, KeepsAlive),
        http("history of an invalid room", req("GET /r/%00/history HTTP/1.1", ""), 404, BAD_ROOM, KeepsAlive),
        // --- History API parameters -------------------------------------------------------------
        http("history before=0", req("GET /r/lobby/history?before=0 HTTP/1.1", ""), 400, "before must be a sequence number", KeepsAlive),
        http("history before=-1", req("GET /r/lobby/history?before=-1 HTTP/1.1", ""), 400, "before must be a sequence number", KeepsAlive),
        http("history before= (empty)", req("GET /r/lobby/history?before= HTTP/1.1", ""), 400, "before must be a sequence number", KeepsAlive),
        http("history before beyond u64", req("GET /r/lobby/history?before=99999999999999999999999 HTTP/1.1", ""), 400, "before must be a sequence number", KeepsAlive),
        http("history limit=0", req("GET /r/lobby/history?limit=0 HTTP/1.1", ""), 400, "limit must be a whole number from 1 to 200", KeepsAlive),
        http("history limit=201", req("GET /r/lobby/history?limit=201 HTTP/1.1", ""), 400, "limit must be a whole number from 1 to 200", KeepsAlive),
        http("history limit=abc", req("GET /r/lobby/history?limit=abc HTTP/1.1", ""), 400, "limit must be a whole number from 1 to 200", KeepsAlive),
        http("history limit=1.5", req("GET /r/lobby/history?limit=1.5 HTTP/1.1", ""), 400, "limit must be a whole number from 1 to 200", KeepsAlive),
        http("history format=xml", req("GET /r/lobby/history?format=xml HTTP/1.1", ""), 400, "format must be json or html", KeepsAlive),
        // --- WebSocket handshakes ---------------------------------------------------------------
        http("upgrade without a key", upgrade(UPGRADE), 400, BAD_KEY, Closes),
        http("upgrade with a short key", upgrade(&format!("{UPGRADE}Sec-WebSocket-Key: c2hvcnQ=\r\n")), 400, BAD_KEY, Closes),
        http("upgrade with a 16-character key that is not base64 of 16 bytes", upgrade(&format!("{UPGRADE}Sec-WebSocket-Key: 0123456789abcdef\r\n")), 400, BAD_KEY, Closes),
        http("upgrade with a 24-character key that is not base64", upgrade(&format!("{UPGRADE}Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!\r\n")), 400, BAD_KEY, Closes),
        http("upgrade with a non-ASCII key", upgrade(&format!("{UPGRADE}Sec-WebSocket-Key: éééééééééééé\r\n")), 400, BAD_KEY, Closes),
        http("upgrade with two keys", upgrade(&format!("{UPGRADE}Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Key: {KEY}\r\n")), 400, BAD_KEY, Closes),
        http("upgrade with version 8", upgrade(&format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: {KEY}\r\n")), 426, BAD_VERSION_WS, KeepsAlive)
            .with_header("Sec-WebSocket-Version", "13"),
        http("upgrade with two version headers", upgrade(&format!("{UPGRADE}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n")), 426, BAD_VERSION_WS, KeepsAlive)
            .with_header("Sec-WebSocket-Version", "13"),
        http("upgrade without Upgrade", upgrade(&format!("Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n")), 426, NOT_A_WEBSOCKET, KeepsAlive)
            .with_header("Upgrade", "websocket"),
        http("upgrade to h2c", upgrade(&format!("Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n")), 426, NOT_A_WEBSOCKET, KeepsAlive),
        http("Connection without the upgrade token", upgrade(&format!("Upgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n")), 426, NOT_A_WEBSOCKET, KeepsAlive),
        http("upgrade over HTTP/1.0", req("GET /connect HTTP/1.0", &format!("{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 400, "WebSocket upgrade needs HTTP/1.1.", Closes),
        http("upgrade without Host", format!("GET /connect HTTP/1.1\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n\r\n"), 400, ONE_HOST, Closes),
        http("upgrade with two Hosts", upgrade(&format!("Host: y\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 400, ONE_HOST, Closes),
        http("upgrade with POST", req("POST /connect HTTP/1.1", &format!("{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 405, "Method POST is not allowed here", Closes),
        http("upgrade with HEAD", req("HEAD /connect HTTP/1.1", &format!("{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 405, "", KeepsAlive)
            .with_header("Allow", "GET"),
        http("upgrade from a cross-site Origin", upgrade(&format!("Origin: http://evil.example\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 403, "pages from http://evil.example may not connect here", KeepsAlive),
        http("upgrade from Origin: null", upgrade(&format!("Origin: null\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 403, "pages from null may not connect here", KeepsAlive),
        http("upgrade from an Origin that only starts like the host", upgrade(&format!("Origin: http://{addr}.evil.example\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 403, CROSS_ORIGIN, KeepsAlive),
        http("upgrade from the host under another scheme", upgrade(&format!("Origin: ftp://{addr}\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 403, CROSS_ORIGIN, KeepsAlive),
        http("upgrade into an invalid room", req("GET /r/%00/connect HTTP/1.1", &format!("{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n")), 404, BAD_ROOM, KeepsAlive),
        // --- Found by this corpus, fixed: a complete head just over the cap, undecodable values
        http("URL of 17,000 bytes", req(&format!("GET /{} HTTP/1.1", "a".repeat(17_000)), ""), 431, TOO_LARGE, Closes),
        http("header of 16,500 bytes", req("GET / HTTP/1.1", &format!("X-Pad: {}\r\n", "a".repeat(16_500))), 431, TOO_LARGE, Closes),
        http("history limit=%ff", req("GET /r/lobby/history?limit=%ff HTTP/1.1", ""), 400, "limit must be", KeepsAlive),
        http("history before=%zz", req("GET /r/lobby/history?before=%zz HTTP/1.1", ""), 400, "before must be", KeepsAlive),
        http("history format=%ff", req("GET /r/lobby/history?format=%ff HTTP/1.1", ""), 400, "format must be", KeepsAlive),
    ]
}

/// Reads one response: the head, then Content-Length bytes of body (none for HEAD).
fn read_response(stream: &mut TcpStream, head_only: bool) -> Result<RawResponse, String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => return Err(format!("connection closed before a whole response head: {:?}", lossy(&buf))),
            Err(e) => return Err(format!("reading the response head: {e} (got {:?})", lossy(&buf))),
        }
    }
    let head = String::from_utf8(buf).map_err(|_| "response head is not UTF-8".to_string())?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("no status in {head:?}"))?;
    let mut response = RawResponse { status, head, body: Vec::new() };
    let length: usize = match response.header("Content-Length") {
        Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
        None => 0,
    };
    if !head_only {
        response.body = vec![0; length];
        stream.read_exact(&mut response.body).map_err(|e| format!("reading {length} bytes of body: {e}"))?;
    }
    Ok(response)
}

/// Succeeds once the peer has closed `stream` (EOF or reset) without sending anything more.
fn expect_closed(stream: &mut TcpStream) -> Result<(), String> {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut sink = [0u8; 1024];
    match stream.read(&mut sink) {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!("unexpected bytes where the connection should close: {:?}", lossy(&sink[..n]))),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(format!("connection still open after {TIMEOUT:?}"))
        }
        Err(_) => Ok(()), // a reset is a close too
    }
}

/// `GET /healthz` on `stream` must answer 200 `ok`.
fn healthz_on(stream: &mut TcpStream) -> Result<(), String> {
    let addr = stream.peer_addr().map_err(|e| format!("peer address: {e}"))?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("sending /healthz: {e}"))?;
    let response = read_response(stream, false)?;
    if (response.status, response.body.as_slice()) != (200, b"ok\n".as_slice()) {
        return Err(format!("/healthz answered {} {:?}", response.status, response.body_text()));
    }
    Ok(())
}

/// The server still serves a normal client: `GET /healthz` on a fresh connection is 200 `ok`.
fn still_serves(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    healthz_on(&mut stream).map_err(|e| format!("afterwards, a normal client was not served: {e}"))
}

fn run_http_case(addr: SocketAddr, case: &HttpCase) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    // The server may answer and close before it has read all of a large request; the answer is
    // what counts, so a failed write is not the failure.
    let _ = stream.write_all(&case.request);
    let response = read_response(&mut stream, case.request.starts_with(b"HEAD "))?;
    let body = response.body_text();
    if response.status != case.status {
        return Err(format!("status {} instead of {}; body {:?}", response.status, case.status, lossy(&response.body)));
    }
    if !body.contains(case.phrase) {
        return Err(format!("body {:?} lacks {:?}", lossy(&response.body), case.phrase));
    }
    if let Some((name, value)) = case.header {
        let got = response.header(name);
        if got.as_deref() != Some(value) {
            return Err(format!("header {name}: {got:?} instead of {value:?}"));
        }
    }
    // The answer may carry more than one Connection line (a 426 also says `Connection: Upgrade`):
    // their options form one list (RFC 9110 §5.3).
    let options = connection_options(&response);
    match case.after {
        Closes => {
            if !options.iter().any(|o| o == "close") {
                return Err(format!("Connection options {options:?} lack close"));
            }
            expect_closed(&mut stream)
        }
        KeepsAlive => {
            if !options.iter().any(|o| o == "keep-alive") || options.iter().any(|o| o == "close") {
                return Err(format!("Connection options {options:?} instead of keep-alive"));
            }
            healthz_on(&mut stream).map_err(|e| format!("the same connection is out of step: {e}"))
        }
    }
}

/// Every option of every `Connection` line of `response`, lower-cased.
fn connection_options(response: &RawResponse) -> Vec<String> {
    response
        .head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("Connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|option| option.trim().to_ascii_lowercase())
        .collect()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

/// The end of every test: a WebSocket member joins a room, says something, and hears it back.
fn assert_chat_round_trip(server: &TestServer, room: &str) {
    let (mut client, _) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect")));
    client.say_json("still chatting");
    let message = client.recv_message();
    assert_eq!(message.text, "still chatting", "{message:?}");
    assert!(!server.log().contains("panic"), "the server panicked:\n{}", server.log());
}

#[test]
fn malformed_http_requests_get_specific_answers() {
    let server = TestServer::start(&["--max-per-ip", "0", "--memory"]);
    let cases = http_cases(server.addr);
    assert!(cases.len() >= 45, "the corpus has only {} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");

    let mut failures = Vec::new();
    for case in &cases {
        let result = run_http_case(server.addr, case).and_then(|()| still_serves(server.addr));
        if let Err(why) = result {
            failures.push(format!("  {} (expected {}): {why}", case.name, case.status));
        }
    }
    assert!(failures.is_empty(), "{} of {} HTTP cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_chat_round_trip(&server, "after-http");
}

#[test]
fn junk_pipelined_after_a_valid_request_is_refused_after_answering_it() {
    let server = TestServer::start(&["--max-per-ip", "0", "--memory"]);
    let healthz = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    let healthz = healthz.as_bytes();
    let cases: [(&str, Vec<u8>, u16, &str); 3] = [
        ("TLS junk", [healthz, &tls_client_hello()].concat(), 400, MALFORMED),
        ("an HTTP/2 preface", [healthz, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"].concat(), 505, VERSION),
        ("a header without a colon", [healthz, b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"].concat(), 400, BAD_HEADER),
    ];
    for (name, bytes, status, phrase) in cases {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(&bytes).unwrap();
        let first = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: first answer: {e}"));
        assert_eq!((first.status, first.body_text().as_str()), (200, "ok\n"), "{name}: first answer");
        let second = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: second answer: {e}"));
        assert_eq!(second.status, status, "{name}: second answer: {}", second.body_text());
        assert!(second.body_text().contains(phrase), "{name}: {}", second.body_text());
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
        still_serves(server.addr).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_chat_round_trip(&server, "after-pipelining");
}

/// Sends `bytes` and returns the open stream.
fn open_and_send(addr: SocketAddr, bytes: &[u8]) -> (TcpStream, Instant) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(bytes).unwrap();
    (stream, Instant::now())
}

#[test]
fn slow_silent_and_truncated_heads() {
    let server = TestServer::start(&["--head-timeout", "1", "--max-per-ip", "0", "--memory"]);
    let addr = server.addr;
    let deadline = Duration::from_secs(1);
    // Deadlines are measured from the first byte; allow for timer granularity below it.
    let at_least = deadline - Duration::from_millis(50);

    // All the slow ones start together, so their deadlines run out together.
    let partial = open_and_send(addr, format!("GET / HTTP/1.1\r\nHost: {addr}\r\n").as_bytes());
    let blank_lines = open_and_send(addr, b"\r\n\r\n");
    let silent = open_and_send(addr, b"");
    // A slowloris that keeps sending: one byte, then up to 100 ms for an answer, and again. The
    // deadline runs from the first byte, so the bytes that keep coming must not extend it.
    let dribbler = thread::spawn(move || {
        let head = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Slow: {}\r\n\r\n", "a".repeat(500));
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let started = Instant::now();
        let mut peek = [0u8; 1];
        for (sent, byte) in head.bytes().enumerate() {
            stream.write_all(&[byte]).unwrap();
            match stream.peek(&mut peek) {
                Ok(_) => return (stream, started, sent + 1),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("dribbler: {e}"),
            }
            assert!(started.elapsed() < TIMEOUT, "the slowloris head was never cut off");
        }
        panic!("the whole slow head was accepted: the deadline did not hold");
    });

    // Heads cut short by the client: closed at once, with no answer (nobody is left to read one).
    let truncated = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, bytes) in [("truncated head", truncated.as_bytes()), ("nothing at all", b"")] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(bytes).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // Meanwhile a normal client is served.
    still_serves(addr).unwrap();

    for (name, (mut stream, started)) in [("partial head", partial), ("only blank lines", blank_lines)] {
        let response = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(started.elapsed() >= at_least, "{name}: answered before the deadline");
        assert_eq!(response.status, 408, "{name}: {}", response.body_text());
        assert_eq!(response.body_text(), "Request head not received in time.\n", "{name}");
        assert_eq!(response.header("Connection").as_deref(), Some("close"), "{name}");
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // A connection that never sends a byte is closed quietly when its wait runs out.
    let (mut stream, started) = silent;
    expect_closed(&mut stream).unwrap_or_else(|e| panic!("silent connection: {e}"));
    assert!(started.elapsed() >= at_least, "silent connection closed before its time");

    let (mut stream, started, sent) = dribbler.join().unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let response = read_response(&mut stream, false).unwrap_or_else(|e| panic!("slowloris: {e}"));
    assert_eq!(response.status, 408, "slowloris: {}", response.body_text());
    assert!(started.elapsed() >= at_least, "slowloris cut off before the deadline");
    assert!(sent < 200, "slowloris sent {sent} bytes before being cut off");
    expect_closed(&mut stream).unwrap_or_else(|e| panic!("slowloris: {e}"));

    still_serves(addr).unwrap();
    assert_chat_round_trip(&server, "after-slow-heads");
}

// ---------------------------------------------------------------------------------------------
// WebSocket frames, written byte by byte after a valid handshake
// ---------------------------------------------------------------------------------------------

/// The masking key of every client frame here (RFC 6455 §5.7's example key).
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame header with `byte0` (FIN, RSV, opcode) and a payload length, masked or not; the length
/// takes 7, 7+16 or 7+64 bits as §5.2 says.
fn frame_header(byte0: u8, len: u64, masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![byte0];
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
    }
    out
}

/// A masked client frame.
fn frame(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(byte0, payload.len() as u64, true);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// An unmasked frame, which only a server may send.
fn unmasked(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(byte0, payload.len() as u64, false);
    out.extend_from_slice(payload);
    out
}

/// A masked Close frame with `code` and `reason` bytes.
fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    frame(0x88, &[&code.to_be_bytes()[..], reason].concat())
}

/// Byte 0 of a frame: FIN, then the opcode.
const FIN: u8 = 0x80;
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// One hostile frame sequence and the Close the server must answer it with.
struct FrameCase {
    name: &'static str,
    bytes: Vec<u8>,
    /// The status code of the server's Close frame; `None` for a Close without a payload.
    code: Option<u16>,
    /// A phrase of the Close frame's reason.
    reason: &'static str,
}

fn ws(name: &'static str, bytes: Vec<u8>, code: Option<u16>, reason: &'static str) -> FrameCase {
    FrameCase { name, bytes, code, reason }
}

const PROTOCOL_ERROR: Option<u16> = Some(1002);
const UNSUPPORTED: Option<u16> = Some(1003);
const INVALID_DATA: Option<u16> = Some(1007);
const TOO_BIG: Option<u16> = Some(1009);
const BAD_UTF8: &str = "invalid UTF-8";
/// tungstenite's answer to a Close with a code no endpoint may send (§7.4.1, §7.4.2).
const BAD_CLOSE_CODE: &str = "Protocol violation";

/// The corpus of illegal frames; the server runs with the default `--max-message` of 65536.
#[rustfmt::skip]
fn frame_cases() -> Vec<FrameCase> {
    vec![
        ws("unmasked client frame", unmasked(FIN | TEXT, b"hi"), PROTOCOL_ERROR, "unmasked frame"),
        ws("RSV1 set without an extension", frame(FIN | 0x40 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("RSV2 set", frame(FIN | 0x20 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("RSV3 set", frame(FIN | 0x10 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("reserved data opcode 3", frame(FIN | 0x3, b"hi"), PROTOCOL_ERROR, "invalid opcode: 3"),
        ws("reserved data opcode 7", frame(FIN | 0x7, b""), PROTOCOL_ERROR, "invalid opcode: 7"),
        ws("reserved control opcode 0xB", frame(FIN | 0xB, b"hi"), PROTOCOL_ERROR, "invalid opcode: 11"),
        ws("reserved control opcode 0xF", frame(FIN | 0xF, b""), PROTOCOL_ERROR, "invalid opcode: 15"),
        ws("continuation without a start", frame(FIN | CONTINUATION, b"hi"), PROTOCOL_ERROR, "nothing to continue"),
        ws("new text frame inside a fragmented message", [frame(TEXT, b"a"), frame(FIN | TEXT, b"b")].concat(), PROTOCOL_ERROR, "While waiting for more fragments"),
        ws("new binary frame inside a fragmented message", [frame(TEXT, b"a"), frame(FIN | BINARY, b"b")].concat(), PROTOCOL_ERROR, "While waiting for more fragments"),
        ws("fragmented ping (FIN=0)", frame(PING, b"x"), PROTOCOL_ERROR, "Fragmented control frame"),
        ws("fragmented close (FIN=0)", frame(CLOSE, &1000u16.to_be_bytes()), PROTOCOL_ERROR, "Fragmented control frame"),
        ws("ping with 126 bytes of payload", frame(FIN | PING, &[b'x'; 126]), PROTOCOL_ERROR, "Control frame too big"),
        ws("close with 126 bytes of payload", close_frame(1000, &[b'x'; 124]), PROTOCOL_ERROR, "Control frame too big"),
        ws("close with a 1-byte payload", frame(FIN | CLOSE, &[0x03]), PROTOCOL_ERROR, "Invalid close sequence"),
        ws("close code 0", close_frame(0, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 999", close_frame(999, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1004 (reserved)", close_frame(1004, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1005 (never on the wire)", close_frame(1005, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1006 (never on the wire)", close_frame(1006, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1015 (never on the wire)", close_frame(1015, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1016 (unassigned)", close_frame(1016, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 2999 (unassigned)", close_frame(2999, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 5000", close_frame(5000, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 65535", close_frame(65535, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close reason with invalid UTF-8", close_frame(1000, b"bye\xff\xfe"), INVALID_DATA, BAD_UTF8),
        ws("text with invalid UTF-8", frame(FIN | TEXT, b"hi\xff\xfe"), INVALID_DATA, BAD_UTF8),
        ws("text with an overlong encoding", frame(FIN | TEXT, b"\xc0\xaf"), INVALID_DATA, BAD_UTF8),
        ws("text with a UTF-16 surrogate", frame(FIN | TEXT, b"\xed\xa0\x80"), INVALID_DATA, BAD_UTF8),
        ws("text beyond U+10FFFF", frame(FIN | TEXT, b"\xf4\x90\x80\x80"), INVALID_DATA, BAD_UTF8),
        ws("fragmented text, UTF-8 broken at the end", [frame(TEXT, b"a\xe2\x82"), frame(FIN | CONTINUATION, b"")].concat(), INVALID_DATA, BAD_UTF8),
        // Fails fast: the bad byte is in the first fragment, and no further fragment is sent.
        ws("fragmented text, invalid in the first fragment", frame(TEXT, b"a\xff"), INVALID_DATA, BAD_UTF8),
        // Only the header is sent: the answer must come before any of the payload.
        ws("64-bit length of 1 TiB, header only", frame_header(FIN | BINARY, 1 << 40, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("64-bit length with the top bit set, header only", frame_header(FIN | TEXT, 1 << 63, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("length one over --max-message, header only", frame_header(FIN | TEXT, 65_537, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("fragments that together exceed --max-message", [frame(TEXT, &[b'a'; 40_000]), frame(FIN | CONTINUATION, &[b'a'; 40_000])].concat(), TOO_BIG, "the limit is 65536 bytes"),
        // Finding (issue 12): tungstenite bounds a message's size, and empty continuation frames
        // have none, so this message never ended and was never counted: a core busy for 10 s.
        ws("endless empty continuation frames", [frame(TEXT, b"a"), frame(CONTINUATION, b"").repeat(40_000)].concat(), TOO_BIG, "its frames passed"),
        ws("endless empty continuation frames between pings", [frame(TEXT, b"a"), [frame(CONTINUATION, b""), frame(FIN | PING, b"")].concat().repeat(20_000)].concat(), TOO_BIG, "its frames passed"),
        ws("binary message in a chat room", frame(FIN | BINARY, &[1, 2, 3]), UNSUPPORTED, "binary messages are not accepted"),
        ws("empty binary message in a chat room", frame(FIN | BINARY, b""), UNSUPPORTED, "binary messages are not accepted"),
        ws("fragmented binary message in a chat room", [frame(BINARY, &[1]), frame(FIN | CONTINUATION, &[2])].concat(), UNSUPPORTED, "binary messages are not accepted"),
        // Controls: a valid Close is echoed with its code (§5.5.1), an empty one with an empty one.
        ws("close 1000 with a reason", close_frame(1000, b"bye"), Some(1000), "bye"),
        ws("close 3000 (registered range)", close_frame(3000, b""), Some(3000), ""),
        ws("close 4999 (private range)", close_frame(4999, b""), Some(4999), ""),
        ws("close without a payload", frame(FIN | CLOSE, b""), None, ""),
    ]
}

/// Reads one frame from the server: (byte 0, payload). Server frames are never masked.
fn read_frame(stream: &mut TcpStream) -> Result<(u8, Vec<u8>), String> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).map_err(|e| format!("reading a frame header: {e}"))?;
    if head[1] & 0x80 != 0 {
        return Err("the server masked a frame (RFC 6455 §5.1 forbids it)".into());
    }
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).map_err(|e| format!("reading a 16-bit length: {e}"))?;
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).map_err(|e| format!("reading a 64-bit length: {e}"))?;
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).map_err(|e| format!("reading {len} bytes of payload: {e}"))?;
    Ok((head[0], payload))
}

/// Opens a WebSocket to `path` by hand and reads the 101 and the welcome frame, so that what is
/// written next is exactly what the test wants on the wire.
fn raw_websocket(addr: SocketAddr, path: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("sending the handshake: {e}"))?;
    let response = read_response(&mut stream, true)?;
    if response.status != 101 || response.header("Sec-WebSocket-Accept").as_deref() != Some(ACCEPT) {
        return Err(format!("handshake refused: {}", response.head));
    }
    let (byte0, _) = read_frame(&mut stream).map_err(|e| format!("welcome: {e}"))?;
    if byte0 != FIN | TEXT {
        return Err(format!("welcome frame starts with {byte0:#04x}, not a final text frame"));
    }
    Ok(stream)
}

fn run_frame_case(addr: SocketAddr, room: &str, case: &FrameCase) -> Result<(), String> {
    let mut stream = raw_websocket(addr, &format!("/r/{room}/connect"))?;
    // The server may close before it has read everything; its Close frame is what counts.
    let _ = stream.write_all(&case.bytes);
    // Pongs answer the case's Pings (RFC 6455 §5.5.2), if it has any; then comes the Close.
    let (byte0, payload) = loop {
        match read_frame(&mut stream)? {
            (byte0, _) if byte0 == FIN | PONG => {}
            frame => break frame,
        }
    };
    if byte0 != FIN | CLOSE {
        return Err(format!("first frame {byte0:#04x} {:?} instead of a Close", lossy(&payload)));
    }
    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
    if code != case.code {
        return Err(format!("close code {code:?} instead of {:?} (reason {reason:?})", case.code));
    }
    if !reason.contains(case.reason) {
        return Err(format!("close reason {reason:?} lacks {:?}", case.reason));
    }
    expect_closed(&mut stream).map_err(|e| format!("after the Close: {e}"))
}

#[test]
fn hostile_websocket_frames_get_specific_close_codes() {
    let server = TestServer::start(&["--max-per-ip", "0", "--rate-limit", "0", "--memory"]);
    let cases = frame_cases();
    assert!(cases.len() >= 40, "the corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        // A room per case, so that no case hears another's members leave.
        let result = run_frame_case(server.addr, &format!("frames-{i}"), case).and_then(|()| still_serves(server.addr));
        if let Err(why) = result {
            failures.push(format!("  {} (expected close {:?}): {why}", case.name, case.code));
        }
    }
    assert!(failures.is_empty(), "{} of {} frame cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_chat_round_trip(&server, "after-frames");
}

// ---------------------------------------------------------------------------------------------
// Chat payloads: well-formed frames with odd contents get a notice, and the socket stays open
// ---------------------------------------------------------------------------------------------

/// What a chat payload leads to.
enum Outcome {
    /// An error notice to the sender only, containing this phrase.
    Notice(&'static str),
    /// Relayed as a message with exactly this text.
    Relayed(String),
    /// Nothing at all (a blank message).
    Ignored,
}

const NOT_CHAT_JSON: &str = "Could not read that message";

#[rustfmt::skip]
fn payload_cases() -> Vec<(&'static str, String, Outcome)> {
    use Outcome::{Ignored, Notice, Relayed};
    // Well-formed chat JSON, as a client writes it, just too long (or not quite).
    let long = |text: String| json::to_text(&Said { message: text.into() });
    vec![
        ("10,000 nested arrays", "[".repeat(10_000), Notice(NOT_CHAT_JSON)),
        ("10,000 nested arrays as the message", format!(r#"{{"message":{}"#, "[".repeat(10_000)), Notice(NOT_CHAT_JSON)),
        ("10,000 nested objects in an ignored field", format!(r#"{{"message":"x","junk":{}"#, r#"{"a":"#.repeat(10_000)), Notice(NOT_CHAT_JSON)),
        ("number out of range as the message", r#"{"message": 1e999999}"#.into(), Notice(NOT_CHAT_JSON)),
        ("huge integer as the message", format!(r#"{{"message": {}}}"#, "9".repeat(5_000)), Notice(NOT_CHAT_JSON)),
        // An ignored field is skipped without evaluating it.
        ("huge number in an ignored field", format!(r#"{{"message":"big numbers","n":1e999999,"m":{}}}"#, "9".repeat(5_000)), Relayed("big numbers".into())),
        ("null message", r#"{"message": null}"#.into(), Notice(NOT_CHAT_JSON)),
        ("number message", r#"{"message": 5}"#.into(), Notice(NOT_CHAT_JSON)),
        ("array message", r#"{"message": ["a"]}"#.into(), Notice(NOT_CHAT_JSON)),
        ("object message", r#"{"message": {"text": "a"}}"#.into(), Notice(NOT_CHAT_JSON)),
        ("no message field", r#"{"text": "hi"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("duplicate message fields", r#"{"message":"x","message":"y"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("lone UTF-16 surrogate escape", r#"{"message":"\ud800"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("trailing junk after the object", r#"{"message":"a"} x"#.into(), Notice(NOT_CHAT_JSON)),
        ("byte order mark before the object", "\u{feff}{\"message\":\"a\"}".into(), Notice(NOT_CHAT_JSON)),
        ("empty frame", String::new(), Notice(NOT_CHAT_JSON)),
        ("bare JSON null", "null".into(), Notice(NOT_CHAT_JSON)),
        ("plain text, not JSON", "hello there".into(), Notice(NOT_CHAT_JSON)),
        ("2,001 characters", long("x".repeat(2001)), Notice("it is 2001 characters long, and the limit is 2000")),
        ("2,000 characters", long("x".repeat(2000)), Relayed("x".repeat(2000))),
        ("2,001 two-byte characters", long("é".repeat(2001)), Notice("it is 2001 characters long, and the limit is 2000")),
        ("blank message", r#"{"message":"   \n\t "}"#.into(), Ignored),
        // Line breaks and tabs are kept, CR LF is LF; any other control character is refused
        // (it would not show on the page, and in a terminal an ESC can clear the screen).
        ("control characters", r#"{"message":"a\u0000b\u0007c\u001b[2Jd"}"#.into(), Notice("control character U+0000")),
        ("an escape sequence", r#"{"message":"\u001b[2Jcleared"}"#.into(), Notice("control character U+001B")),
        ("a C1 control", r#"{"message":"a\u009bb"}"#.into(), Notice("control character U+009B")),
        ("lines and a tab", r#"{"message":"one\ntwo\tcols\r\nthree"}"#.into(), Relayed("one\ntwo\tcols\nthree".into())),
        ("__proto__ key beside the message", r#"{"__proto__":{"message":"polluted"},"message":"real"}"#.into(), Relayed("real".into())),
        ("__proto__ key alone", r#"{"__proto__":{"message":"polluted"}}"#.into(), Notice(NOT_CHAT_JSON)),
        ("constructor.prototype key", r#"{"constructor":{"prototype":{"admin":true}},"message":"ctor"}"#.into(), Relayed("ctor".into())),
    ]
}

/// The next text frame, failing with the case's name if none comes.
fn next_text(client: &mut Client, case: &str) -> String {
    match client.recv_within(TIMEOUT) {
        Some(Message::Text(text)) => text.to_string(),
        other => panic!("{case}: expected a text frame, got {other:?}"),
    }
}

#[test]
fn hostile_chat_payloads_get_notices_and_the_socket_stays_open() {
    let server = TestServer::start(&["--max-per-ip", "0", "--rate-limit", "0", "--memory"]);
    let cases = payload_cases();

    // As a JSON client: each answer is one event.
    let (mut json, _) = Client::join_json(&server.ws_url("/r/payloads-json/connect"));
    for (i, (name, payload, outcome)) in cases.iter().enumerate() {
        json.send_text(payload);
        match outcome {
            Outcome::Notice(phrase) => {
                let event = parse_event(&next_text(&mut json, name));
                assert!(matches!(&event, Event::Error { text } if text.contains(phrase)), "{name}: {event:?}");
            }
            Outcome::Relayed(text) => {
                let event = parse_event(&next_text(&mut json, name));
                assert!(matches!(&event, Event::Message(m) if m.text == *text), "{name}: {event:?}");
            }
            Outcome::Ignored => {}
        }
        // The socket stays open and the next valid message goes through; it is also the very next
        // event, so nothing else was sent for the case.
        let follow = format!("round trip {i}");
        json.say_json(&follow);
        let event = parse_event(&next_text(&mut json, name));
        assert!(matches!(&event, Event::Message(m) if m.text == follow), "{name}: {event:?}");
    }

    // As the page (HTML fragments): notices go to the notice box, escaped.
    let (mut page, _) = Client::join(&server.ws_url("/r/payloads-html/connect"));
    for (i, (name, payload, outcome)) in cases.iter().enumerate() {
        page.send_text(payload);
        match outcome {
            Outcome::Notice(phrase) => {
                let fragment = next_text(&mut page, name);
                assert!(
                    fragment.starts_with(r#"<p id="notice" hx-swap-oob="true" class="notice error""#),
                    "{name}: {fragment}"
                );
                assert!(fragment.contains(phrase), "{name}: {fragment}");
            }
            Outcome::Relayed(text) => {
                let fragment = next_text(&mut page, name);
                assert!(fragment.starts_with(r#"<ul id="messages""#), "{name}: {fragment}");
                assert!(fragment.contains(text.as_str()), "{name}: {fragment}");
            }
            Outcome::Ignored => {}
        }
        let follow = format!("page round trip {i}");
        page.say(&follow);
        let fragment = next_text(&mut page, name);
        assert!(fragment.starts_with(r#"<ul id="messages""#) && fragment.contains(&follow), "{name}: {fragment}");
    }

    still_serves(server.addr).unwrap();
    assert_chat_round_trip(&server, "after-payloads");
}
