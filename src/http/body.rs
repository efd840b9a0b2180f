//! Request bodies, which only a few routes take (the access-code form, `POST /login`).
//!
//! A body is framed by one `Content-Length` (RFC 9112 §6.2), written as plain digits. Anything
//! ambiguous is refused before a byte of it is read: a `Transfer-Encoding` (we speak no chunked
//! bodies), two lengths, a length written `+20` or `020` or with spaces. Where one request ends
//! and the next begins must never be a guess: that guess is how request smuggling works.
//!
//! The connection hands every route a [`Body`]; a route that takes one reads it, within the
//! head's deadline and a size cap of its own. A route that does not leaves it unread, and the
//! connection is then closed after the answer, since the client's next bytes are that body.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::http::head::Request;
use crate::http::response::Response;

/// Where a body's bytes come from: the connection, or (for tests and the fuzz targets) memory.
enum Source<'a> {
    Socket(&'a TcpStream),
    Memory,
}

/// The body of one request: what was read past its head, and the socket for the rest.
pub struct Body<'a> {
    source: Source<'a>,
    /// Bytes read past the head: the body's start, perhaps more (a pipelined request).
    buf: &'a mut Vec<u8>,
    /// The declared length (0 without a `Content-Length`).
    length: usize,
    /// Time allowed for the whole body to arrive.
    deadline: Duration,
    /// Whether a route has taken the body off the connection.
    taken: bool,
}

impl<'a> Body<'a> {
    /// The body of `request` on `stream`, whose first bytes (if any) are in `buf`. Refuses
    /// ambiguous framing with the answer to send (each closes the connection).
    pub fn on_socket(
        stream: &'a TcpStream,
        buf: &'a mut Vec<u8>,
        request: &Request,
        deadline: Duration,
    ) -> Result<Body<'a>, Response> {
        let length = declared_length(request)?;
        Ok(Body { source: Source::Socket(stream), buf, length, deadline, taken: length == 0 })
    }

    /// A body held in memory (the bytes after a head in a test or a fuzz input).
    pub fn in_memory(buf: &'a mut Vec<u8>, request: &Request) -> Result<Body<'a>, Response> {
        let length = declared_length(request)?;
        Ok(Body { source: Source::Memory, buf, length, deadline: Duration::ZERO, taken: length == 0 })
    }

    /// The declared length, in bytes.
    pub fn len(&self) -> usize {
        self.length
    }

    /// Whether the request declared no body.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Whether the body is off the connection (read by a route, or there was none), so that
    /// the next request can be read after this one's answer.
    pub fn is_taken(&self) -> bool {
        self.taken
    }

    /// Reads the whole body, if it is at most `max` bytes: 413 above it (decided from the
    /// declared length, before reading), 408 if it does not arrive within the deadline, 400 if
    /// the connection ends first.
    pub fn read_all(&mut self, max: usize) -> Result<Vec<u8>, Response> {
        if self.length > max {
            return Err(Response::text(413, format!("That body is too large (at most {max} bytes here).")).closing());
        }
        let until = Instant::now() + self.deadline;
        let mut chunk = [0u8; 1024];
        while self.buf.len() < self.length {
            let stream = match self.source {
                Source::Socket(stream) => stream,
                Source::Memory => return Err(Response::text(400, "The body ended early.").closing()),
            };
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                return Err(Response::text(408, "The body did not arrive in time.").closing());
            }
            match (&*stream).read(&mut chunk) {
                Ok(0) => return Err(Response::text(400, "The body ended early.").closing()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Response::text(408, "The body did not arrive in time.").closing()),
            }
        }
        self.taken = true;
        Ok(self.buf.drain(..self.length).collect())
    }
}

/// Why a body read piece by piece ([`Body::read_each`]) stopped before its end.
#[derive(Debug)]
pub enum Cut {
    /// No byte came for the whole deadline (`--head-timeout`).
    Stalled,
    /// The connection ended first.
    Ended,
    /// What the pieces were handed to failed (a full disk).
    Sink(io::Error),
}

/// The most of a body read at once by [`Body::read_each`]: big enough that an upload costs few
/// system calls, small enough that a hundred at once cost little memory.
pub const PIECE: usize = 128 * 1024;

impl Body<'_> {
    /// Tells a client that waits for it (`Expect: 100-continue`, RFC 9110 §10.1.1) to send the
    /// body now: a route calls it once it has decided to read the body.
    pub fn send_continue(&self) -> io::Result<()> {
        match self.source {
            Source::Socket(mut stream) => stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n"),
            Source::Memory => Ok(()),
        }
    }

    /// Reads the whole body, however large, handing it to `sink` in pieces of at most
    /// [`PIECE`] bytes as they arrive, so that it is never held whole. Unlike [`Body::read_all`],
    /// the deadline is per read: a long body that keeps coming may take as long as it needs,
    /// and one that stops for the whole deadline is cut off.
    pub fn read_each(&mut self, mut sink: impl FnMut(&[u8]) -> io::Result<()>) -> Result<(), Cut> {
        let mut left = self.length;
        // The body's first bytes may have come with the head.
        let early = left.min(self.buf.len());
        if early > 0 {
            sink(&self.buf[..early]).map_err(Cut::Sink)?;
            self.buf.drain(..early);
            left -= early;
        }
        let mut piece = vec![0u8; PIECE.min(left)];
        while left > 0 {
            let stream = match self.source {
                Source::Socket(stream) => stream,
                Source::Memory => return Err(Cut::Ended),
            };
            stream.set_read_timeout(Some(self.deadline.max(Duration::from_millis(1)))).map_err(|_| Cut::Stalled)?;
            let want = left.min(piece.len());
            match (&*stream).read(&mut piece[..want]) {
                Ok(0) => return Err(Cut::Ended),
                Ok(n) => {
                    sink(&piece[..n]).map_err(Cut::Sink)?;
                    left -= n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(Cut::Stalled)
                }
                Err(_) => return Err(Cut::Ended),
            }
        }
        self.taken = true;
        Ok(())
    }
}

/// The length a request declares for its body, strictly: one `Content-Length` of plain digits
/// (no sign, no leading zero, no spaces), and no `Transfer-Encoding`.
fn declared_length(request: &Request) -> Result<usize, Response> {
    if request.header("Transfer-Encoding").is_some() {
        return Err(Response::text(400, "Transfer-Encoding is not accepted: send one Content-Length.").closing());
    }
    let refuse = |why: &str| Err(Response::text(400, why.to_string()).closing());
    match request.header_count("Content-Length") {
        0 => return Ok(0),
        1 => {}
        _ => return refuse("Duplicate Content-Length headers."),
    }
    let raw = request.header("Content-Length").unwrap_or_default();
    let digits = !raw.is_empty() && raw.iter().all(u8::is_ascii_digit) && (raw == b"0" || raw[0] != b'0');
    match std::str::from_utf8(raw).ok().filter(|_| digits).and_then(|text| text.parse().ok()) {
        Some(length) => Ok(length),
        None => refuse("Content-Length must be a number in plain digits."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::parse;

    fn body_of(head_and_body: &[u8]) -> Result<(usize, Result<Vec<u8>, u16>), u16> {
        let (request, used) = parse(head_and_body).unwrap().unwrap();
        let mut rest = head_and_body[used..].to_vec();
        let mut body = Body::in_memory(&mut rest, &request).map_err(|r| r.status)?;
        let length = body.len();
        Ok((length, body.read_all(16).map_err(|r| r.status)))
    }

    #[test]
    fn a_body_is_framed_by_one_plain_length() {
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"), Ok((2, Ok(b"hi".to_vec()))));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\n\r\n"), Ok((0, Ok(Vec::new()))));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), Ok((0, Ok(Vec::new()))));
        for bad in ["+2", "02", "2 2", "-1", "0x2", "", "99999999999999999999999"] {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {bad}\r\n\r\nhi");
            assert_eq!(body_of(head.as_bytes()), Err(400), "{bad:?}");
        }
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi"), Err(400));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"), Err(400));
    }

    #[test]
    fn a_body_is_handed_over_in_pieces() {
        let (request, used) = parse(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET").unwrap().unwrap();
        let mut rest = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET"[used..].to_vec();
        let mut body = Body::in_memory(&mut rest, &request).unwrap();
        let mut got = Vec::new();
        body.read_each(|piece| {
            got.extend_from_slice(piece);
            Ok(())
        })
        .unwrap();
        assert!(body.is_taken());
        assert_eq!(got, b"abc");
        assert_eq!(rest, b"GET", "the next request stays");
        let (request, used) = parse(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc").unwrap().unwrap();
        let mut short = b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"[used..].to_vec();
        let mut body = Body::in_memory(&mut short, &request).unwrap();
        assert!(matches!(body.read_each(|_| Ok(())), Err(Cut::Ended)));
        assert!(!body.is_taken());
    }

    #[test]
    fn too_large_or_short_bodies_are_refused() {
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n"), Ok((17, Err(413))));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhi"), Ok((5, Err(400))));
    }
}
