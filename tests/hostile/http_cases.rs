//! The raw HTTP corpus: each malformed request, and the answer it must get.

use super::*;

/// What happens to the connection after the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// `Connection: close`, and the server closes: after such a request the stream may be out of
    /// step, so nothing more may be read from it.
    Closes,
    /// `Connection: keep-alive`, and the next request on the same connection is answered: the
    /// parser stayed in step.
    KeepsAlive,
}
pub(crate) use After::{Closes, KeepsAlive};

/// One malformed request and the answer it must get.
pub(crate) struct HttpCase {
    pub(crate) name: &'static str,
    pub(crate) request: Vec<u8>,
    pub(crate) status: u16,
    /// A phrase the body must contain ("" to skip: HEAD answers have no body).
    pub(crate) phrase: &'static str,
    /// A header the answer must carry, with this exact value.
    pub(crate) header: Option<(&'static str, &'static str)>,
    pub(crate) after: After,
}

pub(crate) fn http(
    name: &'static str,
    request: impl Into<Vec<u8>>,
    status: u16,
    phrase: &'static str,
    after: After,
) -> HttpCase {
    HttpCase { name, request: request.into(), status, phrase, header: None, after }
}

impl HttpCase {
    pub(crate) fn with_header(mut self, name: &'static str, value: &'static str) -> HttpCase {
        self.header = Some((name, value));
        self
    }
}

/// RFC 6455 §1.3's example key; its accept value is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
pub(crate) const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The upgrade headers of a valid handshake, without the key.
pub(crate) const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

/// `request_line`, `Host: ADDR`, then `headers` (each line ending in CRLF), then the blank line.
pub(crate) fn request_to(addr: SocketAddr, request_line: &str, headers: &str) -> Vec<u8> {
    format!("{request_line}\r\nHost: {addr}\r\n{headers}\r\n").into_bytes()
}

/// `n` bytes of deterministic junk (xorshift), standing in for random binary.
pub(crate) fn junk(n: usize) -> Vec<u8> {
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
pub(crate) fn tls_client_hello() -> Vec<u8> {
    let mut hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    hello.extend_from_slice(&junk(32)); // client random
    hello.extend_from_slice(&[0x20]); // session id length
    hello.extend_from_slice(&junk(32));
    hello.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0x13, 0x02, 0x01, 0x00]);
    hello
}

/// `n` header lines: `X-H0: v`, `X-H1: v`, ...
pub(crate) fn header_lines(n: usize) -> String {
    (0..n).map(|i| format!("X-H{i}: v\r\n")).collect()
}

pub(crate) const MALFORMED: &str = "Malformed request";
pub(crate) const BAD_HEADER: &str = "Malformed request: invalid header.";
pub(crate) const NOT_ORIGIN_FORM: &str = "request target must start with /";
pub(crate) const VERSION: &str = "Only HTTP/1.0 and HTTP/1.1 are spoken here.";
pub(crate) const TOO_LARGE: &str = "Request head too large";
pub(crate) const NOT_FOUND: &str = "Nothing at ";
pub(crate) const BAD_ROOM: &str = "is not a valid room name";
pub(crate) const BODY_ON_GET: &str = "A GET request must not have a body.";
pub(crate) const DUPLICATE_LENGTH: &str = "Duplicate Content-Length headers.";
pub(crate) const PLAIN_LENGTH: &str = "Content-Length must be a number in plain digits.";
pub(crate) const TRANSFER_ENCODING: &str = "Transfer-Encoding is not accepted";
pub(crate) const BAD_KEY: &str = "Malformed Sec-WebSocket-Key";
pub(crate) const NOT_A_WEBSOCKET: &str = "This is a WebSocket endpoint";
pub(crate) const BAD_VERSION_WS: &str = "Unsupported Sec-WebSocket-Version";
pub(crate) const ONE_HOST: &str = "needs exactly one Host header.";
pub(crate) const BAD_HOST: &str = "Malformed request: invalid Host header.";
pub(crate) const MISDIRECTED: &str =
    "does not answer for rebind.evil.example; to serve it under that name, start it with --allow-host";
pub(crate) const CROSS_ORIGIN: &str = "Cross-origin WebSocket refused";

/// The corpus of malformed HTTP requests and WebSocket handshakes, for the server at `addr`.
#[rustfmt::skip]
pub(crate) fn http_cases(addr: SocketAddr) -> Vec<HttpCase> {
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
