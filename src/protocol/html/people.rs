//! The page's fragments for what people do besides chatting: private messages, edits and
//! deletes, the host's banner and actions, and answers for one member (`/help`).
//!
//! Edits and deletes change a message already on the page, which htmx's out-of-band swap can
//! only do by `id`, and message items have none (they carry `data-seq`). So both go to one hidden
//! element, `#amend`, replaced each time; the page's people script then applies it
//! to the item with that `data-seq`. The bytes are the same for everyone.
//!
//! A change of name is a line in the list that carries both names (`data-from`, `data-to`): the
//! page whose own name is `data-from` takes `data-to` as its name from then on.

use std::fmt::Write as _;

use super::{escape_into, format_into};
use crate::protocol::{Direct, Renamed};
use crate::time::rfc3339;

/// A line in the message list for something that happened (a kick, a mute, a new name...).
pub(super) fn happened_into(out: &mut String, text: &str, ts: u64) {
    let iso = rfc3339(ts);
    let _ = write!(
        out,
        r#"<ul id="messages" hx-swap-oob="beforeend"><li class="event moderation"><time datetime="{iso}">{} UTC</time> "#,
        &iso[11..16]
    );
    escape_into(out, text);
    out.push_str("</li></ul>");
}

/// "ann is now bob", a line for everyone; the page of the one renamed takes the new name.
pub(super) fn renamed_into(out: &mut String, renamed: &Renamed<'_>) {
    between_into(out, "event rename", renamed.from, " is now ", renamed.to, renamed.ts);
    out.push_str("</li></ul>");
}

/// A private message, for its two ends: marked as such, and as never saved.
pub(super) fn direct_into(out: &mut String, direct: &Direct<'_>) {
    between_into(out, "message direct", direct.from, " → ", direct.to, direct.ts);
    out.push_str(r#" <span class="text">"#);
    format_into(out, direct.text);
    out.push_str(r#"</span> <small class="private">private, never saved</small></li></ul>"#);
}

/// The start of an item appended to the list that is about two people (`from`, then `to`, both
/// also in `data-` attributes for the page's script), up to the second name: the caller goes on
/// and closes the item and the list.
fn between_into(out: &mut String, class: &str, from: &str, joiner: &str, to: &str, ts: u64) {
    let iso = rfc3339(ts);
    let _ = write!(out, r#"<ul id="messages" hx-swap-oob="beforeend"><li class="{class}" data-from=""#);
    escape_into(out, from);
    out.push_str(r#"" data-to=""#);
    escape_into(out, to);
    let _ = write!(out, r#""><time datetime="{iso}">{} UTC</time> <b class="name">"#, &iso[11..16]);
    escape_into(out, from);
    let _ = write!(out, r#"</b>{joiner}<b class="name">"#);
    escape_into(out, to);
    out.push_str("</b>");
}

/// A message's new text, for the page's script to put in place (see the module docs).
pub(super) fn edit_into(out: &mut String, seq: u64, text: &str) {
    let _ =
        write!(out, r#"<div id="amend" hx-swap-oob="true" hidden data-op="edit" data-seq="{seq}"><span class="text">"#);
    format_into(out, text);
    out.push_str("</span></div>");
}

/// A message deleted, for the page's script to take away.
pub(super) fn delete_into(out: &mut String, seq: u64) {
    let _ = write!(out, r#"<div id="amend" hx-swap-oob="true" hidden data-op="delete" data-seq="{seq}"></div>"#);
}

/// The banner at the top of the room (none when `text` is empty).
pub(super) fn announce_into(out: &mut String, text: &str) {
    if text.is_empty() {
        out.push_str(r#"<div id="announce" hx-swap-oob="true" class="announce" hidden></div>"#);
        return;
    }
    out.push_str(r#"<div id="announce" hx-swap-oob="true" class="announce" role="status">"#);
    escape_into(out, text);
    out.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_everywhere() {
        let mut out = String::new();
        direct_into(&mut out, &Direct { from: "<a>", to: "\"b\"", text: "<script>", ts: 0 });
        happened_into(&mut out, "<i>", 0);
        edit_into(&mut out, 3, "<b>");
        announce_into(&mut out, "<u>");
        let roster = crate::protocol::Roster { names: &[], count: 0 };
        renamed_into(&mut out, &Renamed { from: "<x>", to: "\"y\"", ts: 0, roster });
        for raw in ["<a>", "\"b\"", "<script>", "<i>", "<b>", "<u>", "<x>", "\"y\""] {
            assert!(!out.contains(raw), "{raw} unescaped in {out}");
        }
        assert!(out.contains("private, never saved"));
        assert!(out.contains(r#"data-op="edit" data-seq="3""#));
    }

    #[test]
    fn an_empty_banner_hides_it() {
        let mut out = String::new();
        announce_into(&mut out, "");
        assert!(out.contains("hidden"));
    }
}
