//! The docs cannot drift: every byte dump, HTTP exchange and JSON example in
//! `docs/walkthrough.md` and `docs/protocol.md` is produced or checked here, most of them against
//! a real server over loopback.
//!
//! **Marked blocks.** A fenced block right after a line `<!-- checked by tests/docs.rs: NAME -->`
//! is compared, character for character, with what the test for NAME produces. [`MARKED`] lists
//! every NAME of every doc, and `every_marked_block_is_checked` fails if a doc has a marker that
//! is not in the list (or the list a name the doc lacks), so no marker sits there unchecked.
//!
//! **Clock readings.** The server stamps each message with its clock, so a test that talks to it
//! gets a different time on every run. Before comparing, each clock reading the server wrote is
//! replaced by the reading at the same place in the doc's block: RFC 3339 times
//! (`2026-11-26T21:04:05.123Z`), the `21:04 UTC` a `<time>` element shows, and the milliseconds of
//! a log line (`"ts":1795727045123`). The test first checks that the doc has exactly as many
//! readings, of the same kinds, in the same order. All three forms are fixed width, so nothing
//! moves: a frame's length bytes stay right. Everything else (structure, names, sequence
//! numbers, every other byte) is compared as the server sent it. Ports never appear: requests
//! carry the `Host` the doc shows, and the server does not mind which port that names.
//!
//! **When the server's bytes change on purpose,** run `CHATROOM_BLESS_DOCS=1 cargo test --test
//! docs`: each marked fenced block is rewritten with what the server now produces (clock readings
//! kept from the doc where the shape allows). Read the diff before committing: the prose around a
//! block may need to change too. Blocks that are patterns (the page's HTML, the table of page
//! fragments) are never rewritten; fix those by hand.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

use chatroom::protocol::frame::EncodedFrame;
use chatroom::protocol::json::{self, Event};
use chatroom::protocol::{ChatMessage, ClientEvent};
use support::{Client, TempDir, TestServer, TIMEOUT};

const WALKTHROUGH: &str = "docs/walkthrough.md";
const PROTOCOL: &str = "docs/protocol.md";
const ARCHITECTURE: &str = "docs/architecture.md";

/// Every marked block, per doc. A test below produces or checks each one.
const MARKED: &[(&str, &[&str])] = &[
    (
        WALKTHROUGH,
        &[
            "page-html",
            "upgrade-request",
            "upgrade-response",
            "accept-key",
            "page-json",
            "client-frame",
            "length-forms",
            "server-frame",
            "relay-fragment",
            "ping-text",
            "pong-text",
            "server-ping",
            "client-pong",
            "client-close",
            "close-echo",
            "close-1012",
            "log-line",
            "history-request",
            "history-response",
        ],
    ),
    (
        PROTOCOL,
        &[
            "history-event",
            "roster-event",
            "notice-event",
            "message-event",
            "join-leave-events",
            "rooms-event",
            "error-event",
            "page-fragments",
            "formatted-text",
            "history-page",
            "search-results",
            "room-list",
        ],
    ),
];

// ---------------------------------------------------------------------------------------------
// Marked blocks
// ---------------------------------------------------------------------------------------------

const MARKER: &str = "<!-- checked by tests/docs.rs: ";

/// Rewrites of the docs (bless mode) one at a time: tests run in parallel threads.
static BLESSING: Mutex<()> = Mutex::new(());

fn doc_path(doc: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)
}

fn read_doc(doc: &str) -> String {
    std::fs::read_to_string(doc_path(doc)).unwrap_or_else(|e| panic!("cannot read {doc}: {e}"))
}

fn blessing() -> bool {
    std::env::var_os("CHATROOM_BLESS_DOCS").is_some_and(|v| v != "0")
}

/// One marked block: its name, and where its text lies in the doc (byte offsets).
struct Block {
    name: String,
    /// Whether it is a fenced block (rewritable) rather than a table (a pattern).
    fenced: bool,
    start: usize,
    end: usize,
}

/// Every marked block of `text`, in order.
fn marked_blocks(doc: &str, text: &str) -> Vec<Block> {
    // Lines with the byte offset where each starts.
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lines.push((offset, line.trim_end_matches(['\n', '\r'])));
        offset += line.len();
    }
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (_, line) = lines[i];
        i += 1;
        let Some(rest) = line.trim().strip_prefix(MARKER) else { continue };
        let name = rest.split_whitespace().next().unwrap_or("").to_string();
        assert!(rest.trim_end().ends_with("-->"), "{doc}: marker {name:?} must end on its line with -->");
        while i < lines.len() && lines[i].1.trim().is_empty() {
            i += 1;
        }
        let Some(&(open_at, open)) = lines.get(i) else { panic!("{doc}: marker {name:?} is not followed by a block") };
        if open.starts_with("```") {
            let start = open_at + open.len() + 1;
            let close = (i + 1..lines.len())
                .find(|&j| lines[j].1 == "```")
                .unwrap_or_else(|| panic!("{doc}: block {name:?} has no closing ```"));
            blocks.push(Block { name, fenced: true, start, end: lines[close].0 });
            i = close + 1;
        } else if open.starts_with('|') {
            let last = (i..lines.len()).take_while(|&j| lines[j].1.starts_with('|')).last().unwrap();
            let end = lines[last].0 + lines[last].1.len();
            blocks.push(Block { name, fenced: false, start: open_at, end });
            i = last + 1;
        } else {
            panic!("{doc}: marker {name:?} must be followed by a fenced block or a table, not {open:?}");
        }
    }
    blocks
}

/// The text of block `name` in `doc`, without its final newline.
fn block(doc: &str, name: &str) -> String {
    let text = read_doc(doc);
    let found = marked_blocks(doc, &text).into_iter().find(|b| b.name == name);
    let b = found.unwrap_or_else(|| panic!("{doc} has no block marked {MARKER}{name} -->"));
    let inside = &text[b.start..b.end];
    inside.strip_suffix('\n').unwrap_or(inside).to_string()
}

/// Checks that block `name` of `doc` reads exactly `actual`; in bless mode, makes it so.
fn check(doc: &str, name: &str, actual: &str) {
    let expected = block(doc, name);
    if expected == actual {
        return;
    }
    if blessing() {
        let _one_at_a_time = BLESSING.lock().unwrap_or_else(|p| p.into_inner());
        let text = read_doc(doc);
        let b = marked_blocks(doc, &text).into_iter().find(|b| b.name == name).unwrap();
        assert!(b.fenced, "{doc}: block {name} is a pattern; edit it by hand");
        let updated = format!("{}{actual}\n{}", &text[..b.start], &text[b.end..]);
        std::fs::write(doc_path(doc), updated).unwrap();
        eprintln!("blessed {doc}: {name}");
        return;
    }
    panic!(
        "{doc}, block {name}: the doc no longer says what the server does.\n{}\n\
         If the change is intended, run CHATROOM_BLESS_DOCS=1 cargo test --test docs and review the diff.",
        first_difference(&expected, actual)
    );
}

/// Where two texts part, line by line, and the whole of the new one.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = (0..e.len().max(a.len())).find(|&i| e.get(i) != a.get(i)).unwrap_or(0);
    format!(
        "first difference at line {}:\n  doc:    {:?}\n  server: {:?}\n--- what the server does now ---\n{actual}\n---",
        at + 1,
        e.get(at).copied().unwrap_or("(nothing)"),
        a.get(at).copied().unwrap_or("(nothing)"),
    )
}

#[test]
fn every_marked_block_is_checked() {
    for (doc, names) in MARKED {
        let text = read_doc(doc);
        let found: Vec<String> = marked_blocks(doc, &text).into_iter().map(|b| b.name).collect();
        let listed: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(found, listed, "{doc}: its markers, in order, must be exactly those MARKED lists");
    }
    let unlisted = ARCHITECTURE;
    assert!(!read_doc(unlisted).contains(MARKER), "{unlisted} has a marker, but no test checks its blocks");
}

// ---------------------------------------------------------------------------------------------
// Clock readings
// ---------------------------------------------------------------------------------------------

/// The kinds of clock reading the server writes; `#` stands for a digit.
const CLOCK_FORMS: [(&str, usize); 3] = [
    // RFC 3339, UTC, milliseconds (`ts` in JSON, `datetime` of a `<time>`).
    ("####-##-##T##:##:##.###Z", 0),
    // What a `<time>` shows before the page's script puts it in local time.
    ("##:## UTC", 0),
    // Milliseconds since 1970 in a log line; the reading starts after `"ts":`.
    ("\"ts\":#############", 5),
];

/// What a test writes where the doc has no reading to lend (a new block, in bless mode).
const CLOCK_DEFAULTS: [&str; 3] = ["2026-11-26T21:04:05.123Z", "21:04 UTC", "1795727045123"];

/// Every clock reading in `text`: (start, length, kind).
fn clock_readings(text: &str) -> Vec<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let fits = |at: usize, form: &str| {
        form.len() <= bytes.len() - at
            && form.bytes().zip(&bytes[at..]).all(|(f, b)| if f == b'#' { b.is_ascii_digit() } else { f == *b })
    };
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match CLOCK_FORMS.iter().enumerate().find(|(_, (form, _))| fits(at, form)) {
            Some((kind, (form, skip))) => {
                found.push((at + skip, form.len() - skip, kind));
                at += form.len();
            }
            None => at += 1,
        }
    }
    found
}

/// `actual` with each clock reading replaced by the one at the same place in `doc`, when the doc
/// has the same readings (count and kinds); otherwise by [`CLOCK_DEFAULTS`], so that the
/// comparison that follows shows the real difference.
fn with_doc_clock(actual: &str, doc: &str) -> String {
    let (mine, theirs) = (clock_readings(actual), clock_readings(doc));
    let same_shape = mine.len() == theirs.len() && mine.iter().zip(&theirs).all(|(m, t)| m.2 == t.2);
    let mut out = actual.to_string();
    for (i, &(at, len, kind)) in mine.iter().enumerate().rev() {
        let replacement = if same_shape {
            let (t_at, t_len, _) = theirs[i];
            &doc[t_at..t_at + t_len]
        } else {
            CLOCK_DEFAULTS[kind]
        };
        out.replace_range(at..at + len, replacement);
    }
    assert_eq!(out.len(), actual.len(), "clock readings are fixed width");
    time_elements_agree(&out);
    out
}

/// In every `<time datetime="T">HH:MM UTC</time>`, HH:MM is T's: the doc's readings must make sense.
fn time_elements_agree(text: &str) {
    for (i, _) in text.match_indices("<time datetime=\"") {
        let rest = &text[i + 16..];
        let (iso, shown) = (&rest[..24], &rest[26..35]);
        assert_eq!(&iso[11..16], &shown[..5], "a <time> shows {shown} for {iso}");
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP as text: a doc shows each line without its CR LF
// ---------------------------------------------------------------------------------------------

/// The bytes a doc's HTTP block stands for: every head line ends with CR LF, an empty line ends
/// the head, and the body (after the doc's empty line) follows as is.
fn wire(block: &str) -> Vec<u8> {
    let (head, body) = block.split_once("\n\n").unwrap_or((block, ""));
    let mut out = head.replace('\n', "\r\n");
    out.push_str("\r\n\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// The inverse of [`wire`]: how a doc shows these bytes.
fn unwire(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).expect("HTTP as UTF-8 text");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    assert!(head.split("\r\n").all(|l| !l.contains('\n')), "a bare LF in a head");
    let head = head.replace("\r\n", "\n");
    if body.is_empty() {
        head
    } else {
        format!("{head}\n\n{body}")
    }
}

/// Reads a response head, up to and including its empty line, and nothing more.
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap_or_else(|e| panic!("reading a head: {e}; got {head:?}"));
        head.push(byte[0]);
    }
    head
}

/// The value of header `name` in a doc's HTTP block.
fn header_in(block: &str, name: &str) -> String {
    block
        .lines()
        .find_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string()))
        .unwrap_or_else(|| panic!("no {name} header in {block:?}"))
}

// ---------------------------------------------------------------------------------------------
// Frames by hand (RFC 6455 §5.2)
// ---------------------------------------------------------------------------------------------

/// The masking key of every client frame in the docs: RFC 6455 §5.7's example. Browsers pick a
/// fresh random one per frame (§5.3); a fixed one makes the bytes repeatable.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PONG: u8 = 0xa;

fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0x0 => "continuation",
        0x1 => "text",
        0x2 => "binary",
        0x8 => "close",
        0x9 => "ping",
        0xa => "pong",
        _ => "reserved",
    }
}

/// A final, masked client frame, built byte by byte as §5.2 draws it, and checked against
/// tungstenite's own encoder given the same key.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));

    let code = match opcode {
        TEXT => OpCode::Data(Data::Text),
        CLOSE => OpCode::Control(Control::Close),
        PONG => OpCode::Control(Control::Pong),
        other => panic!("no client frame with opcode {other:#x} here"),
    };
    let header = FrameHeader { is_final: true, opcode: code, mask: Some(MASK), ..FrameHeader::default() };
    let frame = Frame::from_payload(header, payload.to_vec().into());
    let mut theirs = Vec::new();
    frame.format(&mut theirs).unwrap();
    assert_eq!(out, theirs, "our client frame and tungstenite's differ");
    out
}

/// A frame taken apart: byte 0, the header's length, the masking key, and the payload unmasked.
struct Parsed {
    byte0: u8,
    header_len: usize,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
}

fn parse(frame: &[u8]) -> Parsed {
    let (mut at, len) = match frame[1] & 0x7f {
        126 => (4, u16::from_be_bytes([frame[2], frame[3]]) as usize),
        127 => (10, u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize),
        n => (2, n as usize),
    };
    let mask = (frame[1] & 0x80 != 0).then(|| {
        at += 4;
        [frame[at - 4], frame[at - 3], frame[at - 2], frame[at - 1]]
    });
    assert_eq!(frame.len(), at + len, "one whole frame");
    let payload = frame[at..].iter().enumerate().map(|(i, b)| mask.map_or(*b, |m| b ^ m[i % 4])).collect();
    Parsed { byte0: frame[0], header_len: at, mask, payload }
}

/// Reads one whole frame from the server (header and payload), as the bytes that came.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    // The list of rooms comes to every member whenever it changes (the `rooms` event): it is not
    // the frame any step of the walkthrough waits for.
    loop {
        let frame = read_any_frame(stream);
        if !parse(&frame).payload.starts_with(br#"<ul id="rooms""#) {
            return frame;
        }
    }
}

/// The next frame from the server, whatever it is.
fn read_any_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut frame = vec![0u8; 2];
    stream.read_exact(&mut frame).unwrap_or_else(|e| panic!("reading a frame header: {e}"));
    assert_eq!(frame[1] & 0x80, 0, "a server frame must not be masked (RFC 6455 §5.1)");
    let extended = match frame[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    frame.resize(2 + extended, 0);
    stream.read_exact(&mut frame[2..]).unwrap();
    let len = match extended {
        2 => u16::from_be_bytes([frame[2], frame[3]]) as usize,
        8 => u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
        _ => (frame[1] & 0x7f) as usize,
    };
    let at = frame.len();
    frame.resize(at + len, 0);
    stream.read_exact(&mut frame[at..]).unwrap_or_else(|e| panic!("reading {len} bytes of payload: {e}"));
    frame
}

/// Reads frames until one satisfies `wanted`; returns it. Fails after [`TIMEOUT`].
fn read_until(stream: &mut TcpStream, what: &str, wanted: impl Fn(&Parsed) -> bool) -> Vec<u8> {
    let until = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < until, "no {what} within {TIMEOUT:?}");
        let frame = read_frame(stream);
        if wanted(&parse(&frame)) {
            return frame;
        }
    }
}

fn is_chat_message(frame: &Parsed) -> bool {
    frame.payload.starts_with(br#"<ul id="messages" hx-swap-oob="beforeend"><li class="message""#)
}

/// Hex bytes separated by spaces.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// One line of a dump: the bytes, then what they mean.
fn dump_line(out: &mut String, bytes: &str, meaning: &str) {
    out.push_str(format!("{bytes:<25}{meaning}").trim_end());
    out.push('\n');
}

/// 16 bytes a row, in hex and as ASCII (`.` for anything else).
fn dump_rows(out: &mut String, bytes: &[u8]) {
    for row in bytes.chunks(16) {
        let ascii: String = row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
        out.push_str(&format!("{:<49}|{ascii}|\n", hex(row)));
    }
}

/// A frame as an annotated hex dump: every header field named, the payload in rows, and for a
/// masked frame the payload unmasked too. Made from the bytes alone, by our own reading of §5.2.
fn dump(frame: &[u8]) -> String {
    let f = parse(frame);
    let mut out = String::new();
    let (fin, rsv, opcode) = (f.byte0 >> 7, (f.byte0 >> 4) & 0b111, f.byte0 & 0xf);
    let byte0 = format!("byte 0: FIN={fin}, RSV1-3={rsv:03b}, opcode=0x{opcode:x} ({})", opcode_name(opcode));
    dump_line(&mut out, &hex(&frame[..1]), &byte0);
    let (masked, len7) = (u8::from(f.mask.is_some()), frame[1] & 0x7f);
    let len = f.payload.len();
    let byte1 = match len7 {
        126 => format!("byte 1: MASK={masked}, length 126: the real length is in the next 2 bytes"),
        127 => format!("byte 1: MASK={masked}, length 127: the real length is in the next 8 bytes"),
        n => format!("byte 1: MASK={masked}, length {n} (up to 125 fits in these 7 bits)"),
    };
    dump_line(&mut out, &hex(&frame[1..2]), &byte1);
    match len7 {
        126 => dump_line(&mut out, &hex(&frame[2..4]), &format!("bytes 2-3: length {len} (16 bits, big-endian)")),
        127 => dump_line(&mut out, &hex(&frame[2..10]), &format!("bytes 2-9: length {len} (64 bits, big-endian)")),
        _ => {}
    }
    let at = f.header_len;
    if let Some(mask) = f.mask {
        dump_line(&mut out, &hex(&mask), &format!("bytes {}-{}: masking key", at - 4, at - 1));
    }
    if len == 0 {
        dump_line(&mut out, "", "(no payload)");
        return out.trim_end().to_string();
    }
    let state = if f.mask.is_some() { "masked" } else { "not masked" };
    dump_line(&mut out, "", &format!("bytes {at}-{}: payload, {len} bytes, {state}:", at + len - 1));
    dump_rows(&mut out, &frame[at..]);
    if let Some(mask) = f.mask {
        let worked: Vec<String> = frame[at..]
            .iter()
            .zip(&f.payload)
            .take(4)
            .enumerate()
            .map(|(i, (m, p))| match *p {
                b' '..=b'~' => format!("{m:02x}^{:02x}={p:02x} {:?}", mask[i % 4], *p as char),
                _ => format!("{m:02x}^{:02x}={p:02x}", mask[i % 4]),
            })
            .collect();
        dump_line(&mut out, "", "unmasked: payload byte i XOR key byte (i mod 4), e.g.");
        dump_line(&mut out, "", &worked.join("  "));
        dump_rows(&mut out, &f.payload);
    }
    if opcode == CLOSE && len >= 2 {
        let code = u16::from_be_bytes([f.payload[0], f.payload[1]]);
        dump_line(&mut out, "", &format!("close: status code 0x{code:04x} = {code}, then the reason in UTF-8"));
    }
    out.trim_end().to_string()
}

// ---------------------------------------------------------------------------------------------
// A page on a raw socket
// ---------------------------------------------------------------------------------------------

/// Opens a raw connection, sends `request`, and returns the stream and the response head.
fn send_request(addr: SocketAddr, request: &[u8]) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request).unwrap();
    let head = read_head(&mut stream);
    (stream, head)
}

/// A page of the lobby on a raw socket, named `name`, past its 101 and its welcome frame.
fn raw_page(addr: SocketAddr, name: &str) -> TcpStream {
    let request = format!(
        "GET /connect?name={name} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let (mut stream, head) = send_request(addr, request.as_bytes());
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{}", String::from_utf8_lossy(&head));
    let welcome = parse(&read_frame(&mut stream));
    assert!(welcome.payload.starts_with(br#"<ul id="messages" hx-swap-oob="true""#), "the welcome comes first");
    stream
}

// ---------------------------------------------------------------------------------------------
// docs/walkthrough.md
// ---------------------------------------------------------------------------------------------

/// Every line of a doc's HTML block that is not `...` is a line of `page`, in the same order
/// (leading and trailing spaces aside).
fn lines_in_order(doc: &str, name: &str, page: &str) {
    let shown = block(doc, name);
    let mut page_lines = page.lines().map(str::trim);
    for line in shown.lines().map(str::trim).filter(|l| *l != "...") {
        assert!(
            page_lines.any(|p| p == line),
            "{doc}, block {name}: the line {line:?} is not in the page (or not in this order):\n{page}"
        );
    }
}

#[test]
fn walkthrough_page_is_what_the_server_serves() {
    let server = TestServer::start(&[]);
    let page = support::get(server.addr, "/?name=ann");
    assert_eq!(page.status, 200);
    lines_in_order(WALKTHROUGH, "page-html", &page.body_text());
}

/// The JSON the page sends cannot be made without a browser (the browser suite in `e2e/` sends it
/// for real); it was captured from one. What can drift is checked here: the form it comes from,
/// the headers htmx adds, in htmx's order, and that the server takes it.
#[test]
fn walkthrough_page_json_is_what_the_ws_extension_builds() {
    let json = block(WALKTHROUGH, "page-json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("the page's JSON parses");
    // The form: `<form id="send" ws-send>` with a text area named `message`, no name, no hx-target.
    let page = include_str!("../assets/index.html");
    let form = support::element(page, "<form id=\"send\"", ">").expect("the page has the send form");
    assert!(form.contains("ws-send") && !form.contains(" name=") && !form.contains("hx-target"), "{form}");
    assert!(page.contains(r#"<textarea name="message""#));
    assert_eq!(value["message"], "tea's ready <3");
    let headers = &value["HEADERS"];
    assert_eq!(headers["HX-Request"], "true");
    assert_eq!(headers["HX-Trigger"], "send", "the id of the form that triggered");
    assert_eq!(headers["HX-Trigger-Name"], serde_json::Value::Null, "the form has no name attribute");
    assert_eq!(headers["HX-Target"], "send", "no hx-target: the target is the form itself");
    assert_eq!(headers["HX-Current-URL"], "http://127.0.0.1:8080/?name=ann");
    // The header names in the order htmx writes them (JSON.stringify keeps insertion order).
    let htmx = include_str!("../assets/vendor/htmx-2.0.11.min.js");
    let object = support::element(htmx, "{\"HX-Request\":\"true\"", "}").expect("htmx builds its headers");
    let keys = |text: &str| -> Vec<String> {
        text.split("\"HX-").skip(1).map(|k| format!("HX-{}", k.split('"').next().unwrap())).collect()
    };
    assert_eq!(keys(&json), keys(object), "HEADERS as htmx 2.0.11 builds them");
    // The ws extension sends the form's values plus HEADERS, through JSON.stringify.
    let ws = include_str!("../assets/vendor/htmx-ext-ws-2.0.4.js");
    assert!(ws.contains("toSend.HEADERS = headers") && ws.contains("body = JSON.stringify(toSend)"));
    let said = ClientEvent::parse(&json, 2000).expect("the server reads it");
    assert_eq!(said, Some(ClientEvent::Chat("tea's ready <3".into())));
}

/// RFC 6455 §1.3 and §4.2.2: the GUID every server appends to the client's key.
const RFC_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#[test]
fn walkthrough_accept_key_step_by_step() {
    let key = header_in(&block(WALKTHROUGH, "upgrade-request"), "Sec-WebSocket-Key");
    let nonce = base64::engine::general_purpose::STANDARD.decode(&key).expect("the key is base64");
    let joined = format!("{key}{RFC_GUID}");
    let digest = Sha1::digest(joined.as_bytes());
    let accept = base64::engine::general_purpose::STANDARD.encode(digest);
    assert_eq!(chatroom::ws::handshake::accept_key(&key), accept, "the server computes the same");
    assert_eq!(header_in(&block(WALKTHROUGH, "upgrade-response"), "Sec-WebSocket-Accept"), accept);
    let readable =
        String::from_utf8(nonce.clone()).ok().filter(|s| s.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    let rows = [
        ("Sec-WebSocket-Key", key.clone()),
        (
            &format!("  base64-decoded: {} bytes", nonce.len()),
            match readable {
                Some(s) => format!("{} ({s:?})", hex(&nonce)),
                None => hex(&nonce),
            },
        ),
        (&format!("1. key + GUID: {} bytes", joined.len()), joined.clone()),
        ("2. SHA-1 of that: 20 bytes", hex(&digest)),
        ("3. base64 of the digest", accept.clone()),
    ];
    let text: Vec<String> = rows.iter().map(|(what, value)| format!("{what:<30}{value}")).collect();
    check(WALKTHROUGH, "accept-key", &text.join("\n"));
}

#[test]
fn walkthrough_length_forms_are_what_encoded_frame_writes() {
    let mut rows = vec![format!("{:<16}{}", "payload length", "header of a final, unmasked text frame")];
    for len in [5usize, 125, 126, 65_535, 65_536] {
        let frame = EncodedFrame::text(&"x".repeat(len));
        let parsed = parse(frame.as_bytes());
        assert_eq!(parsed.payload.len(), len);
        rows.push(format!("{:<16}{}", format!("{len} bytes"), hex(&frame.as_bytes()[..parsed.header_len])));
    }
    check(WALKTHROUGH, "length-forms", &rows.join("\n"));
}

/// The heart of the walkthrough, on a real server: ann's page opens its WebSocket with the very
/// bytes of the doc, sends the doc's masked frame, and bob's page (and ann's) receives the relay.
#[test]
fn walkthrough_one_message_over_a_real_server() {
    let server = TestServer::start(&[]);
    // Bob's page is in the lobby first, on a raw socket so that the test sees every byte it gets.
    let mut bob = raw_page(server.addr, "bob");

    // Ann's page: the upgrade request of the doc, byte for byte, and the 101 that answers it.
    let request = wire(&block(WALKTHROUGH, "upgrade-request"));
    let (mut ann, head) = send_request(server.addr, &request);
    check(WALKTHROUGH, "upgrade-response", &unwire(&head));
    let welcome = parse(&read_frame(&mut ann));
    assert!(welcome.payload.starts_with(br#"<ul id="messages" hx-swap-oob="true""#), "the welcome comes first");

    // Ann presses Enter: the ws extension's JSON, in a masked text frame.
    let sent = client_frame(TEXT, block(WALKTHROUGH, "page-json").as_bytes());
    check(WALKTHROUGH, "client-frame", &dump(&sent));
    ann.write_all(&sent).unwrap();

    // The relay: one frame, encoded once, the same bytes to every member, sender included.
    let to_bob = read_until(&mut bob, "the relayed message", is_chat_message);
    let to_ann = read_until(&mut ann, "the relayed message", is_chat_message);
    assert_eq!(to_bob, to_ann, "every member gets the very same bytes");
    let relayed = parse(&to_bob);
    let fragment_doc = block(WALKTHROUGH, "relay-fragment");
    let fragment = with_doc_clock(std::str::from_utf8(&relayed.payload).unwrap(), &fragment_doc);
    check(WALKTHROUGH, "relay-fragment", &fragment);
    let frame = [&to_bob[..relayed.header_len], fragment.as_bytes()].concat();
    check(WALKTHROUGH, "server-frame", &dump(&frame));

    // The log line, written before the relay, and the same instant as the fragment's <time>.
    let log_path = server.data_dir().unwrap().join("lobby.jsonl");
    let log = std::fs::read_to_string(log_path).unwrap();
    let line: ChatMessage = serde_json::from_str(log.trim_end()).expect("the log line is a ChatMessage");
    let iso = std::str::from_utf8(&relayed.payload).unwrap().split("datetime=\"").nth(1).unwrap()[..24].to_string();
    assert_eq!(support::rfc3339(line.ts), iso, "one timestamp, two spellings");
    let log_doc = block(WALKTHROUGH, "log-line");
    let doc_ms = clock_readings(&log_doc).first().map(|&(at, len, _)| log_doc[at..at + len].parse::<u64>().unwrap());
    let doc_iso = clock_readings(&fragment_doc).first().map(|&(at, len, _)| fragment_doc[at..at + len].to_string());
    assert_eq!(doc_ms.map(support::rfc3339), doc_iso, "the doc's log line and fragment tell the same time");
    check(WALKTHROUGH, "log-line", &with_doc_clock(log.trim_end(), &log_doc));

    // The history API, asked with the doc's request.
    let request = block(WALKTHROUGH, "history-request");
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(&wire(&request)).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let doc = block(WALKTHROUGH, "history-response");
    check(WALKTHROUGH, "history-response", &with_doc_clock(&unwire(&response), &doc));
}

#[test]
fn walkthrough_heartbeats_and_closes_over_a_real_server() {
    let server = TestServer::start(&["--ping-interval", "1"]);
    let mut page = raw_page(server.addr, "ann");

    // The page's own heartbeat: the text "ping", answered with the text "pong".
    let ping = client_frame(TEXT, b"ping");
    check(WALKTHROUGH, "ping-text", &dump(&ping));
    page.write_all(&ping).unwrap();
    check(WALKTHROUGH, "pong-text", &dump(&read_frame(&mut page)));

    // After --ping-interval of silence, the server's Ping; the browser answers with a Pong.
    check(WALKTHROUGH, "server-ping", &dump(&read_frame(&mut page)));
    let pong = client_frame(PONG, b"");
    check(WALKTHROUGH, "client-pong", &dump(&pong));
    page.write_all(&pong).unwrap();

    // Another page closes its tab: Close 1001 (going away), and the server's reply.
    let mut leaving = raw_page(server.addr, "bob");
    let close = client_frame(CLOSE, &1001u16.to_be_bytes());
    check(WALKTHROUGH, "client-close", &dump(&close));
    leaving.write_all(&close).unwrap();
    check(WALKTHROUGH, "close-echo", &dump(&read_frame(&mut leaving)));

    // The server stops: 1012, after which the page reconnects by itself.
    server.signal(libc::SIGTERM);
    let goodbye = read_until(&mut page, "the server's Close", |f| f.byte0 & 0xf == CLOSE);
    check(WALKTHROUGH, "close-1012", &dump(&goodbye));
}

// ---------------------------------------------------------------------------------------------
// docs/protocol.md
// ---------------------------------------------------------------------------------------------

/// 2026-11-20T09:15:00.000Z and 2026-11-26T21:00:00.123Z, in milliseconds since 1970.
const FIRST_MESSAGE_MS: u64 = 1_795_166_100_000;
const HI_ALL_MS: u64 = 1_795_726_800_123;

/// A data dir whose lobby log holds 41 messages: ann's "first!", 39 more, and ann's "hi all".
fn lobby_with_41_messages() -> TempDir {
    let dir = TempDir::new("docs-protocol");
    let mut log = support::log_line(1, FIRST_MESSAGE_MS, "ann", "first!");
    for seq in 2..=40 {
        let name = if seq % 2 == 0 { "bob" } else { "ann" };
        log.push_str(&support::log_line(seq, FIRST_MESSAGE_MS + seq * 60_000, name, &format!("message {seq}")));
    }
    log.push_str(&support::log_line(41, HI_ALL_MS, "ann", "hi all"));
    std::fs::write(dir.path().join("lobby.jsonl"), log).unwrap();
    dir
}

/// Reads JSON events until `wanted` says yes; returns that event's text as the server wrote it.
fn text_of_event(client: &mut Client, wanted: impl FnMut(&Event<'static>) -> bool) -> String {
    client.recv_event_text_where(wanted).1
}

/// Reads the next JSON event, which must be one that `expected` says yes to.
fn next_event_is(client: &mut Client, expected: impl FnOnce(&Event<'static>) -> bool) {
    let event = client.recv_event();
    assert!(expected(&event), "unexpected event: {event:?}");
}

/// Whether `pattern`, in which each `...` stands for any text, occurs in `text`.
fn occurs(pattern: &str, text: &str) -> bool {
    // The first piece may start anywhere; each next one must follow the one before.
    let mut rest = text;
    for piece in pattern.split("...").filter(|p| !p.is_empty()) {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Every code span in a doc's table occurs, `...` standing for any text, in one of `fragments`.
fn spans_occur(doc: &str, name: &str, fragments: &[String]) {
    let table = block(doc, name);
    let spans: Vec<&str> = table.split('`').skip(1).step_by(2).collect();
    assert!(!spans.is_empty(), "{doc}, block {name}: no code spans");
    for span in spans {
        assert!(
            fragments.iter().any(|f| occurs(span, f)),
            "{doc}, block {name}: `{span}` is in none of the fragments the server sent:\n{}",
            fragments.join("\n")
        );
    }
}

#[test]
fn protocol_json_examples_over_a_real_server() {
    let data = lobby_with_41_messages();
    let dir = data.path().to_str().unwrap();
    let server = TestServer::start(&["--data-dir", dir, "--history", "1"]);
    let url = |name: &str| server.ws_url(&format!("/connect?name={}", support::url_encode(name)));

    // Ann's page, to see the HTML side of the same events.
    let (mut page, welcome) = Client::join(&url("ann"));
    // Bob, a JSON client: history, roster, notice, each compared as the server wrote it.
    let mut bob = Client::connect_json(&url("bob"));
    check(PROTOCOL, "history-event", &bob.recv_raw_text());
    let members = ["ann", "bob", "..."].map(Into::into).to_vec();
    let big = json::to_text(&Event::Roster { room: "stadium".into(), members, count: Some(2417) });
    check(PROTOCOL, "roster-event", &format!("{}\n{big}", bob.recv_raw_text()));
    next_event_is(&mut bob, |e| matches!(e, Event::Notice { .. }));
    // A second ann, as a JSON client, is told the name is taken.
    let mut ann2 = Client::connect_json(&url("ann"));
    next_event_is(&mut ann2, |e| matches!(e, Event::History { .. }));
    next_event_is(&mut ann2, |e| matches!(e, Event::Roster { .. }));
    check(PROTOCOL, "notice-event", &ann2.recv_raw_text());

    // Bob says something: the message event, and the page's fragment of it.
    bob.say_json("<b>hello</b> & welcome, @ANN");
    let message = text_of_event(&mut ann2, |e| matches!(e, Event::Message(_)));
    check(PROTOCOL, "message-event", &with_doc_clock(&message, &block(PROTOCOL, "message-event")));
    let message_html = page.recv_containing(r#"data-seq="42""#);

    // Carol comes, bob goes.
    let (_carol, _) = Client::join_json(&url("carol"));
    let joined = text_of_event(&mut ann2, |e| matches!(e, Event::Join(a) if a.name == "carol"));
    let joined_html = page.recv_containing("carol");
    bob.ws.close(None).unwrap();
    let left = text_of_event(&mut ann2, |e| matches!(e, Event::Leave(a) if a.name == "bob"));
    let left_html = page.recv_containing("event leave");
    let doc = block(PROTOCOL, "join-leave-events");
    check(PROTOCOL, "join-leave-events", &with_doc_clock(&format!("{joined}\n{left}"), &doc));

    // Something that is not a chat message.
    ann2.send_text("not json");
    check(PROTOCOL, "error-event", &text_of_event(&mut ann2, |e| matches!(e, Event::Error { .. })));
    page.send_text("not json");
    let error_html = page.recv_containing("notice error");

    // The list of rooms, which comes to everyone within seconds of a change.
    let rooms_html = page.recv_room_list(support::TIMEOUT).expect("a room list");

    spans_occur(PROTOCOL, "page-fragments", &[welcome, message_html, joined_html, left_html, error_html, rooms_html]);

    let older = support::get(server.addr, "/r/lobby/history?before=2&limit=1");
    assert_eq!(older.status, 200);
    check(PROTOCOL, "history-page", &older.body_text());
}

/// A message's text on the page: the block's first line is what is said, as a JSON string (as
/// the server writes it to JSON clients), the second the `<span>` the page gets.
#[test]
fn protocol_formatted_text_over_a_real_server() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=bob"));
    let (mut ann, _) = Client::join_json(&server.ws_url("/connect?name=ann"));
    let doc = block(PROTOCOL, "formatted-text");
    let said: String = serde_json::from_str(doc.lines().next().unwrap()).expect("the first line is a JSON string");
    ann.say_json(&said);
    let (_, raw) = ann.recv_event_text_where(|e| matches!(e, Event::Message(_)));
    let event: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let fragment = page.recv_containing(r#"class="message""#);
    let span = support::element(&fragment, r#"<span class="text">"#, "</span></li>").expect("the message's text");
    let shown = format!("{}\n{}", event["text"], span.strip_suffix("</li>").unwrap());
    check(PROTOCOL, "formatted-text", &shown);
}

#[test]
fn protocol_search_over_a_real_server() {
    let data = lobby_with_41_messages();
    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    let found = support::get(server.addr, "/r/lobby/search?q=%20MESSAGE%203&limit=2");
    assert_eq!(found.status, 200);
    check(PROTOCOL, "search-results", &found.body_text());
}

#[test]
fn protocol_room_list_over_a_real_server() {
    let data = TempDir::new("docs-rooms");
    // Written an hour ago: the list shows rooms active within the last day.
    let an_hour_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64 - 3_600_000;
    let lines = |room: &str, n: u64| -> String {
        (1..=n).map(|seq| support::log_line(seq, an_hour_ago + seq, "ann", &format!("{room} {seq}"))).collect()
    };
    std::fs::write(data.path().join("lobby.jsonl"), lines("lobby", 120)).unwrap();
    std::fs::write(data.path().join("kitchen.jsonl"), lines("kitchen", 8)).unwrap();
    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    let mut three: Vec<Client> = (0..3).map(|_| Client::join_json(&server.ws_url("/connect")).0).collect();
    let rooms = support::get(server.addr, "/api/rooms");
    assert_eq!(rooms.status, 200);
    check(PROTOCOL, "room-list", &rooms.body_text());
    // The same list, live: the `rooms` event once all three are in.
    let until = std::time::Instant::now() + support::TIMEOUT;
    let live = loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let text = three[0].recv_room_list(left).expect("a room list with all three in the lobby");
        if text.contains(r#"{"name":"lobby","members":3,"#) {
            break text;
        }
    };
    check(PROTOCOL, "rooms-event", &live);
}

// ---------------------------------------------------------------------------------------------
// Links from the docs to the code
// ---------------------------------------------------------------------------------------------

/// Every `[...](target)` link of a Markdown text: (text, target).
fn links(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let before = &rest[..at];
        let label = before.rfind('[').map(|open| before[open + 1..].to_string()).unwrap_or_default();
        let after = &rest[at + 2..];
        let Some(close) = after.find(')') else { break };
        found.push((label, after[..close].to_string()));
        rest = &after[close..];
    }
    found
}

/// Whether `file` (Rust source) defines an item called `name`: a function, type, constant,
/// module, or an enum variant; or has methods for a type defined elsewhere (`impl Room`, in a
/// file beside the type's).
fn defines(source: &str, name: &str) -> bool {
    let kinds = ["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "impl"];
    source.lines().map(str::trim_start).any(|line| {
        // `pub`, `pub(crate)`, `pub(super)`...
        let line = match line.strip_prefix("pub") {
            Some(rest) if rest.starts_with(' ') => rest.trim_start(),
            Some(rest) if rest.starts_with('(') => rest.split_once(") ").map_or(line, |(_, after)| after),
            _ => line,
        };
        kinds.iter().any(|kind| {
            line.strip_prefix(kind).and_then(|l| l.strip_prefix(' ')).is_some_and(|l| {
                l.strip_prefix(name).is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
            })
        }) || (name.starts_with(char::is_uppercase)
            && line.strip_prefix(name).is_some_and(|after| after.starts_with([',', ' ', '('])))
    })
}

/// The docs name the code they describe, as [`module::item`](../src/module.rs). Each such link
/// must point at a file that exists and defines every named item, so a rename shows up here.
#[test]
fn docs_link_to_code_that_exists() {
    let mut broken = Vec::new();
    for doc in [WALKTHROUGH, ARCHITECTURE, PROTOCOL] {
        let text = read_doc(doc);
        let dir = doc_path(doc).parent().unwrap().to_path_buf();
        let mut code_links = 0;
        for (label, target) in links(&text) {
            if target.starts_with("http") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = dir.join(target.split('#').next().unwrap());
            if !path.exists() {
                broken.push(format!("{doc}: the link [{label}]({target}) points at nothing"));
                continue;
            }
            // Only links named after an item (`module::Type::item`), not after a file.
            if !target.ends_with(".rs") || !label.starts_with('`') || label.contains(['/', '.']) {
                continue;
            }
            code_links += 1;
            let source = std::fs::read_to_string(&path).unwrap();
            let item = label.trim_matches('`');
            for segment in item.split("::").filter(|s| s.starts_with(|c: char| c.is_uppercase())) {
                if !defines(&source, segment) {
                    broken.push(format!("{doc}: [{label}]({target}): no {segment} in {target}"));
                }
            }
            let last = item.rsplit("::").next().unwrap();
            let module = path.file_stem().unwrap().to_str().unwrap();
            let is_module = last == module || (module == "mod" && path.parent().unwrap().ends_with(last));
            if !(is_module || defines(&source, last)) {
                broken
                    .push(format!("{doc}: [{label}]({target}): {target} defines no {last} (renamed? update the doc)"));
            }
        }
        if doc != PROTOCOL {
            assert!(code_links > 10, "{doc}: only {code_links} links to the code");
        }
    }
    assert!(broken.is_empty(), "{} links from the docs to the code are broken:\n{}", broken.len(), broken.join("\n"));
}
