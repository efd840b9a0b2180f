//! Sharing files over real sockets: uploads as a browser's `fetch` sends them, downloads, and the
//! bytes of small files of each kind.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use super::{read_response, url_encode, RawResponse, TIMEOUT};

/// A PNG signature and the start of an IHDR chunk: enough for the server's check.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
pub const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
pub const GIF: &[u8] =
    b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
pub const WEBP: &[u8] = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";
pub const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>";
pub const HTML: &[u8] = b"<!doctype html><script>alert(document.cookie)</script>";

/// The request head of an upload of `length` bytes to `room` as `name`, typed `content_type`,
/// with `extra` header lines (each ending in CRLF).
pub fn upload_head(addr: SocketAddr, room: &str, name: &str, content_type: &str, length: usize, extra: &str) -> String {
    format!(
        "POST /r/{room}/files?name={} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}\r\n",
        url_encode(name)
    )
}

/// Uploads `bytes` and reads the answer.
pub fn upload(addr: SocketAddr, room: &str, name: &str, content_type: &str, bytes: &[u8]) -> RawResponse {
    upload_with(addr, room, name, content_type, bytes, "")
}

/// [`upload`] with extra header lines.
pub fn upload_with(
    addr: SocketAddr,
    room: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    extra: &str,
) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let head = upload_head(addr, room, name, content_type, bytes.len(), extra);
    stream.write_all(head.as_bytes()).unwrap();
    // The server may refuse from the head alone and stop reading: then the body is not ours to send.
    let _ = stream.write_all(bytes);
    read_response(&mut stream, false)
}

/// The URL in a successful upload's answer.
pub fn url_of(answer: &RawResponse) -> String {
    assert_eq!(answer.status, 201, "upload refused: {}", answer.body_text());
    let file: chatroom::protocol::attachment::SharedFile = serde_json::from_slice(&answer.body).unwrap();
    file.url
}

/// `GET` (or another method) of `path` with extra header lines.
pub fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_response(&mut stream, method == "HEAD")
}

/// `len` bytes that are not text and not any picture.
pub fn noise(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}
