//! The registry of rooms ([`Rooms`]): made on first use, loaded from the data directory at
//! start, listed, and forgotten when unused.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::chat::disk::DiskHealth;
use crate::chat::history::History;
use crate::chat::names::{self, DEFAULT_ROOM};
use crate::chat::room::Room;
use crate::config::FsyncPolicy;
use crate::lock;
use crate::protocol::json::RoomSummary;

/// How rooms keep their history.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Messages kept in memory per room, replayed on join (`--history`).
    pub history: usize,
    /// Where the logs live; `None` with `--memory`.
    pub data_dir: Option<PathBuf>,
    /// When appends are flushed to disk (`--fsync`).
    pub fsync: FsyncPolicy,
}

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
            StorageError::OpenLog(path, e) => write!(
                f,
                "cannot open the history log {}: {e} (check its permissions; move it away to start that room afresh)",
                path.display()
            ),
        }
    }
}

/// Every room, by name.
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    storage: Storage,
    /// Problems writing the logs, shared with every room and reported by `/healthz`.
    pub disk: Arc<DiskHealth>,
}

impl Rooms {
    /// Opens the data directory (creating it if needed) and loads every room log in it. An error
    /// here is a startup error: it names the path and the server exits with code 2.
    pub fn open(storage: Storage) -> Result<Rooms, StorageError> {
        let rooms = Rooms { rooms: Mutex::new(HashMap::new()), storage, disk: Arc::new(DiskHealth::default()) };
        let Some(dir) = rooms.storage.data_dir.clone() else {
            rooms.get_or_create(DEFAULT_ROOM);
            return Ok(rooms);
        };
        if dir.exists() && !dir.is_dir() {
            return Err(StorageError::NotADirectory(dir));
        }
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::CreateDir(dir.clone(), e))?;
        let entries = std::fs::read_dir(&dir).map_err(|e| StorageError::ReadDir(dir.clone(), e))?;
        let mut loaded = rooms.lock();
        for entry in entries {
            let path = entry.map_err(|e| StorageError::ReadDir(dir.clone(), e))?.path();
            let Some(room) = room_of_log(&path) else { continue };
            let history =
                History::open(&path, rooms.storage.history).map_err(|e| StorageError::OpenLog(path.clone(), e))?;
            loaded.insert(room.clone(), Arc::new(Room::new(&room, history, rooms.storage.fsync, rooms.disk.clone())));
        }
        drop(loaded);
        // The lobby always exists: it is listed even before anyone has spoken in it.
        rooms.get_or_create(DEFAULT_ROOM);
        Ok(rooms)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        lock::take(&self.rooms)
    }

    /// The room called `name` (already validated), made on first use. If its log cannot be
    /// created, the room still works, in memory, and `/healthz` says why.
    pub fn get_or_create(&self, name: &str) -> Arc<Room> {
        let mut rooms = self.lock();
        if let Some(room) = rooms.get(name) {
            return room.clone();
        }
        let history = match &self.storage.data_dir {
            None => History::in_memory(self.storage.history),
            Some(dir) => {
                let path = dir.join(format!("{name}.jsonl"));
                match History::open(&path, self.storage.history) {
                    Ok(history) => history,
                    Err(e) => {
                        self.disk.report(&Err(e), &path);
                        History::in_memory(self.storage.history)
                    }
                }
            }
        };
        let room = Arc::new(Room::new(name, history, self.storage.fsync, self.disk.clone()));
        rooms.insert(name.to_string(), room.clone());
        room
    }

    /// The room called `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<Room>> {
        self.lock().get(name).cloned()
    }

    /// All rooms, copied out of the registry lock.
    pub fn all(&self) -> Vec<Arc<Room>> {
        self.lock().values().cloned().collect()
    }

    /// The public rooms that have people or history, busiest first. Private rooms are never
    /// listed: their unguessable name is the only key to them.
    pub fn summaries(&self) -> Vec<RoomSummary> {
        let mut list: Vec<RoomSummary> = self
            .all()
            .iter()
            .filter(|room| !names::is_private_room(&room.name))
            .map(|room| room.summary())
            .filter(|s| s.members > 0 || s.messages > 0 || s.name == DEFAULT_ROOM)
            .collect();
        list.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.name.cmp(&b.name)));
        list
    }

    /// Forgets a room that has neither members nor messages, and removes its empty log, so that
    /// visiting many rooms does not grow the registry or the data dir for ever. A room that any
    /// thread still holds (say, one about to join it) is kept: under the registry lock nobody can
    /// take a new handle, so a count of one means the registry's is the last.
    pub fn forget_if_empty(&self, name: &str) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get(name) else { return };
        if name == DEFAULT_ROOM || Arc::strong_count(room) > 1 {
            return;
        }
        if !room.is_unused() {
            return;
        }
        if let Some(log) = room.log() {
            if std::fs::metadata(log.path()).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(log.path());
            }
        }
        rooms.remove(name);
    }

    /// Sends what members' backlogs hold, in every room that has some (see [`Room::flush_backlogs`]).
    pub fn flush_backlogs(&self) {
        for room in self.all() {
            room.flush_backlogs();
        }
    }

    /// Announces the batched joins and leaves of every room that has some due.
    pub fn flush_presence(&self) {
        for room in self.all() {
            room.flush_presence();
        }
    }

    /// Flushes every log that has unsynced appends (the `--fsync interval` thread, and shutdown).
    /// Runs outside the room locks: fsync can take milliseconds, relays must not wait for it.
    pub fn sync_logs(&self) {
        for room in self.all() {
            if let Some(log) = room.log() {
                if let Err(e) = log.sync_if_dirty() {
                    self.disk.set(log.path(), format!("cannot flush history log {}: {e}", log.path().display()));
                }
            }
        }
    }

    /// Gives back every room's unused reserved message numbers: at a clean stop, after the last
    /// relay (see `chat::history::reserve`).
    pub fn release_numbers(&self) {
        for room in self.all() {
            room.release_numbers();
        }
    }

    /// Checks that every log file is still where it was: a log deleted under a running server
    /// takes appends that no one will ever read. Reported, not repaired: the server keeps the
    /// history in memory and the next start begins a new log.
    pub fn check_logs(&self) {
        for room in self.all() {
            if let Some(log) = room.log() {
                if log.is_deleted() {
                    self.disk.set(
                        log.path(),
                        format!(
                            "history log {} was deleted while in use; new messages are kept in memory only",
                            log.path().display()
                        ),
                    );
                }
            }
        }
    }
}

/// The room a log file belongs to, from its name `ROOM.jsonl`.
fn room_of_log(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let room = file.strip_suffix(".jsonl")?;
    names::room(room).filter(|canonical| canonical == room)
}
