//! The WebSocket opening handshake, server side, by hand (RFC 6455 §4.2).
//!
//! A WebSocket starts life as an ordinary HTTP/1.1 GET with a few special headers. If they are
//! right, the server answers `101 Switching Protocols`, and from the next byte on both sides speak
//! WebSocket frames on the same TCP connection. This module checks the request (§4.2.1) and builds
//! the 101 answer (§4.2.2). It is small enough to read in one sitting, which is why we do it
//! ourselves instead of enabling tungstenite's `handshake` feature.

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::http::head::Request;
use crate::http::response::Response;

/// The GUID that RFC 6455 §1.3 appends to the client's key. Its only job is to prove that the
/// server understood the WebSocket handshake, rather than being some HTTP server that happens to
/// echo headers.
const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// An accepted upgrade: what the 101 response must say.
#[derive(Debug, PartialEq, Eq)]
pub struct Upgrade {
    /// `Sec-WebSocket-Accept`: base64(SHA-1(key + GUID)).
    pub accept: String,
    /// The subprotocol we picked from the client's offer, if any (§4.2.2 point 5, /subprotocol/).
    pub protocol: Option<&'static str>,
}

/// Computes `Sec-WebSocket-Accept` from the client's `Sec-WebSocket-Key` (§4.2.2 point 5.4):
/// append the GUID of §1.3 to the key, hash that with SHA-1, base64-encode the 20-byte digest.
///
/// The client checks the answer, which proves that the server understood a WebSocket handshake
/// (anyone can compute it, so it proves nothing else). With the RFC's own example:
///
/// ```
/// use chatroom::ws::handshake::accept_key;
///
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(client_key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(client_key.as_bytes());
    sha1.update(WEBSOCKET_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// Checks an upgrade request (§4.2.1), choosing among `subprotocols` (the ones the server
/// speaks) the first that the client offers. On failure returns the HTTP response to send instead:
/// 426 when the client did not ask for a WebSocket (or asked for a version we do not speak),
/// 400 when it asked but the request is malformed.
pub fn validate(request: &Request, subprotocols: &[&'static str]) -> Result<Upgrade, Response> {
    // §4.2.1 points 3 and 4: "Upgrade: websocket" and "Connection: Upgrade". Without them this is
    // a plain GET, perhaps a person who typed the URL into a browser: tell them what this is.
    if !request.has_token("Upgrade", "websocket") || !request.has_token("Connection", "upgrade") {
        return Err(Response::text(
            426,
            "This is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket).",
        )
        .with_header("Upgrade", "websocket"));
    }
    // Point 1: an HTTP/1.1 (or higher) GET. The method was checked by the router.
    if request.minor_version < 1 {
        return Err(Response::text(400, "WebSocket upgrade needs HTTP/1.1.").closing());
    }
    // Point 2: a Host header.
    if request.header_count("Host") != 1 {
        return Err(Response::text(400, "WebSocket upgrade needs exactly one Host header.").closing());
    }
    // Point 6: version 13, the only one in the RFC. §4.4: otherwise answer with the versions we
    // support, so that the client can retry with one of them.
    if request.header_str("Sec-WebSocket-Version") != Some("13") || request.header_count("Sec-WebSocket-Version") != 1 {
        return Err(Response::text(
            426,
            "Unsupported Sec-WebSocket-Version: this server speaks version 13 (RFC 6455).",
        )
        .with_header("Sec-WebSocket-Version", "13"));
    }
    // Point 5: a key that is base64 of 16 bytes (a nonce), sent once.
    let key = match request.header_str("Sec-WebSocket-Key") {
        Some(key) if request.header_count("Sec-WebSocket-Key") == 1 && is_valid_key(key) => key,
        _ => {
            return Err(
                Response::text(400, "Malformed Sec-WebSocket-Key: it must be base64 of 16 bytes, sent once.").closing()
            )
        }
    };
    // Point 8 (optional): subprotocols, in the client's order of preference; we pick the first
    // that we speak, or none (then the client gets the server's default dialect).
    let protocol = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Protocol"))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .find_map(|offered| subprotocols.iter().copied().find(|ours| *ours == offered.trim()));
    Ok(Upgrade { accept: accept_key(key), protocol })
}

/// Whether `key` is the base64 encoding of exactly 16 bytes (§4.1 point 7, §4.2.1 point 5).
fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && base64::engine::general_purpose::STANDARD.decode(key).is_ok_and(|bytes| bytes.len() == 16)
}

impl Upgrade {
    /// The complete 101 response (§4.2.2 point 5). After these bytes the connection speaks frames.
    ///
    /// ```
    /// use chatroom::ws::handshake::{accept_key, Upgrade};
    ///
    /// let upgrade = Upgrade { accept: accept_key("dGhlIHNhbXBsZSBub25jZQ=="), protocol: None };
    /// assert_eq!(
    ///     upgrade.response_bytes(),
    ///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    /// );
    /// ```
    pub fn response_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(160);
        out.push_str(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
        );
        out.push_str(&self.accept);
        out.push_str("\r\n");
        if let Some(protocol) = self.protocol {
            out.push_str("Sec-WebSocket-Protocol: ");
            out.push_str(protocol);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subprotocols the server offers to speak.
    const OURS: &[&str] = &["chatroom.json"];

    fn request(extra: &[(&str, &str)]) -> Request {
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("Host".into(), b"example".to_vec()),
            ("Upgrade".into(), b"websocket".to_vec()),
            ("Connection".into(), b"keep-alive, Upgrade".to_vec()),
            ("Sec-WebSocket-Version".into(), b"13".to_vec()),
        ];
        for (name, value) in extra {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if !value.is_empty() {
                headers.push((name.to_string(), value.as_bytes().to_vec()));
            }
        }
        Request { method: "GET".into(), path: "/connect".into(), query: String::new(), minor_version: 1, headers }
    }

    #[test]
    fn rfc_6455_example_key() {
        // RFC 6455 §1.3.
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn accepts_a_valid_upgrade_and_picks_the_json_protocol() {
        let up = validate(&request(&[("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]), OURS).unwrap();
        assert_eq!(up.protocol, None);
        let up = validate(
            &request(&[
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Protocol", "x, chatroom.json"),
            ]),
            OURS,
        )
        .unwrap();
        assert_eq!(up.protocol, Some("chatroom.json"));
        let text = String::from_utf8(up.response_bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: chatroom.json\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn rejects_what_the_rfc_rejects() {
        let key = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(validate(&request(&[key, ("Upgrade", "")]), OURS).unwrap_err().status, 426);
        let wrong_version = validate(&request(&[key, ("Sec-WebSocket-Version", "8")]), OURS).unwrap_err();
        assert_eq!(wrong_version.status, 426);
        assert!(wrong_version.headers.iter().any(|(n, v)| *n == "Sec-WebSocket-Version" && v == "13"));
        assert_eq!(validate(&request(&[("Sec-WebSocket-Key", "short")]), OURS).unwrap_err().status, 400);
        assert_eq!(
            validate(&request(&[("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA")]), OURS).unwrap_err().status,
            400
        );
        assert_eq!(validate(&request(&[]), OURS).unwrap_err().status, 400);
        assert_eq!(validate(&request(&[key, ("Host", "")]), OURS).unwrap_err().status, 400);
    }
}
