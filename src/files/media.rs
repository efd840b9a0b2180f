//! What a shared file is served as: its media type, and whether a browser may show it.
//!
//! A browser shows an `inline` file itself, in our origin's name, so only kinds that cannot carry
//! script are ever inline: PNG, JPEG, GIF and WebP pictures, and plain text. And a type is only
//! believed when the bytes agree, checked by their signature (the first bytes every such file
//! starts with) or, for text, by being valid UTF-8 without a NUL. Everything else (SVG, HTML,
//! PDF, programs, anything unknown, or a file whose bytes do not match the type it claims) is
//! served as an `attachment`, which a browser saves instead of opening; the download's
//! `Content-Security-Policy: sandbox` and `nosniff` hold even if one did not.

use crate::protocol::attachment::PICTURE_TYPES;

/// The type a file is served with when nothing better is known (RFC 9110 §8.3).
pub const UNKNOWN: &str = "application/octet-stream";

/// The first bytes of each picture type (RFC 2083 §12.12; JPEG's SOI and a marker; GIF87a and
/// GIF89a; a RIFF container of WEBP, where bytes 4 to 8 are its length).
fn signature_agrees(media_type: &str, head: &[u8]) -> bool {
    match media_type {
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => head.starts_with(b"\xff\xd8\xff"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP",
        _ => false,
    }
}

/// The media type an upload declares in its `Content-Type`, as `type/subtype` in lower case and
/// without parameters (RFC 9110 §8.3.1); [`UNKNOWN`] when there is none or it is not one.
pub fn declared(content_type: Option<&str>) -> String {
    let Some(value) = content_type else { return UNKNOWN.into() };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    // token = 1*tchar (RFC 9110 §5.6.2), on both sides of the one slash.
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    match essence.split_once('/') {
        Some((kind, sub))
            if !kind.is_empty() && !sub.is_empty() && kind.bytes().all(tchar) && sub.bytes().all(tchar) =>
        {
            essence
        }
        _ => UNKNOWN.into(),
    }
}

/// The type a file is served with, from the type it declared and what its bytes turned out to
/// be: a picture type or `text/plain` only when the bytes agree ([`UNKNOWN`] if they do not, as
/// the declared type was a lie); any other declared type as it is, to be served as an attachment.
pub fn served_type(declared: &str, sniffed: &Sniffer) -> String {
    let believed = match declared {
        "text/plain" => sniffed.is_text(),
        picture if PICTURE_TYPES.contains(&picture) => signature_agrees(picture, &sniffed.head),
        _ => return declared.to_string(),
    };
    if believed {
        declared.to_string()
    } else {
        UNKNOWN.into()
    }
}

/// Whether files of `media_type` (as [`served_type`] gave it) are served `inline`.
pub fn is_inline(media_type: &str) -> bool {
    media_type == "text/plain" || PICTURE_TYPES.contains(&media_type)
}

/// The `Content-Type` header for a file served as `media_type`: text gets its charset, since it
/// was checked to be UTF-8.
pub fn content_type(media_type: &str) -> String {
    if media_type == "text/plain" {
        "text/plain; charset=utf-8".into()
    } else {
        media_type.to_string()
    }
}

/// Watches an upload go by: keeps its first bytes (for the signatures) and checks, piece by
/// piece, that all of it is UTF-8 without a NUL (for text), a character split between pieces
/// included.
#[derive(Debug)]
pub struct Sniffer {
    head: Vec<u8>,
    text: bool,
    /// The start of a character cut off at the end of the last piece (at most 3 bytes).
    carry: Vec<u8>,
}

impl Default for Sniffer {
    fn default() -> Sniffer {
        Sniffer { head: Vec::with_capacity(HEAD), text: true, carry: Vec::new() }
    }
}

/// Bytes kept for the signatures: the longest needs 12 (WebP).
const HEAD: usize = 16;

impl Sniffer {
    /// Looks at the next piece.
    pub fn feed(&mut self, piece: &[u8]) {
        let wanted = HEAD - self.head.len();
        self.head.extend_from_slice(&piece[..wanted.min(piece.len())]);
        if !self.text {
            return;
        }
        let mut rest = piece;
        if !self.carry.is_empty() {
            // Complete the character the last piece cut off, one byte at a time (at most 3).
            while !rest.is_empty() && self.carry.len() < 4 {
                self.carry.push(rest[0]);
                rest = &rest[1..];
                match std::str::from_utf8(&self.carry) {
                    Ok(_) => break,
                    Err(e) if e.error_len().is_some() => {
                        self.text = false;
                        return;
                    }
                    Err(_) => {}
                }
            }
            if std::str::from_utf8(&self.carry).is_err() {
                // Still incomplete: the piece ended inside it as well.
                return;
            }
            if self.carry.contains(&0) {
                self.text = false;
                return;
            }
            self.carry.clear();
        }
        match std::str::from_utf8(rest) {
            Ok(_) => self.text = !rest.contains(&0),
            Err(e) if e.error_len().is_none() => {
                let (valid, cut) = rest.split_at(e.valid_up_to());
                self.text = !valid.contains(&0);
                self.carry.extend_from_slice(cut);
            }
            Err(_) => self.text = false,
        }
    }

    /// Whether everything seen was UTF-8 without a NUL, and did not end inside a character.
    pub fn is_text(&self) -> bool {
        self.text && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(pieces: &[&[u8]]) -> Sniffer {
        let mut sniffer = Sniffer::default();
        for piece in pieces {
            sniffer.feed(piece);
        }
        sniffer
    }

    #[test]
    fn text_is_utf8_without_nul_even_split_between_pieces() {
        let snowman = "☃".as_bytes();
        assert!(sniff(&[b"plain ", &snowman[..1], &snowman[1..2], &snowman[2..], b" text"]).is_text());
        assert!(sniff(&[]).is_text(), "an empty file is text");
        assert!(!sniff(&[b"nul\0inside"]).is_text());
        assert!(!sniff(&[b"ab", &snowman[..2]]).is_text(), "ends inside a character");
        assert!(!sniff(&[&snowman[..1], b"x"]).is_text(), "a broken character");
        assert!(!sniff(&[b"\xff\xfe"]).is_text());
        assert!(!sniff(&[b"ok", b"\x80"]).is_text());
        assert!(!sniff(&[b"ok", b"\0"]).is_text());
        assert!(!sniff(&[b"first is bad \xc3", b"\0"]).is_text(), "a NUL completing a character");
    }

    #[test]
    fn a_type_is_believed_only_when_the_bytes_agree() {
        let png = sniff(&[b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"]);
        let html = sniff(&[b"<!doctype html><script>alert(1)</script>"]);
        let webp = sniff(&[b"RIFF", b"\x10\0\0\0WEBPVP8 "]);
        assert_eq!(served_type("image/png", &png), "image/png");
        assert_eq!(served_type("image/png", &html), UNKNOWN, "HTML claiming to be a PNG");
        assert_eq!(served_type("image/webp", &webp), "image/webp");
        assert_eq!(served_type("image/gif", &sniff(&[b"GIF89a..."])), "image/gif");
        assert_eq!(served_type("image/jpeg", &sniff(&[b"\xff\xd8\xff\xe0"])), "image/jpeg");
        assert_eq!(served_type("text/plain", &html), "text/plain", "HTML as text is shown as text");
        assert_eq!(served_type("text/plain", &png), UNKNOWN);
        for other in ["image/svg+xml", "text/html", "application/pdf"] {
            assert_eq!(served_type(other, &html), other);
            assert!(!is_inline(other));
        }
        assert!(is_inline("image/png") && is_inline("text/plain"));
    }

    #[test]
    fn the_declared_type_is_its_essence() {
        assert_eq!(declared(Some("Text/Plain; charset=latin1")), "text/plain");
        assert_eq!(declared(Some("image/svg+xml")), "image/svg+xml");
        for bad in ["", "text", "/x", "a/b/c", "a b/c", "x/\"y\""] {
            assert_eq!(declared(Some(bad)), UNKNOWN, "{bad:?}");
        }
        assert_eq!(declared(None), UNKNOWN);
    }
}
