//! Reading one HTTP/1.1 request head from a socket, with a size cap and a deadline.
//!
//! A request head is everything up to the blank line (RFC 9112 §2.1). We read it into a buffer
//! and let `httparse` parse it; we never trust the peer to be quick or brief:
//! - **size cap** (16 KiB): a head that does not end within it gets 431;
//! - **deadline** (10 s from its first byte): a head that dribbles in slowly gets 408. Without it,
//!   a slowloris client could hold a thread forever by sending one byte every few seconds;
//! - **idle wait** between keep-alive requests: an idle connection is closed quietly;
//! - **no re-parsing**: a head dribbled in one byte at a time is not parsed once per byte
//!   ([`Scan`]), which made each such head cost its size squared.
//!
//! Bytes that arrive after the head stay in the buffer: they are the next pipelined request or,
//! after a WebSocket upgrade, the first WebSocket frames, which belong to tungstenite.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Most header lines we parse; more is 431 like an oversized head.
const MAX_HEADERS: usize = 64;

/// Limits for reading one head.
#[derive(Clone, Copy, Debug)]
pub struct HeadLimits {
    /// Largest head, in bytes.
    pub max_bytes: usize,
    /// Time allowed from the first byte of the head to its end.
    pub deadline: Duration,
    /// Time allowed for the first byte to arrive (the keep-alive idle timeout).
    pub idle: Duration,
}

/// A parsed request head. Header names keep their case; look them up with [`Request::header`].
#[derive(Debug, Clone)]
pub struct Request {
    /// The method, as sent (`GET`, `HEAD`, ...).
    pub method: String,
    /// The path part of the request target (before any `?`), as sent, not decoded.
    pub path: String,
    /// The query string without the `?`, as sent; empty if none.
    pub query: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Every header in the order sent: its name as sent, and its raw value (not always UTF-8).
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Why no request could be read.
#[derive(Debug)]
pub enum HeadError {
    /// The peer closed the connection, or stayed idle, before sending a byte: close quietly.
    Idle,
    /// The head did not end within the size cap (or had too many header lines): 431.
    TooLarge,
    /// The head did not end before the deadline: 408.
    Timeout,
    /// Not HTTP/1.x (an HTTP/2 preface, HTTP/0.9, binary junk): 505 or 400, with the reason.
    BadVersion,
    /// Malformed: 400, with the reason.
    Malformed(&'static str),
    /// The connection failed, or closed mid-head.
    Io(io::Error),
}

impl Request {
    /// The value of the first header called `name` (case-insensitive), as bytes.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// The value of the first header called `name`, if it is valid UTF-8, trimmed.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok()).map(str::trim)
    }

    /// How many headers are called `name`.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }

    /// Whether any `name` header lists `token` among its comma-separated values, ignoring case
    /// (e.g. `Connection: keep-alive, Upgrade` has the token `upgrade`).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client wants the connection kept open after the response (RFC 9112 §9.3):
    /// HTTP/1.1 unless it says `close`, HTTP/1.0 only if it says `keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.minor_version >= 1 {
            !self.has_token("Connection", "close")
        } else {
            self.has_token("Connection", "keep-alive")
        }
    }

    /// The value of cookie `name` (from any `Cookie` header), percent-decoded.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Cookie"))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .find_map(|v| pair_value(v, ';', name))
            .and_then(|v| percent_decode(v.trim_end()))
    }

    /// The value of query parameter `name`, if present, percent-decoded (`+` is a space). A value
    /// that does not decode is kept as sent, with U+FFFD for bytes that are not UTF-8, so that
    /// "present but garbled" is refused by whoever validates it instead of passing as "absent".
    pub fn query_param(&self, name: &str) -> Option<String> {
        pair_value(&self.query, '&', name).map(|v| percent_decode(v).unwrap_or_else(|| decode_lossy(v)))
    }
}

/// The raw value of `name` in a `name=value` list split by `separator`: a query string or a form
/// body (`&`), or a Cookie header (`;`). A bare `name` has the empty value.
pub fn pair_value<'a>(list: &'a str, separator: char, name: &str) -> Option<&'a str> {
    list.split(separator)
        .map(|pair| pair.trim_start().split_once('=').unwrap_or((pair.trim_start(), "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Decodes `%XX` escapes and `+` (form encoding); `None` for a bad escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Like [`percent_decode`], but never fails: a bad escape stays as written, bytes that are not
/// UTF-8 become U+FFFD.
fn decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// When [`read_head`] hands its buffer to the parser. Parsing it after every read made a head
/// dribbled in one byte per segment cost its size squared (32 heads of 16 KiB: 4 s of CPU), so
/// the parser is called only when
/// - a blank line has arrived (a head ends with one, RFC 9112 §2.1; `\n\n` or `\n\r\n`, as
///   httparse takes bare LFs too), looked for in the new bytes and the two before them; or
/// - the buffer has doubled since the last parse, so that junk (TLS, SSH, binary) is still refused
///   at once, and the parses of one head add up to at most twice its size.
///
/// Blank lines before the request line, which RFC 9112 §2.2 lets a server ignore, are dropped, so
/// that a stream of them, each one the end of nothing, cannot call the parser for every one.
#[derive(Debug, Default)]
pub struct Scan {
    /// The buffer's length at the last parse (0: none yet).
    parsed: usize,
}

impl Scan {
    /// Drops blank lines from the start of `buf`, whose bytes from `new` on have just arrived, and
    /// says whether to parse it now.
    pub fn worth_parsing(&mut self, buf: &mut Vec<u8>, new: usize) -> bool {
        let mut blank = 0;
        while let [b'\n', ..] | [b'\r', b'\n', ..] = &buf[blank..] {
            blank += if buf[blank] == b'\n' { 1 } else { 2 };
        }
        buf.drain(..blank);
        let window = &buf[new.saturating_sub(blank).saturating_sub(2)..];
        let ended = window.windows(2).any(|w| w == b"\n\n") || window.windows(3).any(|w| w == b"\n\r\n");
        let worth = !buf.is_empty() && (ended || buf.len() >= 2 * self.parsed);
        if worth {
            self.parsed = buf.len();
        }
        worth
    }
}

/// Reads and parses one request head from `stream`. `buf` carries bytes between calls: on entry
/// it may already hold the start of this request (pipelining); on success the head has been
/// removed from it and what follows the head is left in it.
pub fn read_head(stream: &TcpStream, buf: &mut Vec<u8>, limits: HeadLimits) -> Result<Request, HeadError> {
    let mut started = if buf.is_empty() { None } else { Some(Instant::now()) };
    let idle_until = Instant::now() + limits.idle;
    let mut chunk = [0u8; 2048];
    let (mut scan, mut new) = (Scan::default(), 0); // `new`: where the bytes not yet scanned start
    loop {
        if scan.worth_parsing(buf, new) {
            if let Some((request, used)) = parse(buf)? {
                // A head that ended within the last read can still be over the cap.
                if used > limits.max_bytes {
                    return Err(HeadError::TooLarge);
                }
                buf.drain(..used);
                return Ok(request);
            }
        }
        // A head that had ended would have been parsed: this one is still going.
        if buf.len() > limits.max_bytes {
            return Err(HeadError::TooLarge);
        }
        new = buf.len();
        // Wait for more: until the idle limit before the first byte, the deadline after it.
        let until = match started {
            None => idle_until,
            Some(t) => t + limits.deadline,
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if started.is_none() { HeadError::Idle } else { HeadError::Timeout });
        }
        stream.set_read_timeout(Some(left)).map_err(HeadError::Io)?;
        match (&*stream).read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Err(HeadError::Idle),
            Ok(0) => return Err(HeadError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                started.get_or_insert_with(Instant::now);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Err(e) if buf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => return Err(HeadError::Idle),
            Err(e) => return Err(HeadError::Io(e)),
        }
    }
}

/// Parses a complete head from the start of `buf`, or says it needs more bytes (`Ok(None)`).
/// On success also returns how many bytes the head took. Public for the fuzz target.
pub fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, HeadError> {
    // HTTP/2's connection preface starts with this line (RFC 9113 §3.4). httparse would call it
    // a bad version, which is true, but a clearer answer helps whoever configured the client.
    if buf.starts_with(b"PRI * HTTP/2") {
        return Err(HeadError::BadVersion);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(httparse::Error::Version) => return Err(HeadError::BadVersion),
        Err(httparse::Error::Token) => return Err(HeadError::Malformed("invalid method")),
        Err(httparse::Error::HeaderName) | Err(httparse::Error::HeaderValue) => {
            return Err(HeadError::Malformed("invalid header"))
        }
        Err(httparse::Error::NewLine) | Err(httparse::Error::Status) => {
            return Err(HeadError::Malformed("invalid request line"))
        }
    };
    let target = req.path.unwrap_or("");
    // Only origin-form targets ("/path?query", RFC 9112 §3.2.1) make sense for this server.
    if !target.starts_with('/') {
        return Err(HeadError::Malformed("request target must start with /"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let request = Request {
        method: req.method.unwrap_or("").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        minor_version: req.version.unwrap_or(1),
        headers: req.headers.iter().map(|h| (h.name.to_string(), h.value.to_vec())).collect(),
    };
    Ok(Some((request, used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head_and_leaves_the_rest() {
        let buf = b"GET /connect?x=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n\r\nFRAME";
        let (req, used) = parse(buf).unwrap().unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/connect");
        assert_eq!(req.query, "x=1");
        assert!(req.has_token("connection", "upgrade"));
        assert_eq!(&buf[used..], b"FRAME");
    }

    #[test]
    fn partial_heads_ask_for_more() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
    }

    #[test]
    fn rejects_junk() {
        assert!(matches!(parse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Err(HeadError::BadVersion)));
        assert!(matches!(parse(b"GET http://x/ HTTP/1.1\r\n\r\n"), Err(HeadError::Malformed(_))));
        assert!(parse(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").is_err());
    }

    type Parsed = Result<Option<(Request, usize)>, HeadError>;

    /// Feeds `bytes` to a [`Scan`] in pieces of `piece` bytes: how many times it parsed, how many
    /// bytes those parses read in all, and the result of the last one.
    fn feed(bytes: &[u8], piece: usize) -> (usize, usize, Option<Parsed>) {
        let (mut scan, mut buf, mut parses, mut read, mut last) = (Scan::default(), Vec::new(), 0, 0, None);
        for piece in bytes.chunks(piece) {
            let new = buf.len();
            buf.extend_from_slice(piece);
            if scan.worth_parsing(&mut buf, new) {
                (parses, read, last) = (parses + 1, read + buf.len(), Some(parse(&buf)));
            }
        }
        (parses, read, last)
    }

    #[test]
    fn a_head_dribbled_byte_by_byte_is_parsed_a_few_times_not_once_per_byte() {
        let head = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Pad: {}\r\n\r\n", "a".repeat(16_300));
        let (parses, read, last) = feed(head.as_bytes(), 1);
        // Once per doubling from 1 byte to 16 KiB, and once at the blank line: not 16,000 times.
        assert!(parses <= 16, "{parses} parses");
        assert!(read <= 3 * head.len(), "{read} bytes parsed for a head of {}", head.len());
        assert!(matches!(last, Some(Ok(Some((_, used)))) if used == head.len()), "the end is found");
        assert!(feed("\r\n\n".repeat(6000).as_bytes(), 1).0 <= 1, "blank lines: a lone \\r parsed at most");
    }

    #[test]
    fn the_end_of_a_head_is_found_wherever_the_pieces_split() {
        for head in
            ["\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\nHost: a\n\r\n"]
        {
            for piece in 1..head.len() {
                let last = feed(head.as_bytes(), piece).2;
                assert!(matches!(last, Some(Ok(Some(_)))), "{head:?} in pieces of {piece}");
            }
        }
        assert!(matches!(feed(b"\x16\x03\x01\x02\x00", 1).2, Some(Err(_))), "junk is refused at once");
        assert!(matches!(feed(b"SSH-2.0-OpenSSH_9.6\r\n", 32).2, Some(Err(_))));
    }

    #[test]
    fn pair_lists() {
        assert_eq!(pair_value("a=1&b=2&c", '&', "b"), Some("2"));
        assert_eq!(pair_value("a=1&b=2&c", '&', "c"), Some(""));
        assert_eq!(pair_value("a=1&b=2&c", '&', "d"), None);
        assert_eq!(pair_value("x=1; chatroom_name=ann%20b; y=2", ';', "chatroom_name"), Some("ann%20b"));
        assert_eq!(pair_value("ab=1", '&', "a"), None);
    }

    #[test]
    fn query_params_are_decoded() {
        let (req, _) = parse(b"GET /?name=Ann+B%C3%A9&x HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!(req.query_param("name").as_deref(), Some("Ann Bé"));
        assert_eq!(req.query_param("x").as_deref(), Some(""));
        assert_eq!(req.query_param("y"), None);
        let (req, _) = parse(b"GET /?limit=%ff&n=%zz1 HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!(req.query_param("limit").as_deref(), Some("\u{FFFD}"));
        assert_eq!(req.query_param("n").as_deref(), Some("%zz1"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
