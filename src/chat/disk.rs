//! [`DiskHealth`]: whether the rooms' logs can be written, which `/healthz` reports.
//!
//! Each problem is kept, and logged, with its file and its cause; `/healthz`, which answers
//! anyone, only says how many logs fail ([`DiskHealth::summary`]). A log's file is named after its
//! room, and a private room's name is its only secret; the path would also tell where the server
//! keeps its data.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::lock;

/// Whether the history logs can be written, per log; reported by `/healthz`.
#[derive(Default)]
pub struct DiskHealth {
    problems: Mutex<HashMap<PathBuf, String>>,
}

impl DiskHealth {
    /// What is wrong, if anything, fit for anyone to read: how many logs fail, not which or why
    /// (the server's log on stderr says both, when each problem starts).
    pub fn summary(&self) -> Option<String> {
        match lock::take(&self.problems).len() {
            0 => None,
            1 => Some("1 room log cannot be written (see the server's log)".into()),
            n => Some(format!("{n} room logs cannot be written (see the server's log)")),
        }
    }

    /// Records the outcome of a write to the log at `path`. Logged once when a problem starts and
    /// once when it ends, not for every message in between.
    pub fn report(&self, result: &io::Result<()>, path: &Path) {
        match result {
            Ok(()) => self.clear(path),
            Err(e) => self.set(path, format!("cannot write history log {}: {e}", path.display())),
        }
    }

    /// Records a problem with the log at `path`.
    pub fn set(&self, path: &Path, problem: String) {
        let mut problems = lock::take(&self.problems);
        if !problems.contains_key(path) {
            crate::log::error(format_args!("{problem}; chat goes on in memory"));
        }
        problems.insert(path.to_path_buf(), problem);
    }

    fn clear(&self, path: &Path) {
        // The common case, a healthy log, costs one uncontended lock and a lookup in an empty map.
        let mut problems = lock::take(&self.problems);
        if !problems.is_empty() && problems.remove(path).is_some() {
            crate::log::info(format_args!("history log {} is writable again", path.display()));
        }
    }
}
