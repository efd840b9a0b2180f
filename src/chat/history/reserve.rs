//! [`Reservation`]: sequence numbers are handed out from blocks reserved in a small file beside
//! the log, `ROOM.seq`, so that they only grow, across restarts too, even when the log itself
//! could not be written.
//!
//! Why: a message is numbered, appended to the log, then relayed; if the append fails (a full
//! disk), the chat goes on in memory. Continuing the numbering from the log's last line after a
//! restart would then hand out again numbers that members had already seen, for other messages
//! (observed: 120 relayed, 68 logged, and the next message after a restart was number 69). So the
//! numbers come from a reserved block instead, and the next block is reserved before the first
//! number of it is used. On start the numbering continues after the larger of the log's last
//! number and the reservation: after a crash it may jump by up to a block, but never repeats.
//! A clean stop (or a room put away) gives the unused numbers back ([`Reservation::release`]), so
//! that an ordinary restart does not jump at all.
//!
//! The file is written in place, always the same 21 bytes at offset 0: on a full disk that
//! still works, since it needs no new block, where appending to the log does not.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::FsyncPolicy;

/// Numbers reserved at a time: after a crash, the numbering jumps by at most this many.
pub const BLOCK: u64 = 100;

/// The reserved high-water mark of one room's sequence numbers, and the file that keeps it (opened
/// only to write it, once per block: a room in memory costs one open file, its log, not two).
pub struct Reservation {
    path: PathBuf,
    /// Every number up to this one may have been handed out.
    upto: u64,
}

impl Reservation {
    /// Opens (creating if needed) the reservation file beside the log at `log_path`.
    pub fn open(log_path: &Path) -> io::Result<Reservation> {
        let path = log_path.with_extension("seq");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        let mut text = [0u8; 21];
        let read = file.read_at(&mut text, 0)?;
        let upto = match std::str::from_utf8(&text[..read]).map(str::trim) {
            Ok("") => 0,
            Ok(digits) => digits.parse().unwrap_or_else(|_| {
                crate::log::warn(format_args!("{}: not a number; the log's last number counts", path.display()));
                0
            }),
            Err(_) => 0,
        };
        Ok(Reservation { path, upto })
    }

    /// The highest number that may have been handed out.
    pub fn upto(&self) -> u64 {
        self.upto
    }

    /// Makes sure number `seq` is reserved, reserving the next block (from `seq` on) if it is not.
    /// An error means the number may not be used.
    pub fn cover(&mut self, seq: u64, fsync: FsyncPolicy) -> io::Result<()> {
        if seq <= self.upto {
            return Ok(());
        }
        let upto = seq - 1 + BLOCK;
        self.write(upto, fsync != FsyncPolicy::Never)?;
        self.upto = upto;
        Ok(())
    }

    /// Gives back the numbers after `last`, the last one handed out: written when the room is put
    /// away or the server stops, so that the next start continues right after it.
    pub fn release(&mut self, last: u64) -> io::Result<()> {
        if last >= self.upto {
            return Ok(());
        }
        self.write(last, true)?;
        self.upto = last;
        Ok(())
    }

    /// Writes `upto` into the file, in place.
    fn write(&self, upto: u64, sync: bool) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(&self.path)?;
        file.write_all_at(format!("{upto:020}\n").as_bytes(), 0)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
