//! A shared file as the wire carries it: the `file` object of a chat message (`POST
//! /r/ROOM/files` made it), and how the page shows one: a picture as a thumbnail, anything else
//! as a card with an icon, its name and its size.
//!
//! Like the rest of the page's markup, every piece of user text here (the file's name, and its
//! URL, which holds the name) goes in through [`escape_into`]: this file is the third place to
//! audit, after `html.rs` and `format.rs`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::escape::escape_into;

/// The types the server serves `inline` once the bytes' signature agrees (`files::media`); the
/// page shows these as pictures. The server never gives a file one of them unless its bytes are
/// that kind of picture, so a thumbnail is always a real image.
pub const PICTURE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// A file shared in a room. Logged with its message, like the rest of it, and replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFile {
    /// Where to download it: `/files/HASH/NAME`, the name percent-encoded.
    pub url: String,
    /// Its name, as the uploader gave it.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The media type it is served with: a picture's or `text/plain` only when the bytes agree.
    #[serde(rename = "type")]
    pub media_type: String,
}

impl SharedFile {
    /// Whether the page shows it as a picture.
    pub fn is_picture(&self) -> bool {
        PICTURE_TYPES.contains(&self.media_type.as_str())
    }
}

/// Appends the page's view of `file`, if there is one (a message's, after its text): a lazy-loaded
/// thumbnail that links to the full picture, or a card that downloads the file (or, for plain
/// text, opens it).
///
/// ```
/// use chatroom::protocol::attachment::{html_into, SharedFile};
///
/// let file = SharedFile {
///     url: "/files/ab12/notes%20%3C1%3E.txt".into(),
///     name: "notes <1>.txt".into(),
///     size: 2048,
///     media_type: "text/plain".into(),
/// };
/// let mut out = String::new();
/// html_into(&mut out, Some(&file));
/// assert_eq!(
///     out,
///     concat!(
///         r#"<a class="file card" href="/files/ab12/notes%20%3C1%3E.txt" target="_blank" rel="noopener">"#,
///         r#"<span class="icon" aria-hidden="true">TXT</span> <span class="file-name">notes &lt;1&gt;.txt</span> "#,
///         r#"<span class="size">2.0 KiB</span></a>"#,
///     )
/// );
/// ```
pub fn html_into(out: &mut String, file: Option<&SharedFile>) {
    let Some(file) = file else { return };
    if file.is_picture() {
        out.push_str(r#"<a class="file picture" href=""#);
        escape_into(out, &file.url);
        out.push_str(r#"" target="_blank" rel="noopener"><img src=""#);
        escape_into(out, &file.url);
        out.push_str(r#"" alt=""#);
        escape_into(out, &file.name);
        out.push_str(r#"" loading="lazy"></a>"#);
        return;
    }
    out.push_str(r#"<a class="file card" href=""#);
    escape_into(out, &file.url);
    // Plain text is served inline: open it. Anything else is an attachment: save it.
    if file.media_type == "text/plain" {
        out.push_str(r#"" target="_blank" rel="noopener">"#);
    } else {
        out.push_str(r#"" download>"#);
    }
    let _ = write!(out, r#"<span class="icon" aria-hidden="true">{}</span> <span class="file-name">"#, label(file));
    escape_into(out, &file.name);
    let _ = write!(out, r#"</span> <span class="size">{}</span></a>"#, human_size(file.size));
}

/// The card's icon: a small page (drawn by the style sheet) labelled with the name's ending, as a
/// file manager shows it (`PDF`, `ZIP`), or the kind of file when the name has no short one.
/// Plain letters and digits only, so no font is needed beyond the page's own (emoji are missing
/// on many machines without internet to fetch a font).
fn label(file: &SharedFile) -> String {
    let ending = file.name.rsplit_once('.').map_or("", |(_, ending)| ending);
    if (1..=4).contains(&ending.len()) && ending.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return ending.to_ascii_uppercase();
    }
    match file.media_type.split_once('/').map_or("", |(kind, _)| kind) {
        "text" => "TXT",
        "image" => "IMG",
        "video" => "VID",
        "audio" => "SND",
        _ => "FILE",
    }
    .to_string()
}

/// A size for people: bytes under 1 KiB, then KiB, MiB, GiB with one decimal.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return if bytes == 1 { "1 byte".into() } else { format!("{bytes} bytes") };
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, media_type: &str) -> SharedFile {
        SharedFile { url: format!("/files/00/{name}"), name: name.into(), size: 5, media_type: media_type.into() }
    }

    #[test]
    fn pictures_are_thumbnails_and_the_rest_cards() {
        let mut out = String::new();
        html_into(&mut out, Some(&file("a\".png", "image/png")));
        assert_eq!(
            out,
            concat!(
                r#"<a class="file picture" href="/files/00/a&quot;.png" target="_blank" rel="noopener">"#,
                r#"<img src="/files/00/a&quot;.png" alt="a&quot;.png" loading="lazy"></a>"#
            )
        );
        // An SVG is an image, but never a picture here: it is served as an attachment.
        for (name, media_type, icon) in [
            ("x.svg", "image/svg+xml", ">SVG<"),
            ("r.pdf", "application/pdf", ">PDF<"),
            ("<b>.html", "text/html", ">HTML<"),
            ("a.bin", "application/octet-stream", ">BIN<"),
            ("archive.tar.zst-part", "application/octet-stream", ">FILE<"),
            ("notes", "text/x-rust", ">TXT<"),
            ("a.<b>", "image/x-thing", ">IMG<"),
        ] {
            let mut out = String::new();
            html_into(&mut out, Some(&file(name, media_type)));
            assert!(out.starts_with(r#"<a class="file card""#), "{out}");
            assert!(out.contains(r#"" download><span class="icon""#), "{out}");
            assert!(out.contains(icon), "{out}");
            assert!(!out.contains("<b>"), "{out}");
        }
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(25 << 20), "25.0 MiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
    }
}
