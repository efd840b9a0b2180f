//! Writing one HTTP/1.1 response: status line, headers, body, in a single write.
//!
//! Every response carries an exact `Content-Length` (so keep-alive works without chunking), a
//! `Content-Type`, and `X-Content-Type-Options: nosniff`. HTML pages also carry the strict
//! Content-Security-Policy below. The exceptions are bodies too large to hold: a room's export is
//! [`Streamed`], made and written in pieces, framed as [`super::streamed`] says; a shared file's
//! download is sent from its file ([`FileBody`], by `sendfile(2)`), its length the
//! `Content-Length`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Write};
use std::net::TcpStream;

use super::streamed::{Framing, Streamed};

/// The policy for every HTML page: everything from this server only, no inline script or style,
/// no plugins, no framing. `connect-src 'self'` also covers `ws://` to the same host and port
/// (CSP Level 3 §6.7.2.9), which is the chat's WebSocket.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An HTTP response, ready to write.
#[derive(Debug)]
pub struct Response {
    /// The status code; [`reason`] gives its phrase.
    pub status: u16,
    /// Headers besides the ones every response gets (`Content-Length`, `Connection`, ...).
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The body, borrowed when it is an embedded asset.
    pub body: Cow<'static, [u8]>,
    /// Close the connection after this response (errors where the stream may be out of step).
    pub close: bool,
    /// A body made while it is written, instead of `body` (which is then empty).
    pub streamed: Option<Streamed>,
    /// A body sent from a file instead of `body` (a shared file's download): its length is the
    /// `Content-Length`.
    pub file: Option<FileBody>,
}

impl Response {
    /// A response with a body of the given type.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Cow<'static, [u8]>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", Cow::Borrowed(content_type))],
            body: body.into(),
            close: false,
            streamed: None,
            file: None,
        }
    }

    /// A response whose body is made while it is written. One whose end is told by closing the
    /// connection closes it.
    pub fn streamed(status: u16, content_type: &'static str, streamed: Streamed) -> Response {
        let close = streamed.framing == Framing::UntilClose;
        Response { close, streamed: Some(streamed), ..Response::new(status, content_type, &b""[..]) }
    }

    /// A short plain-text answer, one line: what went wrong and what to do.
    pub fn text(status: u16, line: impl Into<String>) -> Response {
        let mut body = line.into();
        body.push('\n');
        Response::new(status, "text/plain; charset=utf-8", body.into_bytes())
    }

    /// An HTML page, with the strict CSP.
    pub fn html(status: u16, body: impl Into<Cow<'static, [u8]>>) -> Response {
        Response::new(status, "text/html; charset=utf-8", body)
            .with_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            .with_header("Cache-Control", "no-cache")
            .with_header("Referrer-Policy", "no-referrer")
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Marks the response as the last on its connection.
    pub fn closing(mut self) -> Response {
        self.close = true;
        self
    }

    /// Serialises and writes the response. `head_only` is for HEAD requests: same headers,
    /// including the Content-Length the body would have had, and no body (RFC 9110 §9.3.2).
    pub fn write_to(&mut self, mut stream: &TcpStream, head_only: bool, keep_alive: bool) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + if head_only { 0 } else { self.body.len() });
        write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status))?;
        for (name, value) in &self.headers {
            write!(out, "{name}: {value}\r\n")?;
        }
        match (&self.streamed, &self.file) {
            (Some(streamed), _) => streamed.framing_header(&mut out)?,
            (None, Some(file)) => write!(out, "Content-Length: {}\r\n", file.length)?,
            (None, None) => write!(out, "Content-Length: {}\r\n", self.body.len())?,
        }
        out.extend_from_slice(b"X-Content-Type-Options: nosniff\r\n");
        out.extend_from_slice(if keep_alive && !self.close {
            b"Connection: keep-alive\r\n"
        } else {
            b"Connection: close\r\n"
        });
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        stream.write_all(&out)?;
        match (&mut self.streamed, &self.file) {
            (Some(streamed), _) if !head_only => streamed.write_body(stream),
            (None, Some(file)) if !head_only => file.send(stream),
            _ => Ok(()),
        }
    }
}

/// The reason phrase for each status we send.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        206 => "Partial Content",
        303 => "See Other",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        421 => "Misdirected Request",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

/// A response body sent from a file by `sendfile(2)`: `length` bytes from `offset` on.
#[derive(Debug)]
pub struct FileBody {
    /// The open file.
    pub file: File,
    /// The first byte to send.
    pub offset: u64,
    /// How many bytes to send: the response's `Content-Length`.
    pub length: u64,
    /// Whether to send them in steps, letting relays run in between (a big file: see
    /// `files::transfer`).
    pub in_steps: bool,
}

impl FileBody {
    /// Sends the bytes, in as many `sendfile` calls as the socket needs. A write timeout that
    /// runs out, or a file that turns out shorter than it was, is an error: the connection then
    /// ends, and the client sees a body shorter than its `Content-Length`, never a wrong one.
    pub fn send(&self, stream: &TcpStream) -> io::Result<()> {
        let (mut at, end) = (self.offset, self.offset + self.length);
        let mut pace = self.in_steps.then(crate::files::transfer::Pace::default);
        while at < end {
            // At most 1 GiB a call, well under what Linux takes in one (2 GiB less a page).
            let most = if pace.is_some() { crate::files::transfer::SEND_STEP } else { 1 << 30 };
            let count = (end - at).min(most) as usize;
            let send = || crate::sys::send_file(stream, &self.file, at, count);
            let sent = match &mut pace {
                Some(pace) => pace.step(send),
                None => send(),
            };
            match sent {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file is shorter than it was")),
                Ok(n) => at += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Text cut short and with anything but printable ASCII replaced, fit for a one-line answer.
pub fn printable(text: &str) -> String {
    text.chars().take(80).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}
