//! A room's history as a file to keep (`/r/ROOM/export`): plain text, or one standalone HTML
//! page. (The third format, `jsonl`, is the log's own lines.) Each message is rendered on its
//! own, so an export of any length is written a piece at a time.
//!
//! **Text**: one line per message, oldest first, `YYYY-MM-DD HH:MM:SSZ name: text`, in UTC. A
//! message of several lines continues on lines indented by two spaces, so every line that
//! starts a message starts with its date, and no message can pass for two. Control characters
//! other than tab (which could move a terminal's cursor when the file is `cat`) are shown as
//! U+FFFD; `\r\n` and `\r` count as line breaks like `\n`.
//!
//! **HTML**: a page that needs nothing else, readable offline: every piece of user text escaped,
//! no script, its style inline in one `<style>` element. That page is a download
//! (`Content-Disposition: attachment`), but should a browser show it, the response's CSP allows
//! exactly that style element by its hash ([`html_policy`]) and nothing else.

use std::sync::OnceLock;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::attachment::human_size;
use super::escape::escape_into;
use super::ChatMessage;
use crate::time::rfc3339;

/// The exported page's whole style.
pub const HTML_STYLE: &str = "\
:root{color-scheme:light dark;font:16px/1.45 system-ui,sans-serif}\
body{max-width:50rem;margin:2rem auto;padding:0 1rem;background:#f6f7f9;color:#1c1f24}\
h1{font-size:1.4rem;margin:0}header p,footer{color:#5b6270;font-size:.9rem}\
ol{list-style:none;padding:0}li{padding:.35rem .5rem;border-bottom:1px solid #dde1e6}\
time{color:#5b6270;font-size:.85rem;font-variant-numeric:tabular-nums;margin-right:.4rem}\
.text{white-space:pre-wrap;overflow-wrap:anywhere}\
@media (prefers-color-scheme:dark){body{background:#121418;color:#e6e8eb}li{border-color:#2a2f37}\
header p,footer,time{color:#9aa3b0}}";

/// `2025-11-26 21:00:05Z`: the time of a message in text exports, to the second, in UTC.
pub fn when(ms: u64) -> String {
    let full = rfc3339(ms); // 2025-11-26T21:00:05.123Z
    format!("{} {}Z", &full[..10], &full[11..19])
}

/// Appends `message` to a text export: its line, and its continuation lines.
pub fn txt_message(out: &mut String, message: &ChatMessage) {
    out.push_str(&when(message.ts));
    out.push(' ');
    push_plain(out, &message.name);
    out.push_str(": ");
    let text = message.text.replace("\r\n", "\n").replace('\r', "\n");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\n  ");
        }
        push_plain(out, line);
    }
    if let Some(file) = &message.file {
        out.push_str("[file] ");
        push_plain(out, &file.name);
        out.push_str(&format!(" ({}) {}", human_size(file.size), file.url));
    }
    out.push('\n');
}

/// `text` with control characters other than tab replaced by U+FFFD.
fn push_plain(out: &mut String, text: &str) {
    out.extend(text.chars().map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c }));
}

/// The start of an HTML export of `room`, made at `now_ms`: everything up to the list.
pub fn html_head(out: &mut String, room: &str, now_ms: u64) {
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>#");
    escape_into(out, room);
    out.push_str(" · chatroom</title>\n<style>");
    out.push_str(HTML_STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header><h1>#");
    escape_into(out, room);
    out.push_str("</h1><p>The room's history, exported ");
    out.push_str(&when(now_ms));
    out.push_str(" (times in UTC).</p></header>\n<ol>\n");
}

/// One message of an HTML export.
pub fn html_message(out: &mut String, message: &ChatMessage) {
    let ts = rfc3339(message.ts);
    out.push_str(&format!("<li id=\"m{}\"><time datetime=\"{ts}\">{}</time> <b>", message.seq, when(message.ts)));
    escape_into(out, &message.name);
    out.push_str("</b> <span class=\"text\">");
    escape_into(out, &message.text);
    out.push_str("</span>");
    // A shared file: its name, linking to it on the server it came from (the export holds none
    // of the files themselves).
    if let Some(file) = &message.file {
        out.push_str(" <a class=\"file\" href=\"");
        escape_into(out, &file.url);
        out.push_str("\">");
        escape_into(out, &file.name);
        out.push_str(&format!("</a> ({})", human_size(file.size)));
    }
    out.push_str("</li>\n");
}

/// The end of an HTML export that held `count` messages.
pub fn html_foot(out: &mut String, count: u64) {
    let noun = if count == 1 { "message" } else { "messages" };
    out.push_str(&format!("</ol>\n<footer>{count} {noun}.</footer>\n</body>\n</html>\n"));
}

/// The Content-Security-Policy of an HTML export: nothing at all but its own style element,
/// named by its SHA-256 (CSP Level 3 §8.4, hash-source).
pub fn html_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(HTML_STYLE.as_bytes()));
        format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> ChatMessage {
        ChatMessage {
            seq: 7,
            ts: 1_764_190_805_123,
            name: "<ann>".into(),
            text: text.into(),
            mentions: vec![],
            ..ChatMessage::default()
        }
    }

    #[test]
    fn a_text_line_per_message_and_indented_continuations() {
        let mut out = String::new();
        txt_message(&mut out, &message("hi"));
        txt_message(&mut out, &message("two\r\nlines\rand\nmore\u{1b}[2J\t."));
        assert_eq!(
            out,
            "2025-11-26 21:00:05Z <ann>: hi\n\
             2025-11-26 21:00:05Z <ann>: two\n  lines\n  and\n  more\u{FFFD}[2J\t.\n"
        );
    }

    #[test]
    fn a_shared_file_is_named_with_its_link() {
        let mut shared = message("");
        shared.file = Some(crate::protocol::attachment::SharedFile {
            url: "/files/ab/a%20%3Cb%3E.png".into(),
            name: "a <b>.png".into(),
            size: 2048,
            media_type: "image/png".into(),
        });
        let mut txt = String::new();
        txt_message(&mut txt, &shared);
        assert!(txt.ends_with("<ann>: [file] a <b>.png (2.0 KiB) /files/ab/a%20%3Cb%3E.png\n"), "{txt}");
        let mut page = String::new();
        html_message(&mut page, &shared);
        assert!(
            page.contains(r#" <a class="file" href="/files/ab/a%20%3Cb%3E.png">a &lt;b&gt;.png</a> (2.0 KiB)</li>"#)
        );
    }

    #[test]
    fn the_page_escapes_user_text_and_loads_nothing() {
        let mut out = String::new();
        html_head(&mut out, "lobby", 0);
        html_message(&mut out, &message("<script>alert(1)</script> & \"x\""));
        html_foot(&mut out, 1);
        assert!(out.contains(
            "<li id=\"m7\"><time datetime=\"2025-11-26T21:00:05.123Z\">2025-11-26 21:00:05Z</time> <b>&lt;ann&gt;</b> \
             <span class=\"text\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</span></li>"
        ));
        assert!(!out.contains("<script") && !out.contains("src=") && !out.contains("href="));
        assert!(out.ends_with("<footer>1 message.</footer>\n</body>\n</html>\n"));
        // The policy names the style by its hash: a change to the style changes both.
        assert!(html_policy().contains("style-src 'sha256-"));
        assert!(out.contains(&format!("<style>{HTML_STYLE}</style>")));
    }
}
