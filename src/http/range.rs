//! `Range: bytes=…` (RFC 9110 §14.2): part of a download, so that a video can be played from its
//! middle or a big PDF opened page by page, and an interrupted download resumed.
//!
//! One range is honoured: `bytes=a-b`, `bytes=a-` (from a to the end) and `bytes=-n` (the last
//! n). Several ranges (`bytes=0-1,5-6`) would need a `multipart/byteranges` body; the whole file
//! is sent instead (200), which §14.2 allows, since a server may ignore `Range`. A header that
//! does not parse is ignored the same way. A range that starts at or past the end is
//! unsatisfiable: 416, with `Content-Range: bytes */LENGTH` (§15.5.17).

/// What to send of a representation of some length.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// All of it (no `Range`, one that is ignored, or several ranges): 200.
    Whole,
    /// Bytes `first..=last`: 206.
    Part {
        /// The first byte.
        first: u64,
        /// The last byte, included.
        last: u64,
    },
    /// Nothing in the file can answer it: 416.
    Unsatisfiable,
}

/// What `range` (the `Range` header, if any) asks of a representation of `length` bytes.
pub fn wanted(range: Option<&str>, length: u64) -> Wanted {
    let Some(spec) = range.and_then(|value| value.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let number =
        |text: &str| (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse::<u64>());
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes; none of an empty file, or n = 0, can be given.
        (None, Some(Ok(suffix))) if first.is_empty() => {
            if suffix == 0 || length == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part { first: length.saturating_sub(suffix), last: length - 1 }
            }
        }
        // bytes=a- : from a to the end.
        (Some(Ok(first)), None) if last.is_empty() => part(first, u64::MAX, length),
        (Some(Ok(first)), Some(Ok(last))) if first <= last => part(first, last, length),
        // A number too long for u64 starts past any end we have.
        (Some(Err(_)), _) => Wanted::Unsatisfiable,
        (Some(Ok(first)), Some(Err(_))) => part(first, u64::MAX, length),
        _ => Wanted::Whole,
    }
}

/// Bytes `first..=last` of `length`, the end cut to the last byte (§14.1.2).
fn part(first: u64, last: u64, length: u64) -> Wanted {
    if first >= length {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part { first, last: last.min(length - 1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_is_honoured() {
        let part = |first, last| Wanted::Part { first, last };
        assert_eq!(wanted(Some("bytes=0-99"), 1000), part(0, 99));
        assert_eq!(wanted(Some("bytes=500-"), 1000), part(500, 999));
        assert_eq!(wanted(Some("bytes=-100"), 1000), part(900, 999));
        assert_eq!(wanted(Some("bytes=-5000"), 1000), part(0, 999));
        assert_eq!(wanted(Some("bytes=990-5000"), 1000), part(990, 999));
        assert_eq!(wanted(Some("bytes=999-999"), 1000), part(999, 999));
        assert_eq!(wanted(Some("bytes=0-99999999999999999999999"), 1000), part(0, 999));
    }

    #[test]
    fn what_cannot_be_answered_is_416() {
        for unsatisfiable in ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=99999999999999999999999-"] {
            assert_eq!(wanted(Some(unsatisfiable), 1000), Wanted::Unsatisfiable, "{unsatisfiable}");
        }
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable, "an empty file has no bytes");
        assert_eq!(wanted(Some("bytes=-1"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn anything_else_gets_the_whole_file() {
        for ignored in
            ["", "bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes= 1-2x", "bytes=+1-2"]
        {
            assert_eq!(wanted(Some(ignored), 1000), Wanted::Whole, "{ignored:?}");
        }
        assert_eq!(wanted(None, 1000), Wanted::Whole);
    }
}
