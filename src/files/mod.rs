//! The shared files on disk: `DATA_DIR/files/`, each named by the SHA-256 of its content.
//!
//! | path | what |
//! |---|---|
//! | `files/HASH` | the bytes, written once: the same content shared twice is stored once |
//! | `files/HASH.names` | the names it was shared under, one JSON line each: `{"name":…,"type":…}` |
//! | `files/tmp/` | uploads on their way in; emptied at every start (what a `kill -9` left) |
//!
//! **An upload** ([`Files::reserve`], then [`Incoming`]) is written to a temporary file in
//! pieces while it is hashed, so it is never held in memory whole, and only a complete one is
//! renamed into place ([`Files::commit`]): a torn body takes its temporary file with it, and
//! nothing partial is ever served. Under `--fsync always` or `interval` the bytes are forced to
//! the disk before the rename, so that a power cut never leaves a file named by a hash its bytes
//! do not have; `always` also forces the directory entry. No lock is held while bytes move: the
//! space lock below is taken for an addition, and the catalog lock only for the rename and the
//! names line. Room locks are never taken here at all.
//!
//! **The quota** (`--files-quota`) is checked against the bytes of every stored file, summed once
//! at start and kept up to date, plus the declared sizes of the uploads in progress, so that a
//! hundred concurrent uploads cannot overshoot it together.
//!
//! **A download** ([`Files::find`]) reads the names file, which is small, and opens the bytes;
//! the HTTP layer sends them with `sendfile(2)` (`http::download`).
//!
//! **Big transfers** give way to chat: a lower priority, small steps, and the bytes written out
//! as they come ([`transfer`]).
//!
//! **A file no message shares** (its messages deleted) stays until `chatroom compact` runs over
//! every log, with the server stopped ([`purge`]).

mod incoming;
pub mod media;
pub mod name;
pub mod purge;
mod rate;
pub mod transfer;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use incoming::Incoming;
pub use rate::UploadRate;

use crate::config::FsyncPolicy;
use crate::lock;

/// The folder under `--data-dir` that holds the shared files.
pub const FOLDER: &str = "files";

/// One name a file was shared under, and the type it is served with under that name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The name, as the uploader gave it (already checked by [`name::validate`]).
    pub name: String,
    /// The media type it is served with ([`media::served_type`]).
    #[serde(rename = "type")]
    pub media_type: String,
}

/// A file that is now stored.
#[derive(Debug)]
pub struct Stored {
    /// SHA-256 of the bytes, lower-case hex: the file's name on disk and in its URL.
    pub hash: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its name and served type.
    pub entry: Entry,
}

/// The store of shared files, one per server (none with `--memory`).
pub struct Files {
    dir: PathBuf,
    quota: u64,
    fsync: FsyncPolicy,
    space: Mutex<Space>,
    /// Taken for the rename into place and the names line: two uploads of the same content must
    /// agree on whether it was new (the space counts it once).
    catalog: Mutex<()>,
    /// Uploads started per address (`--upload-rate`).
    pub rate: UploadRate,
}

#[derive(Debug, Default)]
struct Space {
    /// Bytes of every stored file.
    used: u64,
    /// Declared sizes of the uploads in progress.
    reserved: u64,
}

/// The quota cannot take an upload of this size now.
#[derive(Debug, PartialEq, Eq)]
pub struct Full {
    /// The quota, in bytes.
    pub quota: u64,
    /// What is free of it now, in bytes.
    pub free: u64,
}

/// Room held in the quota for one upload in progress, given back when dropped.
pub struct Reservation<'a> {
    files: &'a Files,
    size: u64,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        lock::take(&self.files.space).reserved -= self.size;
    }
}

impl Files {
    /// Opens (or makes) `DATA_DIR/files`, empties its `tmp/` of what an interrupted upload left,
    /// and sums the stored files' sizes for the quota.
    pub fn open(data_dir: &Path, quota: u64, uploads_per_window: u32, fsync: FsyncPolicy) -> io::Result<Files> {
        let dir = data_dir.join(FOLDER);
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            let path = entry?.path();
            crate::log::warn(format_args!("removing {}, an upload that never finished", path.display()));
            fs::remove_file(&path)?;
        }
        let mut used = 0;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if is_hash(&entry.file_name().to_string_lossy()) {
                used += entry.metadata()?.len();
            }
        }
        let space = Mutex::new(Space { used, reserved: 0 });
        let rate = UploadRate::new(uploads_per_window);
        Ok(Files { dir, quota, fsync, space, catalog: Mutex::new(()), rate })
    }

    /// Holds `size` bytes of the quota for an upload, or says how much is free.
    pub fn reserve(&self, size: u64) -> Result<Reservation<'_>, Full> {
        let mut space = lock::take(&self.space);
        let taken = space.used + space.reserved;
        if taken.saturating_add(size) > self.quota {
            return Err(Full { quota: self.quota, free: self.quota.saturating_sub(taken) });
        }
        space.reserved += size;
        Ok(Reservation { files: self, size })
    }

    /// Bytes of all stored files.
    pub fn used(&self) -> u64 {
        lock::take(&self.space).used
    }

    /// A new temporary file for an upload.
    pub fn incoming(&self) -> io::Result<Incoming> {
        Incoming::create(&self.dir.join("tmp"), self.fsync != FsyncPolicy::Never)
    }

    /// Puts a complete upload in place under its hash (or drops it, when the same bytes are
    /// stored already), and records `name` and its type for it.
    pub fn commit(&self, incoming: Incoming, name: String, declared: &str) -> io::Result<Stored> {
        let mut received = incoming.finish(self.fsync != FsyncPolicy::Never)?;
        let path = self.dir.join(&received.hash);
        let entry = Entry { media_type: media::served_type(declared, &received.sniffed), name };
        let _catalog = lock::take(&self.catalog);
        // Stored already: the temporary file goes when `received` is dropped.
        if !path.exists() {
            received.rename_to(&path)?;
            lock::take(&self.space).used += received.size;
        }
        self.remember(&received.hash, &entry)?;
        if self.fsync == FsyncPolicy::Always {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(Stored { hash: received.hash, size: received.size, entry })
    }

    /// Adds `entry` to the names of the file `hash`, unless that name is there already (then the
    /// first type recorded for it stays).
    fn remember(&self, hash: &str, entry: &Entry) -> io::Result<()> {
        if self.names(hash)?.iter().any(|known| known.name == entry.name) {
            return Ok(());
        }
        let mut file = OpenOptions::new().create(true).append(true).open(names_path(&self.dir, hash))?;
        // One write of one whole line, with O_APPEND: a reader sees it whole or not at all.
        file.write_all(&entry.line()?)?;
        if self.fsync != FsyncPolicy::Never {
            file.sync_data()?;
        }
        Ok(())
    }

    /// The names the file `hash` was shared under (none if it is unknown).
    fn names(&self, hash: &str) -> io::Result<Vec<Entry>> {
        read_names(&names_path(&self.dir, hash))
    }

    /// The stored file `hash` as shared under `name`: its entry, the open file and its size.
    /// `None` when the hash is not a stored file's, or it was never shared under that name.
    pub fn find(&self, hash: &str, name: &str) -> io::Result<Option<(Entry, File, u64)>> {
        if !is_hash(hash) {
            return Ok(None);
        }
        let Some(entry) = self.names(hash)?.into_iter().find(|entry| entry.name == name) else { return Ok(None) };
        match File::open(self.dir.join(hash)) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some((entry, file, size)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Entry {
    /// Its line in a names file.
    fn line(&self) -> io::Result<Vec<u8>> {
        let mut line = serde_json::to_vec(self).map_err(io::Error::other)?;
        line.push(b'\n');
        Ok(line)
    }
}

/// The names file of the stored file `hash`, in the folder `dir`.
fn names_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{hash}.names"))
}

/// The entries of the names file at `path` (none if there is no such file).
fn read_names(path: &Path) -> io::Result<Vec<Entry>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in BufReader::new(file).lines() {
        // A line that does not parse (a torn one, after a crash) names nothing.
        if let Ok(entry) = serde_json::from_str(&line?) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Whether `text` is a SHA-256 in lower-case hex: a stored file's name, and nothing else is.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests;
