//! One upload on its way in: a temporary file in `files/tmp/`, written piece by piece while the
//! pieces are hashed and their kind is sniffed. Whatever way it ends short of being renamed into
//! place (a torn body, a timeout, a full disk, a panic), dropping it removes the temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::media::Sniffer;

/// An upload being received.
pub struct Incoming {
    temp: Temp,
    file: File,
    hasher: Sha256,
    size: u64,
    sniffer: Sniffer,
    /// Whether the file will be forced to the disk at the end (`--fsync` is not `never`): then its
    /// bytes are written out as they come, [`WRITE_BEHIND`] at a time.
    durable: bool,
    /// Bytes before this are written out, or on their way.
    written_out: u64,
    /// The range last sent on its way to the disk (start, length), to wait for before the next.
    in_flight: Option<(u64, u64)>,
}

/// How much of an upload is written out to the disk at a time, when it is to be durable.
///
/// Forcing 25 MiB to the disk in one `fdatasync` at the end held up the chat of other rooms: the
/// file system then writes the whole file out and commits its journal at once, and a room's log
/// append, made under its room lock, can wait for that commit. Measured with uploads only beside
/// S1 (`SIDE_LOAD=up`, `bench/README.md`): S1's p99 was 9.0 ms with one `fdatasync` at the end,
/// 2.7 ms written out as it comes, and 1.9 ms with `--fsync never` (medians of 3, alternating).
/// Written out as it comes, the dirty pages stay few and the final `fdatasync` has little left.
pub const WRITE_BEHIND: u64 = 2 << 20;

/// What a complete upload turned out to be, still under its temporary name.
pub struct Received {
    temp: Temp,
    /// SHA-256 of the bytes, lower-case hex.
    pub hash: String,
    /// How many bytes.
    pub size: u64,
    /// What its first bytes, and all of them for text, say it is.
    pub sniffed: Sniffer,
}

/// A temporary path, removed when dropped unless it was renamed away.
struct Temp(Option<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

impl Incoming {
    /// A new, empty temporary file in `tmp`, with a random name.
    /// `durable`: it will be forced to the disk when complete (see [`WRITE_BEHIND`]).
    pub fn create(tmp: &Path, durable: bool) -> io::Result<Incoming> {
        let mut random = [0u8; 10];
        crate::random::fill(&mut random);
        let path = tmp.join(format!("upload-{}", crate::random::base32(&random)));
        // create_new: never write into a file someone else made.
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok(Incoming {
            temp: Temp(Some(path)),
            file,
            hasher: Sha256::new(),
            size: 0,
            sniffer: Sniffer::default(),
            durable,
            written_out: 0,
            in_flight: None,
        })
    }

    /// Takes the next piece of the body.
    pub fn write(&mut self, piece: &[u8]) -> io::Result<()> {
        self.hasher.update(piece);
        self.sniffer.feed(piece);
        self.file.write_all(piece)?;
        self.size += piece.len() as u64;
        if self.durable && self.size - self.written_out >= WRITE_BEHIND {
            // Start on this range, after waiting for the one before it: at most two in flight.
            let range = (self.written_out, self.size - self.written_out);
            crate::sys::write_behind(&self.file, range.0, range.1, self.in_flight)?;
            (self.in_flight, self.written_out) = (Some(range), self.size);
        }
        Ok(())
    }

    /// The body is complete: its hash, and (if `sync`) its bytes forced to the disk.
    pub fn finish(self, sync: bool) -> io::Result<Received> {
        if sync {
            self.file.sync_data()?;
        }
        let hash = self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Received { temp: self.temp, hash, size: self.size, sniffed: self.sniffer })
    }
}

impl Received {
    /// Moves the file to `path` (on the same file system, so the rename is atomic). Otherwise,
    /// the temporary file goes when this is dropped.
    pub fn rename_to(&mut self, path: &Path) -> io::Result<()> {
        let temp = self.temp.0.take().expect("a received file has its temporary path until renamed");
        fs::rename(&temp, path).inspect_err(|_| self.temp.0 = Some(temp))
    }
}
