//! [`Log`]: one room's append-only log file, `DATA_DIR/ROOM.jsonl`, and reading it back (its
//! tail at start, any page of it on demand), backwards and in bounded memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::events::{self, Amendments, LogEvent};
use super::{FsyncPolicy, MAX_SEQ};
use crate::protocol::ChatMessage;

/// Reads from the log go in chunks of this size.
const CHUNK: usize = 64 * 1024;

/// The on-disk log of one room.
pub struct Log {
    path: PathBuf,
    /// Shared with the fsync thread, which syncs it without taking the room lock.
    file: Arc<File>,
    /// Set by appends, cleared by the fsync thread.
    dirty: AtomicBool,
    /// The file's length after the last good append. Appends happen under the room lock; the
    /// atomic is only for interior mutability.
    len: AtomicU64,
    /// Deleted and edited messages (from the log's event lines), which every reader applies.
    /// Changed under the room lock; readers outside it take a copy.
    amendments: Mutex<Amendments>,
}

/// A log just opened: the log, its last messages (amended), its last number, and its event
/// lines, in order (the room replays the host's among them).
pub struct Opened {
    /// The log, ready to append to.
    pub log: Log,
    /// The last messages, oldest first, as readers see them (deleted ones left out).
    pub recent: Vec<ChatMessage>,
    /// The last sequence number in it (0 for none).
    pub last_seq: u64,
    /// Its event lines, in order.
    pub events: Vec<LogEvent>,
}

impl Log {
    /// Opens (creating if needed) the log at `path` for appending, repairs a torn tail, and reads
    /// the last `keep` messages and the last sequence number.
    pub fn open(path: &Path, keep: usize) -> io::Result<Opened> {
        let file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let (recent, last_seq) = load_tail(&file, path, keep)?;
        // After the tail was repaired: a torn event line is gone by now.
        let (amendments, events) = events::scan(path)?;
        let recent = recent.into_iter().filter_map(|m| amendments.apply(m)).collect();
        let len = AtomicU64::new(file.metadata()?.len());
        let amendments = Mutex::new(amendments);
        let log =
            Log { path: path.to_path_buf(), file: Arc::new(file), dirty: AtomicBool::new(false), len, amendments };
        Ok(Opened { log, recent, last_seq, events })
    }

    /// Repairs a torn tail of the log at `path` (as [`Log::open`] does) and returns its last
    /// message's number and time (zeros for none), without reading its event lines: for the
    /// list of rooms at start, which must not read every log whole.
    pub fn repair_tail(path: &Path) -> io::Result<(u64, u64)> {
        let file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let (recent, last_seq) = load_tail(&file, path, 1)?;
        Ok((last_seq, recent.last().map_or(0, |m| m.ts)))
    }

    /// Appends one message as one line, in a single `write` (O_APPEND makes it land at the end,
    /// whole, as far as other readers of the file are concerned).
    pub fn append(&self, message: &ChatMessage, fsync: FsyncPolicy) -> io::Result<()> {
        let mut line = serde_json::to_vec(message).expect("a message always serialises");
        line.push(b'\n');
        self.append_line(&line, fsync)
    }

    /// Appends an event line (an edit, a delete, something the host did), and applies it to what
    /// readers see from now on. Under the room lock, like every append.
    pub fn append_event(&self, event: &LogEvent, fsync: FsyncPolicy) -> io::Result<()> {
        crate::lock::take(&self.amendments).record(event);
        self.append_line(&events::line_of(event), fsync)
    }

    /// A copy of the amendments, for a reader outside the room lock.
    pub fn amendments(&self) -> Amendments {
        crate::lock::take(&self.amendments).clone()
    }

    fn append_line(&self, line: &[u8], fsync: FsyncPolicy) -> io::Result<()> {
        let before = self.len.load(Ordering::Relaxed);
        if let Err(e) = (&*self.file).write_all(line) {
            // A full disk can take half a line. Cut it off, or the next append would be glued to
            // it and both lines lost; what was on disk before stays as it was.
            let _ = self.file.set_len(before);
            return Err(e);
        }
        self.len.store(before + line.len() as u64, Ordering::Relaxed);
        match fsync {
            FsyncPolicy::Always => self.file.sync_data()?,
            FsyncPolicy::Interval => self.dirty.store(true, Ordering::Release),
            FsyncPolicy::Never => {}
        }
        Ok(())
    }

    /// Flushes to disk if anything was appended since the last call (the fsync thread's job).
    pub fn sync_if_dirty(&self) -> io::Result<()> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Where the log file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file was unlinked while open (its link count is zero).
    pub fn is_deleted(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.file.metadata().is_ok_and(|m| m.nlink() == 0)
    }

    /// A handle of its own on the log's file (a duplicate, so it reads the same file even if the
    /// path was since unlinked): what [`Snapshot::of_log`] reads.
    ///
    /// [`Snapshot::of_log`]: super::Snapshot::of_log
    pub(super) fn duplicate_file(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Up to `limit` messages with `seq < before`, oldest first, and whether older ones exist.
    /// Reads the file through its own handle, so appends go on meanwhile.
    pub fn page_before(&self, before: u64, limit: usize) -> io::Result<(Vec<ChatMessage>, bool)> {
        let file = File::open(&self.path)?;
        page_before(&file, before, limit, &self.amendments())
    }
}

/// The last message of the log at `path`, read without opening it for writing or repairing it:
/// for listing a room that is not in memory. `None` for an empty (or unreadable) log.
pub fn last_message(path: &Path) -> io::Result<Option<ChatMessage>> {
    let file = File::open(path)?;
    let end = end_of_last_full_line(&file, file.metadata()?.len())?;
    // Event lines do not count: a host may have done many things since the last message.
    let mut messages = lines_backwards(&file, end).filter(|line| !line.as_ref().is_ok_and(|l| events::is_event(l)));
    for line in messages.by_ref().take(8) {
        if let Ok(message) = serde_json::from_slice::<ChatMessage>(&line?) {
            return Ok(Some(message));
        }
    }
    Ok(None)
}

/// Up to `limit` messages before `before` from the log at `path`, for a room that is not in
/// memory: as [`Log::page_before`], through a handle of its own.
pub fn page_before_in(path: &Path, before: u64, limit: usize) -> io::Result<(Vec<ChatMessage>, bool)> {
    let file = File::open(path)?;
    page_before(&file, before, limit, &events::scan(path)?.0)
}

/// Reads the last `keep` messages and the last sequence number from the end of the log, reading
/// backwards. Cuts off a torn last line (no newline at the end, or not valid JSON) with a warning.
fn load_tail(file: &File, path: &Path, keep: usize) -> io::Result<(Vec<ChatMessage>, u64)> {
    let len = file.metadata()?.len();
    // 1. A torn tail: bytes after the last newline were a line being written when we died.
    let good_end = end_of_last_full_line(file, len)?;
    if good_end < len {
        crate::log::warn(format_args!(
            "{}: dropping a torn last line ({} bytes, no newline); the message was never relayed",
            path.display(),
            len - good_end
        ));
        file.set_len(good_end)?;
    }
    // 2. Walk back line by line until we have `keep` messages and know the last seq.
    let mut recent = Vec::new();
    let mut last_seq = None;
    let mut first_line = true;
    for line in lines_backwards(file, good_end) {
        let line = line?;
        if events::is_event(&line) {
            // Not a message: read by `events::scan`. (A torn one was cut off above.)
            first_line = false;
            continue;
        }
        // Sequence numbers run from 1 to 2^53 (the largest integer every JSON reader, JavaScript
        // included, holds exactly: a million messages a second would take 285 years to get there).
        // Anything else is corruption, and must not make the next number overflow.
        let parsed = serde_json::from_slice::<ChatMessage>(&line).map_err(|e| e.to_string()).and_then(|m| {
            if m.seq == 0 || m.seq > MAX_SEQ {
                Err(format!("sequence number {} is out of range", m.seq))
            } else {
                Ok(m)
            }
        });
        match parsed {
            Ok(message) => {
                last_seq.get_or_insert(message.seq);
                if recent.len() < keep {
                    recent.push(message);
                }
            }
            Err(e) if first_line => {
                // A corrupt last line (e.g. zeros after a crash on some file systems): cut it too.
                crate::log::warn(format_args!("{}: dropping a corrupt last line ({e})", path.display()));
                let start = good_end - line.len() as u64 - 1;
                file.set_len(start)?;
                return load_tail(file, path, keep);
            }
            Err(e) => crate::log::warn(format_args!("{}: skipping a corrupt line ({e})", path.display())),
        }
        first_line = false;
        if recent.len() >= keep && last_seq.is_some() {
            break;
        }
    }
    recent.reverse();
    Ok((recent, last_seq.unwrap_or(0)))
}

/// The offset just after the last `\n` in the first `len` bytes (0 if none).
pub(super) fn end_of_last_full_line(file: &File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; CHUNK];
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The complete lines before offset `end` (which must be a line start), last first, without their
/// newlines. Reads backwards in chunks; holds at most one line plus one chunk in memory.
fn lines_backwards(file: &File, end: u64) -> impl Iterator<Item = io::Result<Vec<u8>>> + '_ {
    let mut pos = end; // bytes before `pos` not yet read
    let mut pending: Vec<u8> = Vec::new(); // bytes read but not yet returned, in file order
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        // A line ends at pending's end; it starts after the last newline before that end.
        let body_end = pending.len().checked_sub(1).filter(|&i| pending[i] == b'\n').unwrap_or(pending.len());
        if let Some(nl) = pending[..body_end].iter().rposition(|&b| b == b'\n') {
            let line = pending[nl + 1..body_end].to_vec();
            pending.truncate(nl + 1);
            return Some(Ok(line));
        }
        if pos == 0 {
            done = true;
            if body_end == 0 {
                return None;
            }
            return Some(Ok(pending[..body_end].to_vec()));
        }
        let start = pos.saturating_sub(CHUNK as u64);
        let mut chunk = vec![0u8; (pos - start) as usize];
        if let Err(e) = file.read_exact_at(&mut chunk, start) {
            done = true;
            return Some(Err(e));
        }
        chunk.extend_from_slice(&pending);
        pending = chunk;
        pos = start;
    })
}

/// The first parseable line starting at or after `offset` and before `limit`:
/// `(line_start, seq)`. Skips the partial line `offset` may point into.
fn seq_at_or_after(file: &File, offset: u64, limit: u64) -> io::Result<Option<(u64, u64)>> {
    let mut reader = io::BufReader::with_capacity(8 * 1024, file);
    let mut pos = offset;
    reader.seek(SeekFrom::Start(offset))?;
    let mut line = Vec::new();
    if offset > 0 {
        // Are we at a line start? Only if the byte before is a newline.
        let mut prev = [0u8; 1];
        file.read_exact_at(&mut prev, offset - 1)?;
        if prev[0] != b'\n' {
            pos += io::BufRead::read_until(&mut reader, b'\n', &mut line)? as u64;
        }
    }
    while pos < limit {
        line.clear();
        let n = io::BufRead::read_until(&mut reader, b'\n', &mut line)? as u64;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(None);
        }
        if let Ok(message) = serde_json::from_slice::<SeqOnly>(&line) {
            return Ok(Some((pos, message.seq)));
        }
        pos += n;
    }
    Ok(None)
}

/// Parsing just the sequence number is enough for the binary search.
#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// See [`Log::page_before`].
fn page_before(
    file: &File,
    before: u64,
    limit: usize,
    amendments: &Amendments,
) -> io::Result<(Vec<ChatMessage>, bool)> {
    let len = file.metadata()?.len();
    let len = end_of_last_full_line(file, len)?; // ignore a line being appended right now
    let end = start_of_seq(file, len, before)?;
    let mut page = Vec::with_capacity(limit);
    let mut more = false;
    for line in lines_backwards(file, end) {
        let line = line?;
        let Ok(message) = serde_json::from_slice::<ChatMessage>(&line) else { continue };
        if message.seq >= before {
            continue;
        }
        let Some(message) = amendments.apply(message) else { continue };
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(message);
    }
    page.reverse();
    Ok((page, more))
}

/// The start of the first line with `seq >= before` in the first `len` bytes of the log (which
/// end with a whole line), or `len`: a binary search by byte offset, since sequence numbers grow
/// along the file. Search and paging read backwards from there.
pub(super) fn start_of_seq(file: &File, len: u64, before: u64) -> io::Result<u64> {
    // Invariant: every line starting before `lo` has seq < before; the line at `hi` (if any) has
    // seq >= before.
    let (mut lo, mut hi) = (0u64, len);
    while hi - lo > CHUNK as u64 {
        let mid = lo + (hi - lo) / 2;
        match seq_at_or_after(file, mid, hi)? {
            Some((start, seq)) if seq < before => lo = start + 1,
            Some((start, _)) => hi = start,
            // No readable line in [mid, hi): corrupt bytes. Stop narrowing; the linear scan
            // below is slower but correct, and `hi` is still a line start.
            None => break,
        }
    }
    // Finish with a short linear scan.
    let mut end = hi;
    let mut pos = lo;
    while pos < hi {
        match seq_at_or_after(file, pos, hi)? {
            Some((start, seq)) if seq >= before => {
                end = start;
                break;
            }
            Some((start, _)) => pos = start + 1,
            None => break,
        }
    }
    Ok(end)
}
