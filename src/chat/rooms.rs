//! The registry of rooms ([`Rooms`]): made on first use, loaded from the data directory at
//! start, listed, and forgotten when unused.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::chat::data_dir::DataDirLock;
use crate::chat::disk::DiskHealth;
use crate::chat::history::{self, Archive, History, Log, Snapshot};
use crate::chat::names::{self, DEFAULT_ROOM};
use crate::chat::room::Room;
pub use crate::chat::storage_error::StorageError;
use crate::config::FsyncPolicy;
use crate::lock;
use crate::protocol::json::RoomSummary;
use crate::protocol::ChatMessage;
use crate::time::now_ms;

/// How rooms keep their history.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Messages kept in memory per room, replayed on join (`--history`).
    pub history: usize,
    /// Where the logs live; `None` with `--memory`.
    pub data_dir: Option<PathBuf>,
    /// When appends are flushed to disk (`--fsync`).
    pub fsync: FsyncPolicy,
    /// Rooms in memory at most (`--max-rooms`).
    pub max_rooms: usize,
}

/// A room with nobody in it for this long is put away: its log closed, its memory freed. It
/// comes back from its log when someone joins it or asks for its history.
pub const PUT_AWAY_AFTER: Duration = Duration::from_secs(60);

/// Rooms idle for longer than this are no longer listed (they are still there, by name).
pub const LISTED_FOR: Duration = Duration::from_secs(24 * 3600);

/// The room list shows at most this many rooms, busiest and most recent first.
pub const LISTED_AT_MOST: usize = 100;

/// Why a room cannot be entered now.
#[derive(Debug)]
pub enum Unavailable {
    /// `--max-rooms` rooms are in memory, all with people in them.
    Full(usize),
    /// Its log cannot be opened (out of file descriptors, a permission...): the server's log and
    /// `/healthz` say more.
    Log,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Full(n) => write!(f, "this server has {n} rooms open, its limit; try again later"),
            Unavailable::Log => write!(f, "this room's history cannot be opened right now; try again later"),
        }
    }
}

/// A room put away, or found on disk at start: what the room list and numbering need of it.
#[derive(Clone, Copy, Debug)]
struct Asleep {
    /// Its last message number.
    last_seq: u64,
    /// When it was last active, in milliseconds since the epoch.
    active: u64,
}

/// Every room: those in memory, and those put away (or only on disk) that were active lately.
///
/// Memory is bounded: a room nobody is in is put away after [`PUT_AWAY_AFTER`] (its log is
/// closed and its recent messages freed; they come back from the log on demand), and no more than
/// `--max-rooms` rooms are in memory at once. Without that, every room ever visited kept its log
/// open and its history in memory until a restart (3,000 one-message rooms: 3,007 open files).
pub struct Rooms {
    registry: Mutex<Registry>,
    storage: Storage,
    /// Problems writing the logs, shared with every room and reported by `/healthz`.
    pub disk: Arc<DiskHealth>,
    /// The data directory's lock, held for the life of the server (`None` with `--memory`).
    _dir_lock: Option<DataDirLock>,
}

/// What the registry lock guards.
#[derive(Default)]
struct Registry {
    live: HashMap<String, Arc<Room>>,
    asleep: HashMap<String, Asleep>,
}

impl Rooms {
    /// Opens the data directory (creating it if needed) and notes the rooms whose logs are in it:
    /// each log is opened, a torn last line cut off (with a warning), its last message read, and
    /// closed again. An error here is a startup error: it names the path and the server does not
    /// start.
    ///
    /// The data directory is locked first ([`DataDirLock`]) and stays locked for as long as the
    /// rooms exist: a second server, or `chatroom compact`, is refused with a clear message.
    pub fn open(storage: Storage) -> Result<Rooms, StorageError> {
        let mut rooms = Rooms {
            registry: Mutex::new(Registry::default()),
            storage,
            disk: Arc::new(DiskHealth::default()),
            _dir_lock: None,
        };
        let Some(dir) = rooms.storage.data_dir.clone() else { return Ok(rooms) };
        if dir.exists() && !dir.is_dir() {
            return Err(StorageError::NotADirectory(dir));
        }
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::CreateDir(dir.clone(), e))?;
        rooms._dir_lock = Some(DataDirLock::take(&dir).map_err(StorageError::Locked)?);
        let entries = std::fs::read_dir(&dir).map_err(|e| StorageError::ReadDir(dir.clone(), e))?;
        let mut registry = rooms.lock();
        for entry in entries {
            let path = entry.map_err(|e| StorageError::ReadDir(dir.clone(), e))?.path();
            let Some(room) = room_of_log(&path) else { continue };
            let (last_seq, active) = Log::repair_tail(&path).map_err(|e| StorageError::OpenLog(path.clone(), e))?;
            let asleep = Asleep { last_seq, active };
            registry.asleep.insert(room, asleep);
        }
        drop(registry);
        Ok(rooms)
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        lock::take(&self.registry)
    }

    /// The room called `name` (already validated), in memory: as it is, or brought back from its
    /// log, or made. Refused when its log cannot be opened, or when `--max-rooms` rooms are in
    /// memory and none of them is empty enough to put away.
    pub fn get_or_create(&self, name: &str) -> Result<Arc<Room>, Unavailable> {
        let mut registry = self.lock();
        if let Some(room) = registry.live.get(name) {
            return Ok(room.clone());
        }
        if registry.live.len() >= self.storage.max_rooms {
            self.put_away_least_recent(&mut registry);
            if registry.live.len() >= self.storage.max_rooms {
                return Err(Unavailable::Full(self.storage.max_rooms));
            }
        }
        let history = match &self.storage.data_dir {
            None => {
                let last = registry.asleep.get(name).map_or(0, |asleep| asleep.last_seq);
                History::in_memory_after(self.storage.history, last)
            }
            Some(dir) => {
                let path = dir.join(format!("{name}.jsonl"));
                match History::open(&path, self.storage.history) {
                    Ok(history) => history,
                    Err(e) => {
                        self.disk.set(&path, format!("cannot open history log {}: {e}", path.display()));
                        return Err(Unavailable::Log);
                    }
                }
            }
        };
        let room = Arc::new(Room::new(name, history, self.storage.fsync, self.disk.clone()));
        registry.asleep.remove(name);
        registry.live.insert(name.to_string(), room.clone());
        Ok(room)
    }

    /// Up to `limit` messages of room `name` before `before`, oldest first, and whether there are
    /// older ones, whether the room is in memory or not (then from its log, if it has one).
    pub fn page_before(&self, name: &str, before: u64, limit: usize) -> io::Result<(Vec<ChatMessage>, bool)> {
        if let Some(room) = self.lock().live.get(name).cloned() {
            return room.page_before(before, limit);
        }
        match &self.storage.data_dir {
            Some(dir) => match history::page_before_in(&dir.join(format!("{name}.jsonl")), before, limit) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((Vec::new(), false)),
                found => found,
            },
            None => Ok((Vec::new(), false)),
        }
    }

    /// Room `name`'s whole history as it is now, to read without any lock (search, export): its
    /// log, up to its last whole line (a room put away is read from its log, not brought back),
    /// or with `--memory` a copy of the messages it holds. No history at all is an empty copy.
    pub fn archive(&self, name: &str) -> io::Result<Archive> {
        let live = self.lock().live.get(name).cloned();
        let snapshot = match (live, &self.storage.data_dir) {
            (Some(room), _) => match room.log() {
                Some(log) => Some(Snapshot::of_log(log)?),
                None => return Ok(Archive::Memory(room.page_before(u64::MAX, usize::MAX)?.0)),
            },
            (None, Some(dir)) => Snapshot::open(&dir.join(format!("{name}.jsonl")))?,
            (None, None) => None,
        };
        Ok(snapshot.map_or(Archive::Memory(Vec::new()), Archive::Log))
    }

    /// The rooms in memory, copied out of the registry lock.
    pub fn all(&self) -> Vec<Arc<Room>> {
        self.lock().live.values().cloned().collect()
    }

    /// The public rooms with people in them or active within [`LISTED_FOR`], and the lobby:
    /// busiest first, then the most recently active, at most [`LISTED_AT_MOST`]. Private rooms are
    /// never listed: their unguessable name is the only key to them.
    pub fn summaries(&self) -> Vec<RoomSummary> {
        let since = now_ms().saturating_sub(LISTED_FOR.as_millis() as u64);
        let (live, asleep): (Vec<Arc<Room>>, Vec<(String, Asleep)>) = {
            let registry = self.lock();
            let asleep = registry.asleep.iter().map(|(name, a)| (name.clone(), *a)).collect();
            (registry.live.values().cloned().collect(), asleep)
        };
        let mut list: Vec<(RoomSummary, u64)> = live
            .iter()
            .map(|room| (room.summary(), room.last_active()))
            .chain(
                asleep.into_iter().map(|(name, a)| (RoomSummary { name, members: 0, messages: a.last_seq }, a.active)),
            )
            .filter(|(s, _)| !names::is_private_room(&s.name))
            .filter(|(s, active)| s.members > 0 || (s.messages > 0 && *active >= since) || s.name == DEFAULT_ROOM)
            .collect();
        if !list.iter().any(|(s, _)| s.name == DEFAULT_ROOM) {
            list.push((RoomSummary { name: DEFAULT_ROOM.to_string(), members: 0, messages: 0 }, 0));
        }
        list.sort_by(|(a, a_active), (b, b_active)| {
            b.members.cmp(&a.members).then(b_active.cmp(a_active)).then_with(|| a.name.cmp(&b.name))
        });
        list.truncate(LISTED_AT_MOST);
        list.into_iter().map(|(summary, _)| summary).collect()
    }

    /// Forgets a room that has neither members nor messages, and removes its empty log, so that
    /// visiting many rooms does not grow the registry or the data dir for ever. A room that any
    /// thread still holds (say, one about to join it) is kept: under the registry lock nobody can
    /// take a new handle, so a count of one means the registry's is the last.
    pub fn forget_if_empty(&self, name: &str) {
        let mut registry = self.lock();
        let Some(room) = registry.live.get(name) else { return };
        if Arc::strong_count(room) > 1 || !room.is_unused() {
            return;
        }
        if let Some(log) = room.log() {
            if std::fs::metadata(log.path()).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(log.path());
                let _ = std::fs::remove_file(log.path().with_extension("seq"));
            }
        }
        registry.live.remove(name);
    }

    /// Puts away the rooms nobody has been in for [`PUT_AWAY_AFTER`] (the housekeeping thread,
    /// every second), and forgets rooms put away that are too old to list. With `--memory` a room
    /// put away loses its history, so there it happens only when `--max-rooms` needs the room.
    pub fn put_away_idle(&self) {
        let now = now_ms();
        let mut registry = self.lock();
        if self.storage.data_dir.is_some() {
            let idle_since = now.saturating_sub(PUT_AWAY_AFTER.as_millis() as u64);
            let idle: Vec<String> = registry
                .live
                .iter()
                .filter(|(_, room)| Arc::strong_count(room) == 1 && room.last_active() < idle_since)
                .filter(|(_, room)| room.member_count() == 0)
                .map(|(name, _)| name.clone())
                .collect();
            for name in idle {
                put_away(&mut registry, &name);
            }
        }
        // With a data dir, an old room is still on disk (and comes back by name); with
        // `--memory`, its last number must be remembered, or a room made again would reuse them.
        let listed_since = now.saturating_sub(LISTED_FOR.as_millis() as u64);
        if self.storage.data_dir.is_some() {
            registry.asleep.retain(|_, asleep| asleep.active >= listed_since);
        }
    }

    /// Makes room under `--max-rooms`: puts away the least recently active room nobody is in.
    fn put_away_least_recent(&self, registry: &mut Registry) {
        let candidate = registry
            .live
            .iter()
            .filter(|(_, room)| Arc::strong_count(room) == 1 && room.member_count() == 0)
            .min_by_key(|(_, room)| room.last_active())
            .map(|(name, _)| name.clone());
        if let Some(name) = candidate {
            put_away(registry, &name);
        }
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

/// Takes room `name` out of memory (its log closes when the last handle goes, which is the
/// registry's), remembering what listing and numbering need of it.
fn put_away(registry: &mut Registry, name: &str) {
    let Some(room) = registry.live.remove(name) else { return };
    // What `--fsync interval` has not forced to disk yet goes now: the log is about to close.
    if let Some(log) = room.log() {
        let _ = log.sync_if_dirty();
    }
    room.release_numbers();
    let summary = room.summary();
    registry.asleep.insert(name.to_string(), Asleep { last_seq: summary.messages, active: room.last_active() });
}

/// The room a log file belongs to, from its name `ROOM.jsonl`.
fn room_of_log(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let room = file.strip_suffix(".jsonl")?;
    names::room(room).filter(|canonical| canonical == room)
}
