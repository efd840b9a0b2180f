//! Why the rooms could not be loaded at start ([`StorageError`]): each message names the path and
//! what to do about it.

use std::io;
use std::path::PathBuf;

use crate::chat::data_dir::LockError;

/// Why the rooms could not be loaded at start: the server does not start (exit code 1).
#[derive(Debug)]
pub enum StorageError {
    /// `--data-dir` names something that is not a directory.
    NotADirectory(PathBuf),
    /// The data directory did not exist and could not be made.
    CreateDir(PathBuf, io::Error),
    /// The data directory could not be listed.
    ReadDir(PathBuf, io::Error),
    /// A room's log could not be opened or read.
    OpenLog(PathBuf, io::Error),
    /// The access code's session secret could not be read or made.
    Secret(PathBuf, io::Error),
    /// Another process holds the data directory, or its lock file cannot be made.
    Locked(LockError),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::NotADirectory(dir) => {
                write!(f, "--data-dir {} is not a directory: give a directory, or --memory", dir.display())
            }
            StorageError::CreateDir(dir, e) => write!(
                f,
                "cannot create the data directory {}: {e} (choose another with --data-dir, or run with --memory)",
                dir.display()
            ),
            StorageError::ReadDir(dir, e) => {
                write!(f, "cannot read the data directory {}: {e} (check its permissions)", dir.display())
            }
            StorageError::Secret(path, e) => write!(
                f,
                "cannot read or create the session secret {}: {e} (check the data directory's permissions)",
                path.display()
            ),
            StorageError::Locked(e) => e.fmt(f),
            StorageError::OpenLog(path, e) => write!(
                f,
                "cannot open the history log {}: {e} (check its permissions; move it away to start that room afresh)",
                path.display()
            ),
        }
    }
}
