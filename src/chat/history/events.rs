//! What happens to messages after they are said, and what the host did: lines of the room's log
//! beside its messages, so that they survive a restart.
//!
//! A message line starts `{"seq":`; an event line starts `{"event":` (serde writes an enum's tag
//! first), and carries no `seq`, so readers that look for messages (the tail at start, the
//! binary search by number, paging) pass over it as they pass over any line that is not a
//! message. Event lines always come after the message they change.
//!
//! When a room's log is opened, its event lines are read ([`scan`]: a SIMD search for the
//! marker, so a long log without events costs one pass at memory speed) into:
//! - [`Amendments`]: which messages are deleted, and the latest text of edited ones, applied by
//!   every reader: the replay, the history API, search and export;
//! - the host's standing orders (kicks, mutes, the lock, slow mode, the banner), replayed into
//!   the room's moderation state (`chat::room::moderation`).
//!
//! `chatroom compact` folds them in (`compact.rs`, beside this file).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::protocol::ChatMessage;

/// What an event line says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum LogEvent {
    /// A message's new text.
    Edit {
        /// The message.
        seq: u64,
        /// Its new text.
        text: String,
        /// When, in milliseconds since the epoch.
        ts: u64,
    },
    /// A message was deleted.
    Delete {
        /// The message.
        seq: u64,
        /// When.
        ts: u64,
    },
    /// A member (by author) may not come back until `until` (milliseconds since the epoch).
    Kick {
        /// Their author hash.
        who: String,
        /// Until when.
        until: u64,
    },
    /// A member's messages are refused until `until`.
    Mute {
        /// Their author hash.
        who: String,
        /// Until when.
        until: u64,
    },
    /// A mute lifted early.
    Unmute {
        /// Their author hash.
        who: String,
    },
    /// The room is locked or unlocked.
    Lock {
        /// Locked?
        locked: bool,
    },
    /// Slow mode: one message per member per this many seconds; 0 is off.
    Slow {
        /// Seconds.
        seconds: u64,
    },
    /// The banner; empty clears it.
    Announce {
        /// Its text.
        text: String,
    },
}

/// How an event line starts (see the module docs).
pub const EVENT_PREFIX: &[u8] = b"{\"event\":";

/// Whether a log line is an event line rather than a message.
pub fn is_event(line: &[u8]) -> bool {
    line.starts_with(EVENT_PREFIX)
}

/// Deleted messages and the latest text of edited ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Amendments {
    deleted: HashSet<u64>,
    edited: HashMap<u64, String>,
    /// Whether the log holds any event line at all (the host's decisions too).
    events: bool,
}

impl Amendments {
    /// Takes an event in: an edit or a delete changes what readers see; other events do not.
    pub fn record(&mut self, event: &LogEvent) {
        self.events = true;
        match event {
            LogEvent::Edit { seq, text, .. } => {
                self.edited.insert(*seq, text.clone());
            }
            LogEvent::Delete { seq, .. } => {
                self.edited.remove(seq);
                self.deleted.insert(*seq);
            }
            _ => {}
        }
    }

    /// `message` as readers should see it: `None` if deleted (by an event, or in a compacted log), else with its latest text and
    /// `edited` set if it was edited.
    pub fn apply(&self, mut message: ChatMessage) -> Option<ChatMessage> {
        if message.deleted || self.deleted.contains(&message.seq) {
            return None;
        }
        if let Some(text) = self.edited.get(&message.seq) {
            message.text = text.clone();
            message.edited = true;
        }
        Some(message)
    }

    /// Whether `seq` was deleted.
    pub fn is_deleted(&self, seq: u64) -> bool {
        self.deleted.contains(&seq)
    }

    /// Whether any message was edited (search then parses every line: the new text is not in the
    /// message's own line).
    pub fn has_edits(&self) -> bool {
        !self.edited.is_empty()
    }

    /// Whether the log holds no event line at all: its lines are then all messages, as they are
    /// (a `jsonl` export may copy it byte for byte).
    pub fn is_empty(&self) -> bool {
        !self.events
    }
}

/// Every event line of the log at `path`, in order, and the amendments they make, read in
/// chunks (bounded memory, whatever the log's size). A line that starts like an event and does
/// not read as one is skipped (a torn or corrupt line). A log that does not exist has none.
pub fn scan(path: &Path) -> io::Result<(Amendments, Vec<LogEvent>)> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(e),
    };
    // Up to the length it has now: appends go on meanwhile, and a device file (a log linked to
    // /dev/full, as the fault tests do) has none, whatever it reads.
    let len = file.metadata()?.len();
    let mut file = file.take(len);
    let mut found = (Amendments::default(), Vec::new());
    // Always starts at a line start: what is left after the last newline waits for the next chunk.
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        pending.extend_from_slice(&chunk[..n]);
        if let Some(last) = memchr::memrchr(b'\n', &pending) {
            whole_lines(&pending[..=last], &mut found);
            pending.drain(..=last);
        }
    }
    Ok(found)
}

/// [`scan`] on a log's bytes (a torn last line, without its newline, is left out).
pub fn scan_bytes(bytes: &[u8]) -> (Amendments, Vec<LogEvent>) {
    let mut found = (Amendments::default(), Vec::new());
    let end = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
    whole_lines(&bytes[..end], &mut found);
    found
}

/// The events among `lines` (whole lines, from a line start).
fn whole_lines(lines: &[u8], (amendments, events): &mut (Amendments, Vec<LogEvent>)) {
    let starts = (lines.starts_with(EVENT_PREFIX).then_some(0usize))
        .into_iter()
        .chain(memchr::memmem::find_iter(lines, b"\n{\"event\":").map(|at| at + 1));
    for start in starts {
        let Some(len) = memchr::memchr(b'\n', &lines[start..]) else { continue };
        if let Ok(event) = serde_json::from_slice::<LogEvent>(&lines[start..start + len]) {
            amendments.record(&event);
            events.push(event);
        }
    }
}

/// The line for `event`, with its newline.
pub fn line_of(event: &LogEvent) -> Vec<u8> {
    let mut line = serde_json::to_vec(event).expect("an event always serialises");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64, text: &str) -> ChatMessage {
        ChatMessage { seq, text: text.into(), name: "ann".into(), ..ChatMessage::default() }
    }

    #[test]
    fn event_lines_start_with_their_tag_and_read_back() {
        let edit = LogEvent::Edit { seq: 3, text: "new \"one\"".into(), ts: 9 };
        let line = line_of(&edit);
        assert!(is_event(&line), "{}", String::from_utf8_lossy(&line));
        assert_eq!(serde_json::from_slice::<LogEvent>(&line).unwrap(), edit);
        assert!(serde_json::from_slice::<ChatMessage>(&line).is_err(), "never read as a message");
    }

    #[test]
    fn a_scan_finds_the_events_between_messages_and_applies_them() {
        let mut log = Vec::new();
        for seq in 1..=3 {
            log.extend(serde_json::to_vec(&message(seq, "old")).unwrap());
            log.push(b'\n');
        }
        log.extend(line_of(&LogEvent::Edit { seq: 1, text: "new".into(), ts: 5 }));
        log.extend(line_of(&LogEvent::Delete { seq: 2, ts: 6 }));
        log.extend(line_of(&LogEvent::Lock { locked: true }));
        log.extend(b"{\"event\":\"edit\",\"seq\":3,\"te"); // torn
        let (amendments, events) = scan_bytes(&log);
        assert_eq!(events.len(), 3);
        assert_eq!(amendments.apply(message(1, "old")).unwrap().text, "new");
        assert!(amendments.apply(message(1, "old")).unwrap().edited);
        assert_eq!(amendments.apply(message(2, "old")), None);
        assert_eq!(amendments.apply(message(3, "old")), Some(message(3, "old")));
        // The log's first line may be an event too.
        let (_, first) = scan_bytes(&line_of(&LogEvent::Slow { seconds: 5 }));
        assert_eq!(first, [LogEvent::Slow { seconds: 5 }]);
    }
}
