//! Every piece of text the server sends that contains user input is made here, and escaped here.
//!
//! The page speaks HTML: the htmx ws extension swaps each top-level element of a received frame
//! into the page by its `id`, as an out-of-band swap (`hx-swap-oob`). So one frame can append a
//! message to `#messages` and replace `#notice` at the same time. Keeping all rendering in one
//! module means one place to audit for escaping.

use std::fmt::Write as _;

/// Appends `text` to `out` with the five HTML-significant characters escaped. Enough for element
/// content and for attribute values in double quotes, which is everywhere we put user text.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text`, HTML-escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(&mut out, text);
    out
}

/// A chat message for the page: one `<li>` appended to the message list.
pub fn message_fragment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 80);
    out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">"#);
    escape_into(&mut out, text);
    out.push_str("</span></li></ul>");
    out
}

/// The chat page for `room`, whose WebSocket is at `connect`. Both are escaped, though the room
/// name has already been validated to a safe alphabet: defence in depth costs nothing here.
pub fn page(room: &str, connect: &str) -> String {
    crate::assets::PAGE_TEMPLATE.replace("{{room}}", &escape(room)).replace("{{connect}}", &escape(connect))
}

/// A notice for one member only (an error in what they sent), replacing the notice line.
pub fn notice_fragment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let _ = write!(out, r#"<p id="notice" hx-swap-oob="true" class="notice error" role="alert">"#);
    escape_into(&mut out, text);
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(escape("plain ünïcode ✓"), "plain ünïcode ✓");
    }

    #[test]
    fn message_fragment_appends_one_item_out_of_band() {
        assert_eq!(
            message_fragment("<b>hi</b>"),
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">&lt;b&gt;hi&lt;/b&gt;</span></li></ul>"#
        );
    }

    #[test]
    fn notice_is_escaped() {
        assert!(notice_fragment("<img src=x onerror=alert(1)>").contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
}
