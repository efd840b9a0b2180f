//! The room registry ([`Rooms`]) and a [`Room`]: who is in it, its history, and relaying.
//!
//! The relay is the heart of the server, and it is deliberately plain: the sender's own thread
//! takes the room lock, appends the message to the history (and its log), encodes one frame per
//! format in use, and writes it to every member's socket in turn ([`Member::deliver`]). No queue
//! and no writer threads, so no wake-ups and no context switches per delivery; the room lock gives
//! every member the same order, which is also the order of the log.
//!
//! **Joining without a gap or a duplicate.** Under the room lock, [`Room::join`] takes the history
//! snapshot and the roster, and registers the member as *joining*: relays from then on are kept
//! for it in memory. Its own thread then writes the snapshot (possibly large, possibly to a slow
//! link) *outside* the lock, and finally [`Member::go_live`] flushes what was kept. Every message
//! is thus either in the snapshot or kept, never both and never neither.
//!
//! Lock order, to rule out deadlock: the registry lock, then a room lock, then a member's write
//! lock. A thread never takes a room lock while holding a member's write lock.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::frame::EncodedFrame;
use crate::history::{FsyncPolicy, History, Log, StoredMessage};
use crate::http::routes::DEFAULT_ROOM;
use crate::member::{Format, Member, Undeliverable};
use crate::metrics;
use crate::name;
use crate::render::{self, Event, MessageEvent, RoomSummary};

/// How rooms keep their history.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Messages kept in memory per room, replayed on join (`--history`).
    pub history: usize,
    /// Where the logs live; `None` with `--memory`.
    pub data_dir: Option<PathBuf>,
    pub fsync: FsyncPolicy,
}

/// Whether the history logs can be written, per log; reported by `/healthz`.
#[derive(Default)]
pub struct DiskHealth {
    problems: Mutex<HashMap<PathBuf, String>>,
}

impl DiskHealth {
    /// Every current problem, one per line, if any.
    pub fn problem(&self) -> Option<String> {
        let problems = lock(&self.problems);
        let mut lines: Vec<&str> = problems.values().map(String::as_str).collect();
        lines.sort_unstable();
        (!lines.is_empty()).then(|| lines.join("; "))
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
        let mut problems = lock(&self.problems);
        if !problems.contains_key(path) {
            crate::log::error(format_args!("{problem}; chat goes on in memory"));
        }
        problems.insert(path.to_path_buf(), problem);
    }

    fn clear(&self, path: &Path) {
        // The common case, a healthy log, costs one uncontended lock and a lookup in an empty map.
        let mut problems = lock(&self.problems);
        if !problems.is_empty() && problems.remove(path).is_some() {
            crate::log::info(format_args!("history log {} is writable again", path.display()));
        }
    }
}

/// Every room, by name.
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    storage: Storage,
    pub disk: Arc<DiskHealth>,
}

impl Rooms {
    /// Opens the data directory (creating it if needed) and loads every room log in it. An error
    /// here is a startup error: it names the path and the server exits with code 2.
    pub fn open(storage: Storage) -> Result<Rooms, String> {
        let rooms = Rooms { rooms: Mutex::new(HashMap::new()), storage, disk: Arc::new(DiskHealth::default()) };
        let Some(dir) = rooms.storage.data_dir.clone() else {
            rooms.get_or_create(DEFAULT_ROOM);
            return Ok(rooms);
        };
        if dir.exists() && !dir.is_dir() {
            return Err(format!("data dir {} is not a directory", dir.display()));
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read data dir {}: {e}", dir.display()))?;
        let mut loaded = rooms.lock();
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read data dir {}: {e}", dir.display()))?.path();
            let Some(room) = room_of_log(&path) else { continue };
            let history = History::open(&path, rooms.storage.history)
                .map_err(|e| format!("cannot open history log {}: {e}", path.display()))?;
            loaded.insert(room.clone(), Arc::new(Room::new(&room, history, &rooms)));
        }
        drop(loaded);
        // The lobby always exists: it is listed even before anyone has spoken in it.
        rooms.get_or_create(DEFAULT_ROOM);
        Ok(rooms)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        lock(&self.rooms)
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
        let room = Arc::new(Room::new(name, history, self));
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
            .filter(|room| !name::is_private_room(&room.name))
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
        let state = lock(&room.state);
        if !state.members.is_empty() || !state.history.is_empty() {
            return;
        }
        drop(state);
        if let Some(log) = room.log() {
            if std::fs::metadata(log.path()).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(log.path());
            }
        }
        rooms.remove(name);
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
    name::room(room).filter(|canonical| canonical == room)
}

/// One chat room.
pub struct Room {
    pub name: String,
    /// The page's URL path for this room, e.g. `/r/kitchen` (`/` for the lobby is special-cased
    /// by the router; the WebSocket and history paths hang off this).
    pub path: String,
    state: Mutex<RoomState>,
    /// The log, outside the lock too, for the fsync thread and the history API.
    log: Option<Arc<Log>>,
    fsync: FsyncPolicy,
    disk: Arc<DiskHealth>,
}

/// What the room lock guards.
struct RoomState {
    /// Everyone who receives this room's relays, joining or live.
    members: Vec<Arc<Member>>,
    /// How many of them want JSON: the JSON frame is only encoded if someone will get it.
    json_members: usize,
    history: History,
}

/// What a member needs to write to its own socket after [`Room::join`], outside the lock.
pub struct Welcome {
    /// Its name in the room, unique.
    pub name: String,
    /// The name it asked for, if it had to be changed.
    pub taken: Option<String>,
    pub history: Vec<StoredMessage>,
    /// Whether older messages exist than those in `history`.
    pub more: bool,
    pub roster: Vec<String>,
}

impl Room {
    fn new(name: &str, history: History, rooms: &Rooms) -> Room {
        Room {
            name: name.to_string(),
            path: format!("/r/{name}"),
            log: history.log().cloned(),
            state: Mutex::new(RoomState { members: Vec::new(), json_members: 0, history }),
            fsync: rooms.storage.fsync,
            disk: rooms.disk.clone(),
        }
    }

    pub fn log(&self) -> Option<&Arc<Log>> {
        self.log.as_ref()
    }

    /// Registers `member` under a unique version of `wanted`, tells the others, and returns the
    /// history and roster for the member to write itself. See the module docs for why this is
    /// gapless.
    pub fn join(&self, member: &Arc<Member>, wanted: &str) -> Welcome {
        let mut state = lock(&self.state);
        let name = name::unique(wanted, state.members.iter().map(|m| m.name()));
        member.set_name(name.clone());
        let ts = render::now_ms();
        // The others hear about it now; the newcomer gets the roster in its welcome instead.
        let roster: Vec<String> = state.members.iter().map(|m| m.name().to_string()).chain([name.clone()]).collect();
        self.announce(&mut state, &name, true, ts, &roster, None);
        state.members.push(member.clone());
        if member.format == Format::Json {
            state.json_members += 1;
        }
        let history: Vec<StoredMessage> = state.history.recent().cloned().collect();
        let more = state.history.has_older_than_recent();
        Welcome { taken: (name != wanted).then(|| wanted.to_string()), name, history, more, roster }
    }

    /// Removes the member, if it is still here, and tells the others.
    pub fn leave(&self, member: &Member) {
        let mut state = lock(&self.state);
        let Some(i) = state.members.iter().position(|m| m.id == member.id) else { return };
        let gone = state.members.swap_remove(i);
        if gone.format == Format::Json {
            state.json_members -= 1;
        }
        let roster: Vec<String> = state.members.iter().map(|m| m.name().to_string()).collect();
        self.announce(&mut state, gone.name(), false, render::now_ms(), &roster, None);
    }

    /// A chat message from `from`: numbered, logged, and relayed to everyone (sender included).
    pub fn say(&self, from: &Member, text: &str) {
        let mut state = lock(&self.state);
        fault_injection::maybe_panic(text);
        let (message, written) = state.history.append(render::now_ms(), from.name(), text, self.fsync);
        if let Some(log) = &self.log {
            if written.is_err() {
                metrics::HISTORY_WRITE_ERRORS.inc();
            }
            self.disk.report(&written, log.path());
        }
        metrics::MESSAGES_RELAYED.inc();
        let html = EncodedFrame::text(&render::message_fragment(&message));
        let json = (state.json_members > 0)
            .then(|| EncodedFrame::text(&render::json(&MessageEvent::new(&self.name, &message))));
        self.relay(&mut state, &html, json.as_ref(), None);
    }

    /// Announces a join or leave with the new roster to everyone but `except`.
    fn announce(
        &self,
        state: &mut RoomState,
        name: &str,
        joined: bool,
        ts: u64,
        roster: &[String],
        except: Option<u64>,
    ) {
        let roster: Vec<&str> = roster.iter().map(String::as_str).collect();
        let html = EncodedFrame::text(&render::presence_fragment(name, joined, ts, &roster));
        let json = (state.json_members > 0).then(|| {
            let (room, ts) = (self.name.as_str(), render::rfc3339(ts));
            let event = if joined { Event::Join { room, ts, name } } else { Event::Leave { room, ts, name } };
            EncodedFrame::texts(&[&render::json(&event), &render::json(&Event::Roster { room, members: &roster })])
        });
        self.relay(state, &html, json.as_ref(), except);
    }

    /// Writes the frame for each member's format to every member (but `except`), under the room
    /// lock. Members that stopped reading are dropped (their sockets already shut down by
    /// [`Member::deliver`]), and their leaving is announced in turn.
    fn relay(&self, state: &mut RoomState, html: &EncodedFrame, json: Option<&EncodedFrame>, except: Option<u64>) {
        let mut dropped = Vec::new();
        let (mut deliveries, mut bytes) = (0u64, 0u64);
        state.members.retain(|member| {
            if Some(member.id) == except {
                return true;
            }
            let frame = match (member.format, json) {
                (Format::Json, Some(json)) => json,
                _ => html,
            };
            match member.deliver(frame.as_bytes()) {
                Ok(()) => {
                    deliveries += 1;
                    bytes += frame.as_bytes().len() as u64;
                    true
                }
                Err(why) => {
                    if why == Undeliverable::Slow {
                        metrics::DROPPED_SLOW.inc();
                        crate::log::conn(
                            member.id,
                            member.peer,
                            "dropped: stopped reading (send buffer full past the relay timeout)",
                        );
                    }
                    dropped.push(member.clone());
                    false
                }
            }
        });
        // Once per relay, not per delivery: the counters stay off the per-member path.
        metrics::DELIVERIES.add(deliveries);
        metrics::BYTES_SENT.add(bytes);
        for gone in dropped {
            if gone.format == Format::Json {
                state.json_members -= 1;
            }
            let roster: Vec<String> = state.members.iter().map(|m| m.name().to_string()).collect();
            self.announce(state, gone.name(), false, render::now_ms(), &roster, None);
        }
    }

    /// Up to `limit` messages before `before`, oldest first, and whether there are older ones:
    /// from the log when there is one (any depth), else from memory.
    pub fn page_before(&self, before: u64, limit: usize) -> io::Result<(Vec<StoredMessage>, bool)> {
        match &self.log {
            Some(log) => log.page_before(before, limit),
            None => Ok(lock(&self.state).history.page_in_memory(before, limit)),
        }
    }

    /// Name, people here, and how many messages it has had.
    pub fn summary(&self) -> RoomSummary {
        let state = lock(&self.state);
        RoomSummary { name: self.name.clone(), members: state.members.len(), messages: state.history.next_seq() - 1 }
    }

    /// The names of the people here.
    pub fn roster(&self) -> Vec<String> {
        lock(&self.state).members.iter().map(|m| m.name().to_string()).collect()
    }
}

/// Takes a lock even if another thread panicked while holding it. Room and registry state stay
/// consistent across a panic (every update is a single push, remove or retain), so one
/// connection's panic must not take every other member down with a poisoned lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A deliberate panic, for the test that proves one connection's panic harms no one else. It
/// exists only in debug builds (what `cargo test` runs), and only when the environment variable
/// `CHATROOM_FAULT_PANIC` names the message text that triggers it. It fires while the room lock is
/// held: the worst place, on purpose.
mod fault_injection {
    #[cfg(debug_assertions)]
    pub fn maybe_panic(text: &str) {
        use std::sync::OnceLock;
        static TRIGGER: OnceLock<Option<String>> = OnceLock::new();
        let trigger = TRIGGER.get_or_init(|| std::env::var("CHATROOM_FAULT_PANIC").ok());
        if trigger.as_deref() == Some(text) {
            panic!("fault injection: CHATROOM_FAULT_PANIC matched a message");
        }
    }

    #[cfg(not(debug_assertions))]
    #[inline(always)]
    pub fn maybe_panic(_text: &str) {}
}
