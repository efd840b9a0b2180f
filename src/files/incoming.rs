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
}

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
    pub fn create(tmp: &Path) -> io::Result<Incoming> {
        let mut random = [0u8; 10];
        crate::random::fill(&mut random);
        let path = tmp.join(format!("upload-{}", crate::random::base32(&random)));
        // create_new: never write into a file someone else made.
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok(Incoming { temp: Temp(Some(path)), file, hasher: Sha256::new(), size: 0, sniffer: Sniffer::default() })
    }

    /// Takes the next piece of the body.
    pub fn write(&mut self, piece: &[u8]) -> io::Result<()> {
        self.hasher.update(piece);
        self.sniffer.feed(piece);
        self.file.write_all(piece)?;
        self.size += piece.len() as u64;
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
