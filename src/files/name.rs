//! A shared file's name: checked when it comes in (`?name=`), and written safely into the
//! `Content-Disposition` of its download (RFC 6266).

use std::fmt::Write as _;

/// The longest name, in bytes of UTF-8: what most file systems allow for one path component.
pub const MAX_BYTES: usize = 255;

/// The name as given, if it is one a file can have on any system people here use; otherwise
/// why not, as one sentence for a 400.
pub fn validate(name: &str) -> Result<String, String> {
    if name.trim().is_empty() {
        return Err("The file needs a name (?name=...).".into());
    }
    if name.len() > MAX_BYTES {
        return Err(format!("That file name is too long ({} bytes; at most {MAX_BYTES}).", name.len()));
    }
    if name == "." || name == ".." {
        return Err("A file cannot be called . or ..".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("A file name cannot hold control characters (U+{:04X}).", c as u32));
    }
    if name.contains(['/', '\\']) {
        return Err("A file name cannot hold / or \\ (it names a file, not a folder).".into());
    }
    Ok(name.to_string())
}

/// The `Content-Disposition` value for `name`, `inline` or `attachment` (RFC 6266 §4.1): a
/// quoted ASCII `filename` for every browser, with anything that could break out of the quotes or
/// name a path taken out, and, when that lost something, the exact name as
/// `filename*=UTF-8''…` (RFC 8187 §3.2), which browsers prefer.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let fallback = if fallback.trim().is_empty() { "file".to_string() } else { fallback };
    let mut value = format!("{kind}; filename=\"{fallback}\"");
    if fallback != name {
        value.push_str("; filename*=UTF-8''");
        for b in name.bytes() {
            // attr-char (RFC 8187 §3.2.1): letters, digits and !#$&+-.^_`|~; the rest encoded.
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                value.push(b as char);
            } else {
                let _ = write!(value, "%{b:02X}");
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_refused_with_a_reason() {
        assert_eq!(validate("photo 1.png").unwrap(), "photo 1.png");
        assert_eq!(validate("résumé «final».pdf").unwrap(), "résumé «final».pdf");
        assert!(validate(&"é".repeat(127)).is_ok(), "254 bytes");
        for (bad, why) in [
            ("", "needs a name"),
            ("   ", "needs a name"),
            (".", "cannot be called"),
            ("..", "cannot be called"),
            ("a\nb", "U+000A"),
            ("a\u{7f}", "U+007F"),
            ("a\u{85}", "U+0085"),
            ("../etc/passwd", "cannot hold /"),
            ("a\\b", "cannot hold /"),
        ] {
            let refused = validate(bad).unwrap_err();
            assert!(refused.contains(why), "{bad:?}: {refused}");
        }
        assert!(validate(&"a".repeat(256)).unwrap_err().contains("too long (256 bytes"));
    }

    #[test]
    fn the_disposition_is_quoted_and_falls_back_to_ascii() {
        assert_eq!(content_disposition(true, "a.png"), r#"inline; filename="a.png""#);
        assert_eq!(
            content_disposition(false, r#"say "hi".txt"#),
            r#"attachment; filename="say hi.txt"; filename*=UTF-8''say%20%22hi%22.txt"#
        );
        assert_eq!(
            content_disposition(false, "résumé.pdf"),
            r#"attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"#
        );
        assert_eq!(content_disposition(false, "\"\""), r#"attachment; filename="file"; filename*=UTF-8''%22%22"#);
    }
}
