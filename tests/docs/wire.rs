//! What the checks compare: clock readings replaced by the doc's, HTTP shown as text, frames
//! written and dumped by hand (RFC 6455 §5.2), and a page on a raw socket.

use super::*;

/// The kinds of clock reading the server writes; `#` stands for a digit.
pub(crate) const CLOCK_FORMS: [(&str, usize); 3] = [
    // RFC 3339, UTC, milliseconds (`ts` in JSON, `datetime` of a `<time>`).
    ("####-##-##T##:##:##.###Z", 0),
    // What a `<time>` shows before the page's script puts it in local time.
    ("##:## UTC", 0),
    // Milliseconds since 1970 in a log line; the reading starts after `"ts":`.
    ("\"ts\":#############", 5),
];

/// What a test writes where the doc has no reading to lend (a new block, in bless mode).
pub(crate) const CLOCK_DEFAULTS: [&str; 3] = ["2026-11-26T21:04:05.123Z", "21:04 UTC", "1795727045123"];

/// Every clock reading in `text`: (start, length, kind).
pub(crate) fn clock_readings(text: &str) -> Vec<(usize, usize, usize)> {
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
pub(crate) fn with_doc_clock(actual: &str, doc: &str) -> String {
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
pub(crate) fn time_elements_agree(text: &str) {
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
pub(crate) fn wire(block: &str) -> Vec<u8> {
    let (head, body) = block.split_once("\n\n").unwrap_or((block, ""));
    let mut out = head.replace('\n', "\r\n");
    out.push_str("\r\n\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// The inverse of [`wire`]: how a doc shows these bytes.
pub(crate) fn unwire(bytes: &[u8]) -> String {
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
pub(crate) fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap_or_else(|e| panic!("reading a head: {e}; got {head:?}"));
        head.push(byte[0]);
    }
    head
}

/// The value of header `name` in a doc's HTTP block.
pub(crate) fn header_in(block: &str, name: &str) -> String {
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
pub(crate) const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

pub(crate) const TEXT: u8 = 0x1;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PONG: u8 = 0xa;

pub(crate) fn opcode_name(opcode: u8) -> &'static str {
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
pub(crate) fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
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
pub(crate) struct Parsed {
    pub(crate) byte0: u8,
    pub(crate) header_len: usize,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) payload: Vec<u8>,
}

pub(crate) fn parse(frame: &[u8]) -> Parsed {
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
pub(crate) fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
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
pub(crate) fn read_any_frame(stream: &mut TcpStream) -> Vec<u8> {
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
pub(crate) fn read_until(stream: &mut TcpStream, what: &str, wanted: impl Fn(&Parsed) -> bool) -> Vec<u8> {
    let until = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < until, "no {what} within {TIMEOUT:?}");
        let frame = read_frame(stream);
        if wanted(&parse(&frame)) {
            return frame;
        }
    }
}

pub(crate) fn is_chat_message(frame: &Parsed) -> bool {
    frame.payload.starts_with(br#"<ul id="messages" hx-swap-oob="beforeend"><li class="message""#)
}

/// Hex bytes separated by spaces.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// One line of a dump: the bytes, then what they mean.
pub(crate) fn dump_line(out: &mut String, bytes: &str, meaning: &str) {
    out.push_str(format!("{bytes:<25}{meaning}").trim_end());
    out.push('\n');
}

/// 16 bytes a row, in hex and as ASCII (`.` for anything else).
pub(crate) fn dump_rows(out: &mut String, bytes: &[u8]) {
    for row in bytes.chunks(16) {
        let ascii: String = row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
        out.push_str(&format!("{:<49}|{ascii}|\n", hex(row)));
    }
}

/// A frame as an annotated hex dump: every header field named, the payload in rows, and for a
/// masked frame the payload unmasked too. Made from the bytes alone, by our own reading of §5.2.
pub(crate) fn dump(frame: &[u8]) -> String {
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
pub(crate) fn send_request(addr: SocketAddr, request: &[u8]) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request).unwrap();
    let head = read_head(&mut stream);
    (stream, head)
}

/// A page of the lobby on a raw socket, named `name`, past its 101 and its welcome frame.
pub(crate) fn raw_page(addr: SocketAddr, name: &str) -> TcpStream {
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
