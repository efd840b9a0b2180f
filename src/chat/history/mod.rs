//! A room's history: the recent messages in memory, and the append-only log on disk.
//!
//! **The log** is one JSON Lines file per room, `DATA_DIR/ROOM.jsonl`, one message per line:
//! `{"seq":12,"ts":1764190800123,"name":"ann","text":"hi"}`. A message is appended **before** it
//! is relayed, under the room lock, so the file order is the relay order, and a message anyone has
//! seen is already in the kernel's hands: a `kill -9` loses nothing that was relayed. Only a power
//! cut can lose the last second, unless `--fsync always` (like Redis's `appendfsync`).
//!
//! **Sequence numbers** only grow, across restarts too, even after the log could not be written:
//! they are handed out from blocks reserved in `ROOM.seq` ([`reserve`]), and on start numbering
//! continues after the larger of the log's last line and the reservation.
//!
//! **Starting up** reads only the tail of each log (enough for the in-memory history), reading the
//! file backwards in chunks, so a year-long log starts as fast as a new one. A torn last line
//! (the process died mid-write) is logged, cut off, and never stops the server from starting.
//!
//! **Paging back** (`/r/ROOM/history?before=SEQ`) binary-searches the log by byte offset, since
//! sequence numbers grow along the file, then reads the page backwards from there: a few reads,
//! whatever the depth, and never the whole log in memory.
//!
//! **Search and export** (`/r/ROOM/search`, `/r/ROOM/export`) read the whole log, without the
//! room lock, through an [`Archive`]: a snapshot of the file up to its last whole line, read in
//! regions of bounded size ([`archive`]); search reads it backwards and parses only the lines
//! that can match ([`search`]).

pub mod archive;
pub mod compact;
pub mod events;
mod log;
pub mod reserve;
pub mod search;

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub use archive::{Archive, Snapshot};
pub use events::{Amendments, LogEvent};
pub use log::{last_message, page_before_in, Log, Opened};
use reserve::Reservation;

pub use crate::config::FsyncPolicy; // a setting (`--fsync`), used here
use crate::protocol::ChatMessage;

/// The largest sequence number: 2^53, the largest integer that JSON readers everywhere hold
/// exactly (RFC 8259 §6).
pub const MAX_SEQ: u64 = 1 << 53;

/// The recent history of a room, in memory, and its log (none with `--memory`).
pub struct History {
    recent: VecDeque<ChatMessage>,
    capacity: usize,
    next_seq: u64,
    log: Option<Arc<Log>>,
    /// Where numbers come from, for a room with a log.
    reservation: Option<Reservation>,
    /// The log's event lines, read at open, until the room takes them
    /// ([`History::take_events`]).
    events: Vec<LogEvent>,
}

impl History {
    /// A history that lives only in memory.
    pub fn in_memory(capacity: usize) -> History {
        History {
            recent: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            next_seq: 1,
            log: None,
            reservation: None,
            events: Vec::new(),
        }
    }

    /// A history in memory only, numbering on after `last` (a room put away and made again: its
    /// numbers must not repeat within the server's life).
    pub fn in_memory_after(capacity: usize, last: u64) -> History {
        History { next_seq: last + 1, ..History::in_memory(capacity) }
    }

    /// A history backed by the log at `path`, loaded from its tail, numbering on after the log's
    /// last message or the reserved numbers, whichever is higher.
    pub fn open(path: &Path, capacity: usize) -> io::Result<History> {
        let reservation = Reservation::open(path)?;
        let opened = Log::open(path, capacity)?;
        let next_seq = opened.last_seq.max(reservation.upto()) + 1;
        Ok(History {
            recent: opened.recent.into(),
            capacity,
            next_seq,
            log: Some(Arc::new(opened.log)),
            reservation: Some(reservation),
            events: opened.events,
        })
    }

    /// The log's event lines read when it was opened (the host's standing orders among them),
    /// once: the room replays them into its state.
    pub fn take_events(&mut self) -> Vec<LogEvent> {
        std::mem::take(&mut self.events)
    }

    /// The message numbered `seq`, as readers see it (`None` if there is none, or it was
    /// deleted): from memory, else from the log.
    pub fn find(&self, seq: u64) -> io::Result<Option<ChatMessage>> {
        if let Some(message) = self.recent.iter().find(|m| m.seq == seq) {
            return Ok(Some(message.clone()));
        }
        let Some(log) = &self.log else { return Ok(None) };
        let (page, _) = log.page_before(seq.saturating_add(1), 1)?;
        Ok(page.into_iter().find(|m| m.seq == seq))
    }

    /// Records an event: an edit or a delete changes the messages in memory (and what readers of
    /// the log see); every event is appended to the log, if there is one. A log error comes back,
    /// the change in memory stands (as for a message).
    pub fn record(&mut self, event: &LogEvent, fsync: FsyncPolicy) -> io::Result<()> {
        match event {
            LogEvent::Edit { seq, text, .. } => {
                if let Some(message) = self.recent.iter_mut().find(|m| m.seq == *seq) {
                    message.text.clone_from(text);
                    message.edited = true;
                }
            }
            LogEvent::Delete { seq, .. } => self.recent.retain(|m| m.seq != *seq),
            _ => {}
        }
        match &self.log {
            Some(log) => log.append_event(event, fsync),
            None => Ok(()),
        }
    }

    /// The sequence number the next message will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The log, for the fsync thread and the history API.
    pub fn log(&self) -> Option<&Arc<Log>> {
        self.log.as_ref()
    }

    /// Whether there is nothing, in memory or before it.
    pub fn is_empty(&self) -> bool {
        self.next_seq == 1
    }

    /// Records a new message (`draft`, whose `seq` is ignored): numbers it, writes it to the log (if any), keeps it in memory.
    /// A log error comes back beside the message, which is kept in memory: chat goes on without
    /// the disk. `Err` means the message could not even be numbered (no number could be
    /// reserved): it must not be relayed.
    pub fn append(&mut self, draft: ChatMessage, fsync: FsyncPolicy) -> io::Result<(ChatMessage, io::Result<()>)> {
        if let Some(reservation) = &mut self.reservation {
            reservation.cover(self.next_seq, fsync)?;
        }
        let message = ChatMessage { seq: self.next_seq, ..draft };
        self.next_seq += 1;
        let written = match &self.log {
            Some(log) => log.append(&message, fsync),
            None => Ok(()),
        };
        if self.capacity > 0 {
            if self.recent.len() == self.capacity {
                self.recent.pop_front();
            }
            self.recent.push_back(message.clone());
        }
        Ok((message, written))
    }

    /// Gives the reserved numbers not yet handed out back (see [`reserve`]): before the server
    /// stops, or the room is put away.
    pub fn release(&mut self) -> io::Result<()> {
        let last = self.next_seq - 1;
        self.reservation.as_mut().map_or(Ok(()), |reservation| reservation.release(last))
    }

    /// The recent messages, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &ChatMessage> {
        self.recent.iter()
    }

    /// Whether messages older than the in-memory ones exist.
    pub fn has_older_than_recent(&self) -> bool {
        // Nothing in memory: older messages exist if a log has them.
        self.recent.front().map_or(self.log.is_some() && !self.is_empty(), |first| first.seq > 1)
    }

    /// Up to `limit` messages before `before` from memory (for `--memory`, or as a fallback).
    pub fn page_in_memory(&self, before: u64, limit: usize) -> (Vec<ChatMessage>, bool) {
        let older: Vec<&ChatMessage> = self.recent.iter().filter(|m| m.seq < before).collect();
        let skip = older.len().saturating_sub(limit);
        let more = skip > 0 || older.first().is_some_and(|m| m.seq > 1);
        (older[skip..].iter().map(|m| (*m).clone()).collect(), more)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    fn draft(ts: u64, name: &str, text: &str) -> ChatMessage {
        ChatMessage { ts, name: name.into(), text: text.into(), ..ChatMessage::default() }
    }

    fn temp_path(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chatroom-history-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("room.jsonl")
    }

    fn fill(path: &Path, n: u64) {
        let mut history = History::open(path, 10).unwrap();
        for i in 1..=n {
            let (message, written) = history
                .append(
                    draft(1_000 + i, "ann", &format!("message {i} {}", "x".repeat((i % 50) as usize))),
                    FsyncPolicy::Never,
                )
                .unwrap();
            written.unwrap();
            assert_eq!(message.seq, i);
        }
        // A clean stop gives the numbers it reserved but did not use back.
        history.release().unwrap();
    }

    #[test]
    fn appends_and_reloads_the_tail_and_sequence() {
        let path = temp_path("reload");
        fill(&path, 25);
        let history = History::open(&path, 10).unwrap();
        let seqs: Vec<u64> = history.recent().map(|m| m.seq).collect();
        assert_eq!(seqs, (16..=25).collect::<Vec<_>>());
        assert_eq!(history.next_seq(), 26);
        assert!(history.has_older_than_recent());
    }

    #[test]
    fn a_torn_last_line_is_cut_off_and_appends_continue() {
        let path = temp_path("torn");
        fill(&path, 5);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"seq":6,"ts":1,"name":"a","te"#).unwrap();
        let mut history = History::open(&path, 100).unwrap();
        assert_eq!(history.next_seq(), 6);
        history.append(draft(7, "bob", "after"), FsyncPolicy::Never).unwrap().1.unwrap();
        let history = History::open(&path, 100).unwrap();
        let seqs: Vec<u64> = history.recent().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(history.recent().last().unwrap().text, "after");
    }

    #[test]
    fn a_corrupt_last_line_with_a_newline_is_cut_off_too() {
        let path = temp_path("corrupt");
        fill(&path, 3);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"\0\0\0\0\n").unwrap();
        let history = History::open(&path, 100).unwrap();
        assert_eq!(history.next_seq(), 4);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn impossible_sequence_numbers_are_corruption() {
        let path = temp_path("seqmax");
        fill(&path, 2);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"seq\":18446744073709551615,\"ts\":1,\"name\":\"a\",\"text\":\"b\"}\n").unwrap();
        let history = History::open(&path, 10).unwrap();
        assert_eq!(history.next_seq(), 3);
        file.write_all(b"{\"seq\":18446744073709551614,\"ts\":1,\"name\":\"a\",\"text\":\"b\"}\n").unwrap();
        let mut history = History::open(&path, 10).unwrap();
        assert_eq!(history.next_seq(), 3);
        history.append(draft(5, "a", "next"), FsyncPolicy::Never).unwrap().1.unwrap();
    }

    #[test]
    fn pages_back_through_a_long_log() {
        let path = temp_path("pages");
        fill(&path, 10_000);
        let history = History::open(&path, 100).unwrap();
        let log = history.log().unwrap();
        let (page, more) = log.page_before(5_000, 50).unwrap();
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), (4_950..5_000).collect::<Vec<_>>());
        assert!(more);
        let (page, more) = log.page_before(30, 50).unwrap();
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..30).collect::<Vec<_>>());
        assert!(!more);
        let (page, more) = log.page_before(u64::MAX, 3).unwrap();
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![9_998, 9_999, 10_000]);
        assert!(more);
        let (page, more) = log.page_before(1, 10).unwrap();
        assert!(page.is_empty() && !more);
        // Walk the whole log back, page by page.
        let mut before = u64::MAX;
        let mut seen = 0;
        loop {
            let (page, more) = log.page_before(before, 200).unwrap();
            seen += page.len();
            if !more {
                break;
            }
            before = page[0].seq;
        }
        assert_eq!(seen, 10_000);
    }

    #[test]
    fn numbers_never_repeat_even_when_the_log_lost_messages() {
        let path = temp_path("reserve");
        fill(&path, 3);
        // Numbers 4 to 10 are handed out and relayed, but the log loses them (a full disk, a
        // deleted file, here: cut back), and the server dies without a clean stop.
        let mut history = History::open(&path, 10).unwrap();
        for i in 4..=10 {
            assert_eq!(history.append(draft(i, "a", "t"), FsyncPolicy::Never).unwrap().0.seq, i);
        }
        drop(history);
        let three_lines: usize = std::fs::read_to_string(&path).unwrap().lines().take(3).map(|l| l.len() + 1).sum();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(three_lines as u64).unwrap();
        let mut history = History::open(&path, 10).unwrap();
        assert_eq!(history.recent().last().unwrap().seq, 3, "the log holds 1 to 3");
        let next = history.append(draft(11, "a", "t"), FsyncPolicy::Never).unwrap().0.seq;
        assert!(next > 10, "number {next} was already seen for another message");
        assert!(next <= 3 + reserve::BLOCK + 1, "a crash jumps by at most a block");
        // After a clean stop the numbering goes on exactly where it was.
        history.release().unwrap();
        let history = History::open(&path, 10).unwrap();
        assert_eq!(history.next_seq(), next + 1);
    }

    #[test]
    fn memory_pages() {
        let mut history = History::in_memory(5);
        for i in 1..=8 {
            history.append(draft(i, "a", "t"), FsyncPolicy::Never).unwrap().1.unwrap();
        }
        let (page, more) = history.page_in_memory(7, 10);
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![4, 5, 6]);
        assert!(more);
    }
}
