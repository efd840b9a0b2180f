//! The docs cannot drift: every byte dump, HTTP exchange and JSON example in
//! `docs/walkthrough.md` and `docs/protocol.md` is produced or checked here, most of them against
//! a real server over loopback.
//!
//! **Marked blocks.** A fenced block right after a line `<!-- checked by tests/docs.rs: NAME -->`
//! is compared, character for character, with what the test for NAME produces. [`MARKED`] lists
//! every NAME of every doc, and `every_marked_block_is_checked` fails if a doc has a marker that
//! is not in the list (or the list a name the doc lacks), so no marker sits there unchecked.
//!
//! **Clock readings.** The server stamps each message with its clock, so a test that talks to it
//! gets a different time on every run. Before comparing, each clock reading the server wrote is
//! replaced by the reading at the same place in the doc's block: RFC 3339 times
//! (`2026-11-26T21:04:05.123Z`), the `21:04 UTC` a `<time>` element shows, and the milliseconds of
//! a log line (`"ts":1795727045123`). The test first checks that the doc has exactly as many
//! readings, of the same kinds, in the same order. All three forms are fixed width, so nothing
//! moves: a frame's length bytes stay right. Everything else (structure, names, sequence
//! numbers, every other byte) is compared as the server sent it. Ports never appear: requests
//! carry the `Host` the doc shows, and the server does not mind which port that names.
//!
//! **When the server's bytes change on purpose,** run `CHATROOM_BLESS_DOCS=1 cargo test --test
//! docs`: each marked fenced block is rewritten with what the server now produces (clock readings
//! kept from the doc where the shape allows). Read the diff before committing: the prose around a
//! block may need to change too. Blocks that are patterns (the page's HTML, the table of page
//! fragments) are never rewritten; fix those by hand.

mod support;

// The parts, in tests/docs/ (a test crate's root finds its modules beside it, not below).
#[path = "docs/links.rs"]
mod links;
#[path = "docs/protocol.rs"]
mod protocol;
#[path = "docs/walkthrough.rs"]
mod walkthrough;
#[path = "docs/wire.rs"]
mod wire;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

use chatroom::protocol::frame::EncodedFrame;
use chatroom::protocol::json::{self, Event};
use chatroom::protocol::{ChatMessage, ClientEvent};
use support::{Client, TempDir, TestServer, TIMEOUT};

use wire::*;

pub(crate) const WALKTHROUGH: &str = "docs/walkthrough.md";
pub(crate) const PROTOCOL: &str = "docs/protocol.md";
pub(crate) const ARCHITECTURE: &str = "docs/architecture.md";

/// Every marked block, per doc. A test below produces or checks each one.
pub(crate) const MARKED: &[(&str, &[&str])] = &[
    (
        WALKTHROUGH,
        &[
            "page-html",
            "upgrade-request",
            "upgrade-response",
            "accept-key",
            "page-json",
            "client-frame",
            "length-forms",
            "server-frame",
            "relay-fragment",
            "ping-text",
            "pong-text",
            "server-ping",
            "client-pong",
            "client-close",
            "close-echo",
            "close-1012",
            "log-line",
            "history-request",
            "history-response",
        ],
    ),
    (
        PROTOCOL,
        &[
            "history-event",
            "roster-event",
            "notice-event",
            "message-event",
            "join-leave-events",
            "rooms-event",
            "error-event",
            "page-fragments",
            "formatted-text",
            "history-page",
            "search-results",
            "room-list",
            "upload-answer",
            "file-message-event",
            "command-events",
        ],
    ),
];

// ---------------------------------------------------------------------------------------------
// Marked blocks
// ---------------------------------------------------------------------------------------------

pub(crate) const MARKER: &str = "<!-- checked by tests/docs.rs: ";

/// Rewrites of the docs (bless mode) one at a time: tests run in parallel threads.
pub(crate) static BLESSING: Mutex<()> = Mutex::new(());

pub(crate) fn doc_path(doc: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)
}

pub(crate) fn read_doc(doc: &str) -> String {
    std::fs::read_to_string(doc_path(doc)).unwrap_or_else(|e| panic!("cannot read {doc}: {e}"))
}

pub(crate) fn blessing() -> bool {
    std::env::var_os("CHATROOM_BLESS_DOCS").is_some_and(|v| v != "0")
}

/// One marked block: its name, and where its text lies in the doc (byte offsets).
pub(crate) struct Block {
    pub(crate) name: String,
    /// Whether it is a fenced block (rewritable) rather than a table (a pattern).
    pub(crate) fenced: bool,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Every marked block of `text`, in order.
pub(crate) fn marked_blocks(doc: &str, text: &str) -> Vec<Block> {
    // Lines with the byte offset where each starts.
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lines.push((offset, line.trim_end_matches(['\n', '\r'])));
        offset += line.len();
    }
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (_, line) = lines[i];
        i += 1;
        let Some(rest) = line.trim().strip_prefix(MARKER) else { continue };
        let name = rest.split_whitespace().next().unwrap_or("").to_string();
        assert!(rest.trim_end().ends_with("-->"), "{doc}: marker {name:?} must end on its line with -->");
        while i < lines.len() && lines[i].1.trim().is_empty() {
            i += 1;
        }
        let Some(&(open_at, open)) = lines.get(i) else { panic!("{doc}: marker {name:?} is not followed by a block") };
        if open.starts_with("```") {
            let start = open_at + open.len() + 1;
            let close = (i + 1..lines.len())
                .find(|&j| lines[j].1 == "```")
                .unwrap_or_else(|| panic!("{doc}: block {name:?} has no closing ```"));
            blocks.push(Block { name, fenced: true, start, end: lines[close].0 });
            i = close + 1;
        } else if open.starts_with('|') {
            let last = (i..lines.len()).take_while(|&j| lines[j].1.starts_with('|')).last().unwrap();
            let end = lines[last].0 + lines[last].1.len();
            blocks.push(Block { name, fenced: false, start: open_at, end });
            i = last + 1;
        } else {
            panic!("{doc}: marker {name:?} must be followed by a fenced block or a table, not {open:?}");
        }
    }
    blocks
}

/// The text of block `name` in `doc`, without its final newline.
pub(crate) fn block(doc: &str, name: &str) -> String {
    let text = read_doc(doc);
    let found = marked_blocks(doc, &text).into_iter().find(|b| b.name == name);
    let b = found.unwrap_or_else(|| panic!("{doc} has no block marked {MARKER}{name} -->"));
    let inside = &text[b.start..b.end];
    inside.strip_suffix('\n').unwrap_or(inside).to_string()
}

/// Checks that block `name` of `doc` reads exactly `actual`; in bless mode, makes it so.
pub(crate) fn check(doc: &str, name: &str, actual: &str) {
    let expected = block(doc, name);
    if expected == actual {
        return;
    }
    if blessing() {
        let _one_at_a_time = BLESSING.lock().unwrap_or_else(|p| p.into_inner());
        let text = read_doc(doc);
        let b = marked_blocks(doc, &text).into_iter().find(|b| b.name == name).unwrap();
        assert!(b.fenced, "{doc}: block {name} is a pattern; edit it by hand");
        let updated = format!("{}{actual}\n{}", &text[..b.start], &text[b.end..]);
        std::fs::write(doc_path(doc), updated).unwrap();
        eprintln!("blessed {doc}: {name}");
        return;
    }
    panic!(
        "{doc}, block {name}: the doc no longer says what the server does.\n{}\n\
         If the change is intended, run CHATROOM_BLESS_DOCS=1 cargo test --test docs and review the diff.",
        first_difference(&expected, actual)
    );
}

/// Where two texts part, line by line, and the whole of the new one.
pub(crate) fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = (0..e.len().max(a.len())).find(|&i| e.get(i) != a.get(i)).unwrap_or(0);
    format!(
        "first difference at line {}:\n  doc:    {:?}\n  server: {:?}\n--- what the server does now ---\n{actual}\n---",
        at + 1,
        e.get(at).copied().unwrap_or("(nothing)"),
        a.get(at).copied().unwrap_or("(nothing)"),
    )
}

#[test]
fn every_marked_block_is_checked() {
    for (doc, names) in MARKED {
        let text = read_doc(doc);
        let found: Vec<String> = marked_blocks(doc, &text).into_iter().map(|b| b.name).collect();
        let listed: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(found, listed, "{doc}: its markers, in order, must be exactly those MARKED lists");
    }
    let unlisted = ARCHITECTURE;
    assert!(!read_doc(unlisted).contains(MARKER), "{unlisted} has a marker, but no test checks its blocks");
}
