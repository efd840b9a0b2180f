//! The data directory's lock: one process at a time may own `DATA_DIR`.
//!
//! Two servers appending to the same room logs would interleave their lines and hand out the
//! same sequence numbers twice; `chatroom compact` rewriting a log under a running server would
//! lose what the server appends meanwhile. So whoever writes the logs first takes an exclusive
//! `flock(2)` on `DATA_DIR/LOCK_FILE`, and keeps it open for as long as it runs. The kernel
//! drops the lock when the process ends, however it ends, so a crash leaves no stale lock to
//! clean up by hand. (An advisory lock binds only those who ask for it: every writer of the data
//! directory here does.)

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "chatroom.lock";

/// The data directory, owned by this process until this is dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Why the data directory could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (a server, or `chatroom compact`).
    Held(PathBuf),
    /// The lock file could not be opened or locked.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held(dir) => write!(
                f,
                "the data directory {} is in use by another chatroom process (a server, or chatroom compact); \
                 stop it first, or give this one another --data-dir",
                dir.display()
            ),
            LockError::Io(path, e) => {
                write!(f, "cannot lock {}: {e} (check the data directory's permissions)", path.display())
            }
        }
    }
}

impl std::error::Error for LockError {}

impl DataDirLock {
    /// Takes the lock on `dir` (which must exist), or says who has it. Never waits. The file
    /// holds the taker's process id, for a person wondering who has it; the lock is the
    /// `flock`, not the file's existence or content.
    pub fn take(dir: &Path) -> Result<DataDirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |e| LockError::Io(path.clone(), e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_error)?;
        if !crate::sys::try_lock_exclusive(&file).map_err(io_error)? {
            return Err(LockError::Held(dir.to_path_buf()));
        }
        file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id())).map_err(io_error)?;
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("chatroom-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = DataDirLock::take(&dir).unwrap();
        // A second open file description is refused, even in the same process.
        let second = DataDirLock::take(&dir).unwrap_err();
        assert!(matches!(second, LockError::Held(_)), "{second:?}");
        assert!(second.to_string().contains("in use by another chatroom process"));
        drop(first);
        DataDirLock::take(&dir).expect("free again once dropped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
