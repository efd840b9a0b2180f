//! WebSocket frames, written byte by byte after a valid handshake, and the close code each gets.

use super::*;

/// The masking key of every client frame here (RFC 6455 §5.7's example key).
pub(crate) const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame header with `byte0` (FIN, RSV, opcode) and a payload length, masked or not; the length
/// takes 7, 7+16 or 7+64 bits as §5.2 says.
pub(crate) fn frame_header(byte0: u8, len: u64, masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![byte0];
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
    }
    out
}

/// A masked client frame.
pub(crate) fn frame(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(byte0, payload.len() as u64, true);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// An unmasked frame, which only a server may send.
pub(crate) fn unmasked(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(byte0, payload.len() as u64, false);
    out.extend_from_slice(payload);
    out
}

/// A masked Close frame with `code` and `reason` bytes.
pub(crate) fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    frame(0x88, &[&code.to_be_bytes()[..], reason].concat())
}

/// Byte 0 of a frame: FIN, then the opcode.
pub(crate) const FIN: u8 = 0x80;
pub(crate) const CONTINUATION: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xA;

/// One hostile frame sequence and the Close the server must answer it with.
pub(crate) struct FrameCase {
    pub(crate) name: &'static str,
    pub(crate) bytes: Vec<u8>,
    /// The status code of the server's Close frame; `None` for a Close without a payload.
    pub(crate) code: Option<u16>,
    /// A phrase of the Close frame's reason.
    pub(crate) reason: &'static str,
}

pub(crate) fn ws(name: &'static str, bytes: Vec<u8>, code: Option<u16>, reason: &'static str) -> FrameCase {
    FrameCase { name, bytes, code, reason }
}

pub(crate) const PROTOCOL_ERROR: Option<u16> = Some(1002);
pub(crate) const UNSUPPORTED: Option<u16> = Some(1003);
pub(crate) const INVALID_DATA: Option<u16> = Some(1007);
pub(crate) const TOO_BIG: Option<u16> = Some(1009);
pub(crate) const BAD_UTF8: &str = "invalid UTF-8";
/// tungstenite's answer to a Close with a code no endpoint may send (§7.4.1, §7.4.2).
pub(crate) const BAD_CLOSE_CODE: &str = "Protocol violation";

/// The corpus of illegal frames; the server runs with the default `--max-message` of 65536.
#[rustfmt::skip]
pub(crate) fn frame_cases() -> Vec<FrameCase> {
    vec![
        ws("unmasked client frame", unmasked(FIN | TEXT, b"hi"), PROTOCOL_ERROR, "unmasked frame"),
        ws("RSV1 set without an extension", frame(FIN | 0x40 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("RSV2 set", frame(FIN | 0x20 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("RSV3 set", frame(FIN | 0x10 | TEXT, b"hi"), PROTOCOL_ERROR, "Reserved bits are non-zero"),
        ws("reserved data opcode 3", frame(FIN | 0x3, b"hi"), PROTOCOL_ERROR, "invalid opcode: 3"),
        ws("reserved data opcode 7", frame(FIN | 0x7, b""), PROTOCOL_ERROR, "invalid opcode: 7"),
        ws("reserved control opcode 0xB", frame(FIN | 0xB, b"hi"), PROTOCOL_ERROR, "invalid opcode: 11"),
        ws("reserved control opcode 0xF", frame(FIN | 0xF, b""), PROTOCOL_ERROR, "invalid opcode: 15"),
        ws("continuation without a start", frame(FIN | CONTINUATION, b"hi"), PROTOCOL_ERROR, "nothing to continue"),
        ws("new text frame inside a fragmented message", [frame(TEXT, b"a"), frame(FIN | TEXT, b"b")].concat(), PROTOCOL_ERROR, "While waiting for more fragments"),
        ws("new binary frame inside a fragmented message", [frame(TEXT, b"a"), frame(FIN | BINARY, b"b")].concat(), PROTOCOL_ERROR, "While waiting for more fragments"),
        ws("fragmented ping (FIN=0)", frame(PING, b"x"), PROTOCOL_ERROR, "Fragmented control frame"),
        ws("fragmented close (FIN=0)", frame(CLOSE, &1000u16.to_be_bytes()), PROTOCOL_ERROR, "Fragmented control frame"),
        ws("ping with 126 bytes of payload", frame(FIN | PING, &[b'x'; 126]), PROTOCOL_ERROR, "Control frame too big"),
        ws("close with 126 bytes of payload", close_frame(1000, &[b'x'; 124]), PROTOCOL_ERROR, "Control frame too big"),
        ws("close with a 1-byte payload", frame(FIN | CLOSE, &[0x03]), PROTOCOL_ERROR, "Invalid close sequence"),
        ws("close code 0", close_frame(0, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 999", close_frame(999, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1004 (reserved)", close_frame(1004, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1005 (never on the wire)", close_frame(1005, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1006 (never on the wire)", close_frame(1006, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1015 (never on the wire)", close_frame(1015, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 1016 (unassigned)", close_frame(1016, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 2999 (unassigned)", close_frame(2999, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 5000", close_frame(5000, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close code 65535", close_frame(65535, b""), PROTOCOL_ERROR, BAD_CLOSE_CODE),
        ws("close reason with invalid UTF-8", close_frame(1000, b"bye\xff\xfe"), INVALID_DATA, BAD_UTF8),
        ws("text with invalid UTF-8", frame(FIN | TEXT, b"hi\xff\xfe"), INVALID_DATA, BAD_UTF8),
        ws("text with an overlong encoding", frame(FIN | TEXT, b"\xc0\xaf"), INVALID_DATA, BAD_UTF8),
        ws("text with a UTF-16 surrogate", frame(FIN | TEXT, b"\xed\xa0\x80"), INVALID_DATA, BAD_UTF8),
        ws("text beyond U+10FFFF", frame(FIN | TEXT, b"\xf4\x90\x80\x80"), INVALID_DATA, BAD_UTF8),
        ws("fragmented text, UTF-8 broken at the end", [frame(TEXT, b"a\xe2\x82"), frame(FIN | CONTINUATION, b"")].concat(), INVALID_DATA, BAD_UTF8),
        // Fails fast: the bad byte is in the first fragment, and no further fragment is sent.
        ws("fragmented text, invalid in the first fragment", frame(TEXT, b"a\xff"), INVALID_DATA, BAD_UTF8),
        // Only the header is sent: the answer must come before any of the payload.
        ws("64-bit length of 1 TiB, header only", frame_header(FIN | BINARY, 1 << 40, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("64-bit length with the top bit set, header only", frame_header(FIN | TEXT, 1 << 63, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("length one over --max-message, header only", frame_header(FIN | TEXT, 65_537, true), TOO_BIG, "the limit is 65536 bytes"),
        ws("fragments that together exceed --max-message", [frame(TEXT, &[b'a'; 40_000]), frame(FIN | CONTINUATION, &[b'a'; 40_000])].concat(), TOO_BIG, "the limit is 65536 bytes"),
        // Finding (issue 12): tungstenite bounds a message's size, and empty continuation frames
        // have none, so this message never ended and was never counted: a core busy for 10 s.
        ws("endless empty continuation frames", [frame(TEXT, b"a"), frame(CONTINUATION, b"").repeat(40_000)].concat(), TOO_BIG, "its frames passed"),
        ws("endless empty continuation frames between pings", [frame(TEXT, b"a"), [frame(CONTINUATION, b""), frame(FIN | PING, b"")].concat().repeat(20_000)].concat(), TOO_BIG, "its frames passed"),
        ws("binary message in a chat room", frame(FIN | BINARY, &[1, 2, 3]), UNSUPPORTED, "binary messages are not accepted"),
        ws("empty binary message in a chat room", frame(FIN | BINARY, b""), UNSUPPORTED, "binary messages are not accepted"),
        ws("fragmented binary message in a chat room", [frame(BINARY, &[1]), frame(FIN | CONTINUATION, &[2])].concat(), UNSUPPORTED, "binary messages are not accepted"),
        // Controls: a valid Close is echoed with its code (§5.5.1), an empty one with an empty one.
        ws("close 1000 with a reason", close_frame(1000, b"bye"), Some(1000), "bye"),
        ws("close 3000 (registered range)", close_frame(3000, b""), Some(3000), ""),
        ws("close 4999 (private range)", close_frame(4999, b""), Some(4999), ""),
        ws("close without a payload", frame(FIN | CLOSE, b""), None, ""),
    ]
}

/// Reads one frame from the server: (byte 0, payload). Server frames are never masked.
pub(crate) fn read_frame(stream: &mut TcpStream) -> Result<(u8, Vec<u8>), String> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).map_err(|e| format!("reading a frame header: {e}"))?;
    if head[1] & 0x80 != 0 {
        return Err("the server masked a frame (RFC 6455 §5.1 forbids it)".into());
    }
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).map_err(|e| format!("reading a 16-bit length: {e}"))?;
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).map_err(|e| format!("reading a 64-bit length: {e}"))?;
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).map_err(|e| format!("reading {len} bytes of payload: {e}"))?;
    Ok((head[0], payload))
}

/// Opens a WebSocket to `path` by hand and reads the 101 and the welcome frame, so that what is
/// written next is exactly what the test wants on the wire.
pub(crate) fn raw_websocket(addr: SocketAddr, path: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}Sec-WebSocket-Key: {KEY}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("sending the handshake: {e}"))?;
    let response = read_response(&mut stream, true)?;
    if response.status != 101 || response.header("Sec-WebSocket-Accept").as_deref() != Some(ACCEPT) {
        return Err(format!("handshake refused: {}", response.head));
    }
    let (byte0, _) = read_frame(&mut stream).map_err(|e| format!("welcome: {e}"))?;
    if byte0 != FIN | TEXT {
        return Err(format!("welcome frame starts with {byte0:#04x}, not a final text frame"));
    }
    Ok(stream)
}

pub(crate) fn run_frame_case(addr: SocketAddr, room: &str, case: &FrameCase) -> Result<(), String> {
    let mut stream = raw_websocket(addr, &format!("/r/{room}/connect"))?;
    // The server may close before it has read everything; its Close frame is what counts.
    let _ = stream.write_all(&case.bytes);
    // Pongs answer the case's Pings (RFC 6455 §5.5.2), if it has any; then comes the Close.
    let (byte0, payload) = loop {
        match read_frame(&mut stream)? {
            (byte0, _) if byte0 == FIN | PONG => {}
            frame => break frame,
        }
    };
    if byte0 != FIN | CLOSE {
        return Err(format!("first frame {byte0:#04x} {:?} instead of a Close", lossy(&payload)));
    }
    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
    if code != case.code {
        return Err(format!("close code {code:?} instead of {:?} (reason {reason:?})", case.code));
    }
    if !reason.contains(case.reason) {
        return Err(format!("close reason {reason:?} lacks {:?}", case.reason));
    }
    expect_closed(&mut stream).map_err(|e| format!("after the Close: {e}"))
}

#[test]
fn hostile_websocket_frames_get_specific_close_codes() {
    let server = TestServer::start(&["--max-per-ip", "0", "--rate-limit", "0", "--memory"]);
    let cases = frame_cases();
    assert!(cases.len() >= 40, "the corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        // A room per case, so that no case hears another's members leave.
        let result = run_frame_case(server.addr, &format!("frames-{i}"), case).and_then(|()| still_serves(server.addr));
        if let Err(why) = result {
            failures.push(format!("  {} (expected close {:?}): {why}", case.name, case.code));
        }
    }
    assert!(failures.is_empty(), "{} of {} frame cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_chat_round_trip(&server, "after-frames");
}
