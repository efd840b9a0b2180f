//! Export: `GET /r/ROOM/export?format=txt|jsonl|html` downloads a room's whole history as a file
//! named `ROOM-YYYY-MM-DD.EXT`: text lines in an exact format, the log's own bytes, or one
//! standalone escaped page. Streamed (chunked, or with the log's length), so HEAD, keep-alive and
//! HTTP/1.0 must all stay right; a client that stops reading is cut off.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine;
use chatroom::protocol::ChatMessage;
use sha2::{Digest, Sha256};
use support::{log_line, read_response, Client, RawResponse, TempDir, TestServer, TIMEOUT};

/// 2025-11-26T21:00:00.000Z.
const T0: u64 = 1_764_190_800_000;

fn start_with(room: &str, log: &str, args: &[&str]) -> (TempDir, TestServer) {
    let data = TempDir::new("export");
    std::fs::write(data.path().join(format!("{room}.jsonl")), log).unwrap();
    let mut all = vec!["--data-dir", data.path().to_str().unwrap()];
    all.extend_from_slice(args);
    let server = TestServer::start(&all);
    (data, server)
}

/// A kept-alive connection to the server.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Sends `METHOD path` on `stream` (HTTP/1.1, kept alive) and reads the head of the answer.
fn ask(stream: &mut TcpStream, method: &str, path: &str) -> RawResponse {
    let addr = stream.peer_addr().unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    read_response(stream, true)
}

/// Reads a chunked body (RFC 9112 §7.1) to its last chunk, checking the framing.
fn read_chunked(stream: &mut TcpStream) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(stream);
        let size = usize::from_str_radix(&size_line, 16).unwrap_or_else(|_| panic!("chunk size {size_line:?}"));
        if size == 0 {
            assert_eq!(read_line(stream), "", "no trailer section, then the end");
            return body;
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..]).unwrap();
        assert_eq!(read_line(stream), "", "a chunk ends with CRLF");
    }
}

fn read_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).unwrap();
        line.push(byte[0]);
    }
    String::from_utf8(line[..line.len() - 2].to_vec()).unwrap()
}

/// `GET /r/ROOM/export?format=FORMAT` on a fresh connection: the head and the whole body.
fn export(addr: SocketAddr, room: &str, format: &str) -> (RawResponse, Vec<u8>) {
    let mut stream = connect(addr);
    let head = ask(&mut stream, "GET", &format!("/r/{room}/export?format={format}"));
    assert_eq!(head.status, 200, "{}", head.head);
    let body = match head.header("Content-Length") {
        Some(length) => {
            let mut body = vec![0; length.parse().unwrap()];
            stream.read_exact(&mut body).unwrap();
            body
        }
        None => {
            assert_eq!(head.header("Transfer-Encoding").as_deref(), Some("chunked"), "{}", head.head);
            read_chunked(&mut stream)
        }
    };
    (head, body)
}

/// Today in UTC, as export file names have it; the day before the request and after it, should
/// the test run across midnight.
fn today() -> String {
    support::rfc3339(support::now_ms())[..10].to_string()
}

fn assert_download(head: &RawResponse, name: &str, extension: &str, before: &str) {
    let disposition = head.header("Content-Disposition").unwrap();
    let after = today();
    assert!(
        disposition == format!("attachment; filename=\"{name}-{before}.{extension}\"")
            || disposition == format!("attachment; filename=\"{name}-{after}.{extension}\""),
        "{disposition}"
    );
    assert_eq!(head.header("Cache-Control").as_deref(), Some("no-store"));
}

fn three_messages() -> String {
    [
        log_line(1, T0 + 1_000, "ann", "hello"),
        log_line(2, T0 + 61_500, "<bob>", "two\nlines <script>alert(1)</script>"),
        log_line(3, T0 + 3_600_000, "Émile", "& done"),
    ]
    .concat()
}

#[test]
fn txt_is_one_line_per_message_oldest_first() {
    let (_data, server) = start_with("talk", &three_messages(), &[]);
    let date = today();
    let (head, body) = export(server.addr, "talk", "txt");
    assert_eq!(head.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    assert_download(&head, "talk", "txt", &date);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "2025-11-26 21:00:01Z ann: hello\n\
         2025-11-26 21:01:01Z <bob>: two\n  lines <script>alert(1)</script>\n\
         2025-11-26 22:00:00Z Émile: & done\n"
    );
}

#[test]
fn jsonl_is_the_log_file_byte_for_byte_up_to_its_last_whole_line() {
    // A corrupt line is part of the file, and so of the copy.
    let log = format!("{}{{\"seq\":2,\0\0\n{}", log_line(1, T0, "ann", "one"), log_line(3, T0, "ann", "three"));
    let (data, server) = start_with("copy", &log, &[]);
    let date = today();
    let (head, body) = export(server.addr, "copy", "jsonl");
    assert_eq!(head.header("Content-Type").as_deref(), Some("application/jsonl"));
    assert_eq!(head.header("Content-Length"), Some(log.len().to_string()));
    assert_download(&head, "copy", "jsonl", &date);
    assert_eq!(body, log.as_bytes());
    // The text export skips the corrupt line, as the history API does.
    let (_, txt) = export(server.addr, "copy", "txt");
    assert_eq!(String::from_utf8(txt).unwrap().lines().count(), 2);
    // Half a line being appended is not part of it until it is whole.
    let path = data.path().join("copy.jsonl");
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"seq\":4,\"ts\":1,\"na").unwrap();
    assert_eq!(export(server.addr, "copy", "jsonl").1, log.as_bytes());
}

#[test]
fn html_is_one_standalone_escaped_page() {
    let (_data, server) = start_with("page", &three_messages(), &[]);
    let date = today();
    let (head, body) = export(server.addr, "page", "html");
    assert_eq!(head.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    assert_download(&head, "page", "html", &date);
    let page = String::from_utf8(body).unwrap();
    assert!(page.starts_with("<!doctype html>\n<html lang=\"en\">"), "{page}");
    assert!(page.ends_with("<footer>3 messages.</footer>\n</body>\n</html>\n"), "{page}");
    assert!(page
        .contains("<b>&lt;bob&gt;</b> <span class=\"text\">two\nlines &lt;script&gt;alert(1)&lt;/script&gt;</span>"));
    assert!(page.contains("<b>Émile</b> <span class=\"text\">&amp; done</span>"));
    assert!(page.contains("<time datetime=\"2025-11-26T21:00:01.000Z\">2025-11-26 21:00:01Z</time>"));
    // Standalone: no script, nothing loaded from anywhere, its style inline.
    for outside in ["<script", "src=", "href=", "url(", "@import", "http:", "https:"] {
        assert!(!page.contains(outside), "the page has {outside:?}");
    }
    // Should a browser show it, the CSP allows that style element, by its hash, and nothing else.
    let style = support::element(&page, "<style>", "</style>").unwrap();
    let style = &style["<style>".len()..style.len() - "</style>".len()];
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    let policy = head.header("Content-Security-Policy").unwrap();
    assert!(policy.starts_with(&format!("default-src 'none'; style-src 'sha256-{hash}';")), "{policy}");
}

#[test]
fn a_bad_format_is_400_and_an_empty_room_exports_nothing() {
    let server = TestServer::start(&[]);
    for query in ["", "?format=", "?format=pdf", "?format=TXT", "?format=txt%00"] {
        let response = support::get(server.addr, &format!("/r/lobby/export{query}"));
        assert_eq!(
            (response.status, response.body_text().as_str()),
            (400, "format must be txt, jsonl or html.\n"),
            "{query}"
        );
    }
    assert!(export(server.addr, "empty", "txt").1.is_empty());
    assert!(export(server.addr, "empty", "jsonl").1.is_empty());
    let page = String::from_utf8(export(server.addr, "empty", "html").1).unwrap();
    assert!(page.ends_with("<footer>0 messages.</footer>\n</body>\n</html>\n"), "{page}");
}

/// After a streamed answer, and after a HEAD (headers only, though the body would be
/// streamed), the same connection takes the next request.
#[test]
fn the_connection_goes_on_after_a_streamed_answer_and_a_head() {
    let (_data, server) = start_with("again", &three_messages(), &[]);
    let mut stream = connect(server.addr);
    let head = ask(&mut stream, "HEAD", "/r/again/export?format=txt");
    assert_eq!((head.status, head.header("Transfer-Encoding").as_deref()), (200, Some("chunked")));
    let head = ask(&mut stream, "HEAD", "/r/again/export?format=jsonl");
    assert_eq!(head.header("Content-Length"), Some(three_messages().len().to_string()));
    let head = ask(&mut stream, "GET", "/r/again/export?format=html");
    assert_eq!(head.header("Connection").as_deref(), Some("keep-alive"));
    assert!(String::from_utf8(read_chunked(&mut stream)).unwrap().ends_with("</html>\n"));
    let head = ask(&mut stream, "GET", "/r/again/export?format=txt");
    assert_eq!(read_chunked(&mut stream).iter().filter(|&&b| b == b'\n').count(), 4);
    assert_eq!(head.status, 200);
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).unwrap();
    let health = read_response(&mut stream, false);
    assert_eq!((health.status, health.body_text().as_str()), (200, "ok\n"));
}

/// HTTP/1.0 has no chunked coding: the body ends when the connection does.
#[test]
fn an_http_1_0_client_gets_a_body_that_ends_with_the_connection() {
    let (_data, server) = start_with("old", &three_messages(), &[]);
    let mut stream = connect(server.addr);
    write!(stream, "GET /r/old/export?format=txt HTTP/1.0\r\nHost: {}\r\nConnection: keep-alive\r\n\r\n", server.addr)
        .unwrap();
    let mut all = String::new();
    stream.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nConnection: close") && !head.contains("Transfer-Encoding"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    assert!(body.starts_with("2025-11-26 21:00:01Z ann: hello\n") && body.ends_with("Émile: & done\n"), "{body}");
}

#[test]
fn a_room_in_memory_only_exports_what_it_holds() {
    let server = TestServer::start(&["--memory", "--history", "3"]);
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/mem/connect?name=ann"));
    for i in 1..=4 {
        ann.say_json(&format!("note {i}"));
        ann.recv_message();
    }
    let (head, body) = export(server.addr, "mem", "jsonl");
    assert_eq!(head.header("Transfer-Encoding").as_deref(), Some("chunked"), "no file: no length known");
    let lines: Vec<ChatMessage> =
        String::from_utf8(body).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(
        lines.iter().map(|m| (m.seq, m.text.as_str())).collect::<Vec<_>>(),
        [(2, "note 2"), (3, "note 3"), (4, "note 4")]
    );
    let txt = String::from_utf8(export(server.addr, "mem", "txt").1).unwrap();
    assert!(txt.lines().last().unwrap().ends_with(" ann: note 4"), "{txt}");
}

/// A log larger than the socket buffers is exported whole; a client that asks for it and stops
/// reading is cut off once a write has waited `--head-timeout` (here 1 s), so it cannot hold the
/// connection's thread.
#[test]
fn a_large_export_is_streamed_and_a_client_that_stops_reading_is_cut_off() {
    // Larger than the most the kernel's send buffer may grow to, so that the server must wait.
    let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").unwrap();
    let most: usize = wmem.split_whitespace().nth(2).unwrap().parse().unwrap();
    let lines = (2 * most + (4 << 20)) / 1000;
    let log: String = (1..=lines as u64).map(|seq| log_line(seq, T0 + seq, "ann", &"x".repeat(960))).collect();
    let (_data, server) = start_with("big", &log, &["--head-timeout", "1"]);
    let (_, body) = export(server.addr, "big", "jsonl");
    assert!(body == log.as_bytes(), "the export differs from the log"); // not assert_eq: megabytes
    let (_, body) = export(server.addr, "big", "txt");
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), lines);

    let mut stalled = connect(server.addr);
    // A small receive window, so that the server's writes wait soon.
    support::sys::set_receive_buffer(&stalled, 4096);
    write!(stalled, "GET /r/big/export?format=jsonl HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).unwrap();
    // (Reading what was sent before the cut would take long through a 4 KiB window: not done.)
    server.wait_for_log("closed: http, 1 requests, Resource temporarily unavailable");
}
