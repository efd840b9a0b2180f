//! [`Archive`]: a room's whole history as it stands at one moment, read without any lock and in
//! bounded memory, whatever its size. Search reads it backwards, newest first, in large regions
//! of whole lines ([`Regions`]); export reads it forwards, message by message ([`Messages`]), or
//! as the log's bytes.
//!
//! A log's [`Snapshot`] is a handle of its own on the file and the length it had, cut back to
//! the end of its last whole line: appends go on meanwhile (each one whole line, written with
//! `O_APPEND` under the room lock), and nothing past that length is read, so a line being written
//! is never half-read.
//!
//! Memory: one region ([`REGION`]) or, for a line longer than that, the line itself (a message
//! can be long with a large `--max-text`); a line over [`MAX_LINE`] cannot be one the server
//! wrote, and is skipped like any other corrupt line, without being held.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::events::{self, Amendments};
use super::log::{end_of_last_full_line, start_of_seq, Log};
use crate::protocol::ChatMessage;

/// Search reads the log backwards in regions of about this size.
pub const REGION: usize = 256 * 1024;

/// The longest line read as a message: far above the longest the server writes (`--max-text`
/// is at most a million characters, 4 bytes each in UTF-8, 6 when JSON escapes them).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// A room's history, to read without holding its lock.
pub enum Archive {
    /// The room's log, as it was when taken.
    Log(Snapshot),
    /// A room without a log (`--memory`): a copy of the messages it holds, oldest first.
    Memory(Vec<ChatMessage>),
}

/// A log file up to the end of its last whole line when it was taken.
pub struct Snapshot {
    file: File,
    len: u64,
    /// Deleted and edited messages as of the snapshot: readers apply them.
    amendments: Amendments,
}

impl Snapshot {
    /// The log at `path` as it is now; `None` if there is none.
    pub fn open(path: &Path) -> io::Result<Option<Snapshot>> {
        match File::open(path) {
            Ok(file) => Snapshot::of_file(file, events::scan(path)?.0).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The log as it is now, up to its last whole line, through a handle of its own: for search
    /// and export, which read it without the room lock while appends go on.
    pub fn of_log(log: &Log) -> io::Result<Snapshot> {
        Snapshot::of_file(log.duplicate_file()?, log.amendments())
    }

    /// `file` up to the end of its last whole line (a line being appended is left out).
    pub(super) fn of_file(file: File, amendments: Amendments) -> io::Result<Snapshot> {
        let len = end_of_last_full_line(&file, file.metadata()?.len())?;
        Ok(Snapshot { file, len, amendments })
    }

    /// Deleted and edited messages, which every reader of the snapshot applies.
    pub fn amendments(&self) -> &Amendments {
        &self.amendments
    }

    /// Its length in bytes: whole lines, each ending in `\n`.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no line at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads into `buf` from `offset`, never past the snapshot's end; returns how much it read
    /// (0 at the end).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = buf.len().min(self.len.saturating_sub(offset) as usize);
        self.file.read_exact_at(&mut buf[..n], offset)?;
        Ok(n)
    }

    /// Where the lines with `seq < before` end: every line before this offset has a smaller
    /// number (numbers grow along the log), found by binary search.
    pub fn end_before(&self, before: u64) -> io::Result<u64> {
        if before == u64::MAX {
            return Ok(self.len);
        }
        start_of_seq(&self.file, self.len, before)
    }

    /// The lines before offset `end` (a line start), in regions read backwards.
    pub fn regions_before(&self, end: u64) -> Regions<'_> {
        Regions { snapshot: self, pos: end.min(self.len), buf: Vec::new() }
    }
}

/// A log read backwards, one region of whole lines at a time: the newest region first, its lines
/// in file order.
pub struct Regions<'a> {
    snapshot: &'a Snapshot,
    /// Everything before this offset is still to read; it is always a line start.
    pos: u64,
    buf: Vec<u8>,
}

impl Regions<'_> {
    /// The next region back: whole lines, each ending in `\n`; `None` at the file's start.
    pub fn next_region(&mut self) -> io::Result<Option<&[u8]>> {
        let mut want = REGION;
        loop {
            if self.pos == 0 {
                return Ok(None);
            }
            let start = self.pos.saturating_sub(want as u64);
            self.buf.resize((self.pos - start) as usize, 0);
            self.snapshot.file.read_exact_at(&mut self.buf, start)?;
            if start == 0 {
                self.pos = 0;
                return Ok(Some(&self.buf));
            }
            // The bytes up to the first newline belong to a line that starts before `start`: they
            // are read again with the next region. The last byte is the newline before `pos`.
            let body = &self.buf[..self.buf.len() - 1];
            match memchr::memchr(b'\n', body) {
                Some(i) => {
                    self.pos = start + i as u64 + 1;
                    return Ok(Some(&self.buf[i + 1..]));
                }
                // One line longer than the region: read more of it (up to a line of MAX_LINE
                // bytes with its newline and the one before it).
                None if want < MAX_LINE + 2 => want = (want * 2).min(MAX_LINE + 2),
                // Too long to be a message: skip it, reading back to where it starts.
                None => {
                    self.pos = self.line_start(start)?;
                    self.buf = Vec::new();
                    want = REGION;
                }
            }
        }
    }

    /// The start of the line that holds the byte just before `offset`, found without holding the
    /// line.
    fn line_start(&mut self, mut offset: u64) -> io::Result<u64> {
        let mut chunk = vec![0u8; REGION];
        while offset > 0 {
            let start = offset.saturating_sub(REGION as u64);
            let chunk = &mut chunk[..(offset - start) as usize];
            self.snapshot.file.read_exact_at(chunk, start)?;
            if let Some(i) = memchr::memrchr(b'\n', chunk) {
                return Ok(start + i as u64 + 1);
            }
            offset = start;
        }
        Ok(0)
    }
}

/// A room's messages, oldest first, as export reads them: the log's lines that are messages
/// (a corrupt line is skipped, as the history API skips it), or the copy of a room in memory.
pub enum Messages {
    /// From a log, forwards.
    Log(ForwardLines),
    /// From memory.
    Memory(std::vec::IntoIter<ChatMessage>),
}

impl Archive {
    /// Its messages, oldest first.
    pub fn into_messages(self) -> Messages {
        match self {
            Archive::Log(snapshot) => Messages::Log(ForwardLines { snapshot, pos: 0, buf: Vec::new(), at: 0 }),
            Archive::Memory(messages) => Messages::Memory(messages.into_iter()),
        }
    }
}

impl Iterator for Messages {
    type Item = io::Result<ChatMessage>;

    fn next(&mut self) -> Option<io::Result<ChatMessage>> {
        match self {
            Messages::Memory(messages) => messages.next().map(Ok),
            Messages::Log(lines) => loop {
                match lines.next_line() {
                    Ok(Some(line)) => match serde_json::from_slice::<ChatMessage>(line) {
                        Ok(message) => match lines.snapshot.amendments.apply(message) {
                            Some(message) => return Some(Ok(message)),
                            None => continue,
                        },
                        Err(_) => continue,
                    },
                    Ok(None) => return None,
                    Err(e) => return Some(Err(e)),
                }
            },
        }
    }
}

/// A log snapshot read forwards, line by line, in regions.
pub struct ForwardLines {
    snapshot: Snapshot,
    /// The next offset to read.
    pos: u64,
    /// Bytes read and not yet returned start at `at`.
    buf: Vec<u8>,
    at: usize,
}

impl ForwardLines {
    /// The next line, without its newline; `None` at the end. A line over [`MAX_LINE`] is
    /// skipped.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        let mut skipping = false;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.at..]) {
                let (start, end) = (self.at, self.at + i);
                self.at = end + 1;
                if skipping || end - start > MAX_LINE {
                    skipping = false;
                    continue;
                }
                return Ok(Some(&self.buf[start..end]));
            }
            if self.pos >= self.snapshot.len {
                return Ok(None); // a snapshot ends with a newline: nothing is left over
            }
            // Keep the start of the unfinished line, and read on after it.
            self.buf.drain(..self.at);
            self.at = 0;
            if self.buf.len() > MAX_LINE {
                self.buf.clear();
                skipping = true;
            }
            let kept = self.buf.len();
            self.buf.resize(kept + REGION, 0);
            let n = self.snapshot.read_at(&mut self.buf[kept..], self.pos)?;
            self.buf.truncate(kept + n);
            self.pos += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_of(tag: &str, bytes: &[u8]) -> Snapshot {
        let dir = std::env::temp_dir().join(format!("chatroom-archive-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("room.jsonl");
        std::fs::write(&path, bytes).unwrap();
        Snapshot::open(&path).unwrap().unwrap()
    }

    fn lines_back(snapshot: &Snapshot) -> Vec<Vec<u8>> {
        let mut regions = snapshot.regions_before(snapshot.len());
        let mut out = Vec::new();
        while let Some(region) = regions.next_region().unwrap() {
            assert!(region.ends_with(b"\n"));
            let mut lines: Vec<Vec<u8>> =
                region[..region.len() - 1].split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            lines.reverse();
            out.extend(lines);
        }
        out
    }

    fn lines_forward(snapshot: Snapshot) -> Vec<Vec<u8>> {
        let mut lines = ForwardLines { snapshot, pos: 0, buf: Vec::new(), at: 0 };
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(line.to_vec());
        }
        out
    }

    #[test]
    fn a_torn_tail_is_left_out_and_lines_come_whole_both_ways() {
        // Lines of many lengths, one longer than a region, and a torn tail.
        let mut file = Vec::new();
        let mut expected = Vec::new();
        for i in 0..3000usize {
            let line = if i == 1234 {
                vec![b'y'; REGION * 3 + 17]
            } else {
                format!("line {i} {}", "x".repeat(i % 300)).into_bytes()
            };
            file.extend_from_slice(&line);
            file.push(b'\n');
            expected.push(line);
        }
        let whole = file.len() as u64;
        file.extend_from_slice(b"{\"seq\":99,\"te");
        let snapshot = snapshot_of("both", &file);
        assert_eq!(snapshot.len(), whole);
        let mut back = lines_back(&snapshot);
        back.reverse();
        assert!(back == expected, "backwards"); // not assert_eq: the lines are long
        assert!(lines_forward(snapshot) == expected, "forwards");
    }

    #[test]
    fn a_line_too_long_to_be_a_message_is_skipped_without_being_held() {
        // A line of MAX_LINE + 1 bytes is skipped, one of MAX_LINE is not (their lengths are
        // compared, not their bytes, which would make a long failure message).
        let mut file = b"first\n".to_vec();
        file.extend(std::iter::repeat_n(b'z', MAX_LINE + 1));
        file.push(b'\n');
        file.extend(std::iter::repeat_n(b'y', MAX_LINE));
        file.extend_from_slice(b"\nlast\n");
        let lengths = |lines: Vec<Vec<u8>>| lines.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(lengths(lines_back(&snapshot_of("long-back", &file))), [4, MAX_LINE, 5]);
        assert_eq!(lengths(lines_forward(snapshot_of("long-fwd", &file))), [5, MAX_LINE, 4]);
    }

    #[test]
    fn an_empty_log_has_no_lines() {
        let snapshot = snapshot_of("empty", b"");
        assert!(snapshot.is_empty());
        assert!(lines_back(&snapshot).is_empty());
        assert!(lines_forward(snapshot).is_empty());
    }
}
