//! Bodies written while they are made: a room's export can be a hundred megabytes, so it is read
//! and written in pieces of [`PIECE`] bytes, and never held whole.
//!
//! How the client finds the body's end (RFC 9112 §6.3) is the [`Framing`]: a `Content-Length`
//! when the size is known before the first byte (a log's bytes, from a snapshot of the file);
//! otherwise, for HTTP/1.1, the chunked transfer coding (RFC 9112 §7.1), which keeps the
//! connection usable for the next request; for HTTP/1.0, which has no chunked coding (§7.1: a
//! server must not send it to an HTTP/1.0 client), closing the connection ends the body.
//!
//! A client that stops reading cannot hold the connection's thread for ever: every write of the
//! HTTP phase has the socket's write timeout (`connection::http`). A body that fails half-way (the
//! log cannot be read, a write times out) ends the connection, so that the client sees a cut-off
//! body (a missing last chunk, or too few bytes) and never a complete-looking one.

use std::fmt;
use std::io::{self, Write};
use std::net::TcpStream;

/// Bodies are made and written about this much at a time.
pub const PIECE: usize = 64 * 1024;

/// How the end of a streamed body is told (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes, announced in `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 only).
    Chunked,
    /// Neither: the connection closes after the body (HTTP/1.0 clients).
    UntilClose,
}

/// Where the pieces of a streamed body come from.
pub trait BodySource: Send {
    /// Appends the next piece of the body to `out` (about [`PIECE`] bytes, perhaps none);
    /// `Ok(false)` once the body is complete.
    fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<bool>;
}

/// A body to make while writing it.
pub struct Streamed {
    /// How its end is told.
    pub framing: Framing,
    /// Its pieces.
    pub source: Box<dyn BodySource>,
}

impl fmt::Debug for Streamed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streamed").field("framing", &self.framing).finish_non_exhaustive()
    }
}

impl Streamed {
    /// The framing headers of the response head (`Content-Length` or `Transfer-Encoding`). A
    /// HEAD gets the same ones (RFC 9110 §9.3.2; RFC 9112 §6.1 allows `Transfer-Encoding` in a
    /// response to HEAD).
    pub fn framing_header(&self, out: &mut Vec<u8>) -> io::Result<()> {
        match self.framing {
            Framing::Length(length) => write!(out, "Content-Length: {length}\r\n"),
            Framing::Chunked => write!(out, "Transfer-Encoding: chunked\r\n"),
            Framing::UntilClose => Ok(()),
        }
    }

    /// Makes and writes the whole body, piece by piece.
    pub fn write_body(&mut self, mut stream: &TcpStream) -> io::Result<()> {
        let mut piece = Vec::with_capacity(PIECE + PIECE / 4);
        let mut framed = Vec::new();
        let mut sent = 0u64;
        loop {
            piece.clear();
            let more = self.source.next_piece(&mut piece)?;
            if !piece.is_empty() {
                sent += piece.len() as u64;
                if self.framing == Framing::Chunked {
                    // chunk = chunk-size CRLF chunk-data CRLF (RFC 9112 §7.1), one write each.
                    framed.clear();
                    write!(framed, "{:x}\r\n", piece.len())?;
                    framed.extend_from_slice(&piece);
                    framed.extend_from_slice(b"\r\n");
                    stream.write_all(&framed)?;
                } else {
                    stream.write_all(&piece)?;
                }
            }
            if !more {
                break;
            }
        }
        match self.framing {
            // The last chunk, and no trailer section.
            Framing::Chunked => stream.write_all(b"0\r\n\r\n"),
            Framing::Length(length) if length != sent => {
                Err(io::Error::new(io::ErrorKind::InvalidData, format!("body was {sent} bytes, {length} announced")))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;

    use super::*;

    /// Three pieces: "ab", nothing, "cde".
    struct Pieces(Vec<&'static [u8]>);

    impl BodySource for Pieces {
        fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
            out.extend_from_slice(self.0.remove(0));
            Ok(!self.0.is_empty())
        }
    }

    fn written(framing: Framing) -> (io::Result<()>, Vec<u8>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut body = Streamed { framing, source: Box::new(Pieces(vec![b"ab", b"", b"cde"])) };
        let result = body.write_body(&server);
        drop(server);
        let mut bytes = Vec::new();
        (&client).read_to_end(&mut bytes).unwrap();
        (result, bytes)
    }

    #[test]
    fn chunks_are_framed_and_a_known_length_is_kept() {
        let (result, bytes) = written(Framing::Chunked);
        result.unwrap();
        assert_eq!(bytes, b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
        let (result, bytes) = written(Framing::Length(5));
        result.unwrap();
        assert_eq!(bytes, b"abcde");
        let (result, _) = written(Framing::Length(6));
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
