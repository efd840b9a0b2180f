//! What `chatroom compact` does to the shared files once every log is compacted: a file is kept
//! under the names that a message still shares it by, and removed from the disk (and so from the
//! quota) when no message shares it any more.
//!
//! Deleting a message that shares a file hides it at once, like any message; the bytes stay
//! until this runs, as a deleted text stays in the log until then. It runs with no server on the
//! data directory (`compact` holds its lock), so no upload can be adding a name meanwhile.
//!
//! **It errs on the side of keeping.** A log line that does not parse as a message is not ours to
//! judge (`compact` keeps it as it is), so any file it names by its hash is kept whole. Each names
//! file is rewritten to a temporary one and renamed over the old one, and a file's bytes go only
//! after its names: a crash at any moment leaves a file with its old names, with fewer, or gone.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::{is_hash, names_path, read_names, Entry, FOLDER};

/// The files that messages share: by hash, the names they share each under.
#[derive(Debug, Default)]
pub struct Shared {
    names: HashMap<String, HashSet<String>>,
    /// Named by a line that is not a readable message: kept with all their names.
    whole: HashSet<String>,
}

impl Shared {
    /// A message shares the file at `url` (`/files/HASH/NAME`) under `name`.
    pub fn add(&mut self, url: &str, name: &str) {
        if let Some(hash) = hash_in(url) {
            self.names.entry(hash.to_string()).or_default().insert(name.to_string());
        }
    }

    /// A log line that is not a readable message: every file it names (`/files/HASH`) is kept.
    pub fn keep_any_in(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        for (at, _) in text.match_indices("/files/") {
            if let Some(hash) = text.get(at + "/files/".len()..at + "/files/".len() + 64).filter(|h| is_hash(h)) {
                self.whole.insert(hash.to_string());
            }
        }
    }
}

/// The hash in a file's URL, `/files/HASH/NAME`.
fn hash_in(url: &str) -> Option<&str> {
    let hash = url.strip_prefix("/files/")?.split('/').next()?;
    is_hash(hash).then_some(hash)
}

/// What [`keep_only`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Files removed, no message sharing them any more.
    pub files: usize,
    /// Their bytes, given back to the quota.
    pub bytes: u64,
    /// Names forgotten from files that are kept (their `/files/HASH/NAME` now 404).
    pub names: usize,
}

/// Removes from `DATA_DIR/files` every file that `shared` does not hold, and every name of a
/// kept file that no message shares it under. Nothing to do when there is no such folder.
pub fn keep_only(data_dir: &Path, shared: &Shared) -> io::Result<Purged> {
    let dir = data_dir.join(FOLDER);
    let mut purged = Purged::default();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(purged),
        Err(e) => return Err(e),
    };
    let mut hashes = HashSet::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".names.compacting") {
            remove_if_there(&dir.join(&name))?; // what a crash during a rewrite left
            continue;
        }
        // A names file counts too: one left without its bytes (a crash between the two) goes.
        if let Some(hash) = name.strip_suffix(".names").or(Some(name.as_str())).filter(|h| is_hash(h)) {
            hashes.insert(hash.to_string());
        }
    }
    for hash in hashes {
        if shared.whole.contains(&hash) {
            continue;
        }
        let (bytes, names) = (dir.join(&hash), names_path(&dir, &hash));
        let wanted = shared.names.get(&hash);
        let mut entries = read_names(&names)?;
        let before = entries.len();
        entries.retain(|entry| wanted.is_some_and(|w| w.contains(&entry.name)));
        let dropped = before - entries.len();
        if wanted.is_none() || (entries.is_empty() && dropped > 0) {
            remove_if_there(&names)?;
            match fs::metadata(&bytes) {
                Ok(meta) => {
                    fs::remove_file(&bytes)?;
                    purged.files += 1;
                    purged.bytes += meta.len();
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        } else if dropped > 0 {
            rewrite_names(&names, &entries)?;
            purged.names += dropped;
        }
    }
    // The removals and renames are durable once the directory is (fsync(2) on it).
    File::open(&dir)?.sync_all()?;
    Ok(purged)
}

/// Replaces a names file with `entries`: written beside it, fsynced, renamed over it.
fn rewrite_names(path: &Path, entries: &[Entry]) -> io::Result<()> {
    let temp = path.with_extension("names.compacting");
    let mut out = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
    for entry in entries {
        out.write_all(&entry.line()?)?;
    }
    out.sync_all()?;
    fs::rename(&temp, path)
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> Entry {
        Entry { name: name.into(), media_type: "application/octet-stream".into() }
    }

    /// A stored file `hash` of `size` bytes, shared under `names`.
    fn store(dir: &Path, hash: &str, size: usize, names: &[&str]) {
        fs::write(dir.join(hash), vec![0u8; size]).unwrap();
        let lines: Vec<u8> = names.iter().flat_map(|n| entry(n).line().unwrap()).collect();
        fs::write(names_path(dir, hash), lines).unwrap();
    }

    fn names_of(dir: &Path, hash: &str) -> Vec<String> {
        read_names(&names_path(dir, hash)).unwrap().into_iter().map(|e| e.name).collect()
    }

    #[test]
    fn files_no_message_shares_go_and_kept_files_keep_only_their_shared_names() {
        let data = std::env::temp_dir().join(format!("chatroom-purge-{}", std::process::id()));
        let _ = fs::remove_dir_all(&data);
        let dir = data.join(FOLDER);
        fs::create_dir_all(dir.join("tmp")).unwrap();
        let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|x| x.repeat(64));
        store(&dir, &a, 10, &["one.txt", "two.txt"]); // one name still shared
        store(&dir, &b, 20, &["gone.bin"]); // no message left
        store(&dir, &c, 30, &["kept.png"]); // shared as it was
        store(&dir, &d, 40, &["odd.bin"]); // named by a line that does not parse
        fs::write(dir.join(format!("{e}.names")), "").unwrap(); // names without bytes
        fs::write(dir.join("notes.txt"), "not ours").unwrap();
        fs::write(dir.join(format!("{c}.names.compacting")), "a crash's").unwrap();
        let mut shared = Shared::default();
        shared.add(&format!("/files/{a}/two.txt"), "two.txt");
        shared.add(&format!("/files/{c}/kept.png"), "kept.png");
        shared.add("/files/not-a-hash/x", "x");
        shared.keep_any_in(format!(r#"{{"seq":9,"file":{{"url":"/files/{d}/odd.bin""#).as_bytes());
        let purged = keep_only(&data, &shared).unwrap();
        assert_eq!(purged, Purged { files: 1, bytes: 20, names: 1 });
        assert_eq!(names_of(&dir, &a), ["two.txt"]);
        assert!(!dir.join(&b).exists() && !dir.join(format!("{b}.names")).exists());
        assert!(!dir.join(format!("{e}.names")).exists());
        assert_eq!(names_of(&dir, &c), ["kept.png"]);
        assert!(!dir.join(format!("{c}.names.compacting")).exists());
        assert_eq!(names_of(&dir, &d), ["odd.bin"]);
        assert!(dir.join("notes.txt").exists() && dir.join("tmp").is_dir());
        assert_eq!(fs::metadata(dir.join(&a)).unwrap().len(), 10);
        // A second run finds nothing more to do.
        assert_eq!(keep_only(&data, &shared).unwrap(), Purged::default());
        // No files folder at all: nothing to do.
        assert_eq!(keep_only(&data.join("elsewhere"), &shared).unwrap(), Purged::default());
        let _ = fs::remove_dir_all(&data);
    }
}
