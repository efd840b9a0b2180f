//! Encoding server-to-client WebSocket frames once, as bytes ready for any member's socket.
//!
//! Reading frames is tungstenite's job (see `connection.rs`). Writing the frames that go to many
//! members is ours, because of one property of the protocol: frames from the server are not
//! masked (RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client"). So the
//! very same bytes can be written to every member of a room. We build them once per message, and
//! each delivery is then one `write` of a byte slice: no per-member encoding and no allocation.
//!
//! The header layout comes from tungstenite's [`FrameHeader`], so the one place that knows the
//! wire format of a frame header stays in the library that also parses it.

use tungstenite::protocol::frame::coding::{CloseCode, OpCode};
use tungstenite::protocol::frame::coding::{Control, Data};
use tungstenite::protocol::frame::FrameHeader;

/// One complete, unmasked frame, encoded and ready to write to any number of sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedFrame(Vec<u8>);

impl EncodedFrame {
    /// A final text frame carrying `text` (RFC 6455 §5.6).
    ///
    /// Byte 0 is FIN (`0x80`) plus the opcode (`0x1`, text); byte 1 is the mask bit (0: servers
    /// never mask) plus the length, which takes 7, 7+16 or 7+64 bits (§5.2):
    ///
    /// ```
    /// use chatroom::protocol::frame::EncodedFrame;
    ///
    /// // §5.7: "A single-frame unmasked text message containing "Hello"".
    /// assert_eq!(EncodedFrame::text("Hello").as_bytes(), b"\x81\x05Hello");
    /// // 126 bytes no longer fit in 7 bits: 126, then the length in 16 bits.
    /// assert_eq!(&EncodedFrame::text(&"x".repeat(126)).as_bytes()[..4], [0x81, 0x7e, 0x00, 0x7e]);
    /// // 65,536 bytes take 127, then the length in 64 bits.
    /// let big = EncodedFrame::text(&"x".repeat(65_536));
    /// assert_eq!(&big.as_bytes()[..10], [0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    /// ```
    pub fn text(text: &str) -> Self {
        Self::encode(OpCode::Data(Data::Text), text.as_bytes())
    }

    /// A final binary frame.
    pub fn binary(data: &[u8]) -> Self {
        Self::encode(OpCode::Data(Data::Binary), data)
    }

    /// A Ping control frame (RFC 6455 §5.5.2); the peer must answer with a Pong.
    pub fn ping(payload: &[u8]) -> Self {
        Self::encode(OpCode::Control(Control::Ping), payload)
    }

    /// A Close frame with a status code and a short reason (RFC 6455 §5.5.1). Control frames carry
    /// at most 125 bytes of payload, so the reason is cut to 123 bytes, at a character boundary.
    ///
    /// ```
    /// use chatroom::protocol::frame::EncodedFrame;
    /// use tungstenite::protocol::frame::coding::CloseCode;
    ///
    /// // What every member gets when the server stops: opcode 0x8, then 1012 in two bytes.
    /// let close = EncodedFrame::close(CloseCode::Restart, "server restarting");
    /// assert_eq!(close.as_bytes(), b"\x88\x13\x03\xf4server restarting");
    /// ```
    pub fn close(code: CloseCode, reason: &str) -> Self {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let mut payload = Vec::with_capacity(2 + end);
        payload.extend_from_slice(&u16::from(code).to_be_bytes());
        payload.extend_from_slice(&reason.as_bytes()[..end]);
        Self::encode(OpCode::Control(Control::Close), &payload)
    }

    /// Several final text frames back to back, to be written with one `write` (e.g. a JSON
    /// `join` event and the `roster` that follows it).
    pub fn texts(texts: &[&str]) -> Self {
        let mut bytes = Vec::new();
        for text in texts {
            Self::push_text(&mut bytes, text);
        }
        EncodedFrame(bytes)
    }

    /// Appends a final text frame carrying `text` to `bytes`: for building several frames that go
    /// out in one write (see [`EncodedFrame::from_frames`]) without a buffer per frame.
    pub fn push_text(bytes: &mut Vec<u8>, text: &str) {
        Self::push(bytes, OpCode::Data(Data::Text), text.as_bytes());
    }

    /// Frames already encoded back to back (by [`EncodedFrame::push_text`]), to be written as one.
    pub fn from_frames(bytes: Vec<u8>) -> Self {
        EncodedFrame(bytes)
    }

    fn encode(opcode: OpCode, payload: &[u8]) -> Self {
        let mut bytes = Vec::new();
        Self::push(&mut bytes, opcode, payload);
        EncodedFrame(bytes)
    }

    /// Appends one final, unmasked frame to `bytes`.
    fn push(bytes: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
        let header = FrameHeader { is_final: true, opcode, ..FrameHeader::default() };
        let len = payload.len() as u64;
        bytes.reserve(header.len(len) + payload.len());
        header.format(len, bytes).expect("writing to a Vec cannot fail");
        bytes.extend_from_slice(payload);
    }

    /// The bytes to write.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_frame_has_a_two_byte_header() {
        // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
        assert_eq!(EncodedFrame::text("Hello").as_bytes(), &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    }

    #[test]
    fn longer_payloads_use_extended_lengths() {
        let f = EncodedFrame::binary(&[0u8; 256]);
        // §5.7: 256 bytes binary message in a single unmasked frame: 0x82 0x7E 0x0100.
        assert_eq!(&f.as_bytes()[..4], &[0x82, 0x7e, 0x01, 0x00]);
        assert_eq!(f.as_bytes().len(), 4 + 256);
        let f = EncodedFrame::binary(&vec![0u8; 70_000]);
        assert_eq!(f.as_bytes()[1], 0x7f);
        assert_eq!(f.as_bytes().len(), 10 + 70_000);
    }

    #[test]
    fn pushed_frames_are_the_same_bytes() {
        let mut bytes = Vec::new();
        EncodedFrame::push_text(&mut bytes, "Hello");
        EncodedFrame::push_text(&mut bytes, &"x".repeat(300));
        let expected =
            [EncodedFrame::text("Hello").as_bytes(), EncodedFrame::text(&"x".repeat(300)).as_bytes()].concat();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn close_frame_carries_code_and_cut_reason() {
        let f = EncodedFrame::close(CloseCode::Restart, "restarting");
        assert_eq!(&f.as_bytes()[..4], &[0x88, 12, 0x03, 0xf4]); // 1012
        let long = "é".repeat(100); // 200 bytes
        let f = EncodedFrame::close(CloseCode::Away, &long);
        assert!(f.as_bytes()[1] as usize <= 125);
        assert!(std::str::from_utf8(&f.as_bytes()[4..]).is_ok());
    }
}
