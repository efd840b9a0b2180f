//! The room registry ([`Rooms`]) and a [`Room`]: who is in it, its history, and relaying.
//!
//! The relay is the heart of the server, and it is deliberately plain: the sender's own thread
//! takes the room lock, appends the message to the history (and its log), encodes one frame per
//! format in use, and writes it to every member's socket in turn ([`Member::deliver`]). No queue
//! and no writer threads, so no wake-ups and no context switches per delivery; the room lock gives
//! every member the same order, which is also the order of the log. Messages that are waiting
//! when a relay starts go out together, one `write` per member ([`Room::relay_posted`]).
//!
//! **Joining without a gap or a duplicate.** Under the room lock, [`Room::join`] takes the history
//! snapshot and the roster, and registers the member as *joining*: relays from then on are kept
//! for it in memory. Its own thread then writes the snapshot (possibly large, possibly to a slow
//! link) *outside* the lock, and finally [`Member::go_live`] flushes what was kept. Every message
//! is thus either in the snapshot or kept, never both and never neither.
//!
//! Lock order, to rule out deadlock: the registry lock, then a room lock, then a member's write
//! lock. A thread never takes a room lock while holding a member's write lock.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::chat::history::{FsyncPolicy, History, Log};
use crate::chat::member::{Member, Undeliverable};
use crate::chat::names;
use crate::chat::names::DEFAULT_ROOM;
use crate::lock;
use crate::metrics;
use crate::protocol::json::RoomSummary;
use crate::protocol::{Change, ChatMessage, Dialect, Outgoing, Presence, Roster, ServerEvent, ROSTER_NAMES};
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

/// One chat room.
pub struct Room {
    /// The room's name, as in its URL (`lobby`, `kitchen`, ...).
    pub name: String,
    /// The page's URL path for this room, e.g. `/r/kitchen` (`/` for the lobby is special-cased
    /// by the router; the WebSocket and history paths hang off this).
    pub path: String,
    state: Mutex<RoomState>,
    /// Set when joins or leaves wait to be announced: the housekeeping thread then flushes them.
    presence_pending: AtomicBool,
    /// Messages waiting for the room lock (see [`Room::relay_posted`]). Taken only briefly, never while
    /// waiting for another lock.
    inbox: Mutex<Vec<Said>>,
    /// The log, outside the lock too, for the fsync thread and the history API.
    log: Option<Arc<Log>>,
    fsync: FsyncPolicy,
    disk: Arc<DiskHealth>,
}

/// What the room lock guards.
struct RoomState {
    /// Everyone who receives this room's relays, joining or live, in the order they came.
    members: Vec<Arc<Member>>,
    /// Their names, lower-cased: finding a free name is a lookup, not a scan of the room.
    names: HashSet<String>,
    /// How many of them speak each dialect: an event is only encoded in a dialect someone
    /// will read.
    html_members: usize,
    json_members: usize,
    history: History,
    presence: Pending,
}

/// Joins and leaves not yet announced. See [`Room::flush_presence`] for why they are batched.
#[derive(Default)]
struct Pending {
    changes: Vec<Change>,
    /// Who made each change (its member id), for telling newcomers only what came after them.
    members: Vec<u64>,
    last_flush: Option<Instant>,
}

impl Pending {
    fn push(&mut self, member: u64, name: &str, joined: bool) {
        self.changes.push(Change { name: name.to_string(), joined, ts: now_ms() });
        self.members.push(member);
    }
}

/// A chat message waiting in the inbox.
struct Said {
    name: String,
    text: String,
}

/// Joins and leaves are announced at most this often per room; more in between are batched.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(500);

/// What a member needs to write to its own socket after [`Room::join`], outside the lock.
pub struct Welcome {
    /// Its name in the room, unique.
    pub name: String,
    /// The name it asked for, if it had to be changed.
    pub taken: Option<String>,
    /// The most recent messages, oldest first, to replay.
    pub history: Vec<ChatMessage>,
    /// Whether older messages exist than those in `history`.
    pub more: bool,
    /// The first names of the roster (at most [`ROSTER_NAMES`]), in order of arrival.
    pub roster: Vec<String>,
    /// How many members there are in all.
    pub count: usize,
}

impl Room {
    fn new(name: &str, history: History, rooms: &Rooms) -> Room {
        let state = RoomState {
            members: Vec::new(),
            names: HashSet::new(),
            html_members: 0,
            json_members: 0,
            history,
            presence: Pending::default(),
        };
        Room {
            name: name.to_string(),
            path: format!("/r/{name}"),
            log: state.history.log().cloned(),
            state: Mutex::new(state),
            presence_pending: AtomicBool::new(false),
            inbox: Mutex::new(Vec::new()),
            fsync: rooms.storage.fsync,
            disk: rooms.disk.clone(),
        }
    }

    /// The room's history log, unless the server runs `--memory` (or the log could not be made).
    pub fn log(&self) -> Option<&Arc<Log>> {
        self.log.as_ref()
    }

    /// Registers `member` under a unique version of `wanted`, tells the others, and returns the
    /// history and roster for the member to write itself. See the module docs for why this is
    /// gapless.
    pub fn join(&self, member: &Arc<Member>, wanted: &str, max_name: usize) -> Welcome {
        let mut state = lock(&self.state);
        let name = names::unique_within(wanted, max_name, |candidate| state.names.contains(&candidate.to_lowercase()));
        member.set_name(name.clone());
        state.names.insert(name.to_lowercase());
        state.members.push(member.clone());
        match member.dialect {
            Dialect::Html => state.html_members += 1,
            Dialect::Json => state.json_members += 1,
        }
        state.presence.push(member.id, &name, true);
        // The others hear about it now, or with the next batch. The newcomer's roster is in its
        // welcome, so it is not told about its own arrival (see `flush_presence_locked`).
        self.maybe_flush_presence(&mut state);
        let history: Vec<ChatMessage> = state.history.recent().cloned().collect();
        let more = state.history.has_older_than_recent();
        let roster = state.members.iter().take(ROSTER_NAMES).map(|m| m.name().to_string()).collect();
        Welcome {
            taken: (name != wanted).then(|| wanted.to_string()),
            name,
            history,
            more,
            roster,
            count: state.members.len(),
        }
    }

    /// Removes the member, if it is still here, and tells the others.
    pub fn leave(&self, member: &Member) {
        let mut state = lock(&self.state);
        let Some(i) = state.members.iter().position(|m| m.id == member.id) else { return };
        // `remove`, not `swap_remove`: the roster stays in order of arrival.
        let gone = state.members.remove(i);
        forget(&mut state, &gone);
        self.maybe_flush_presence(&mut state);
    }

    /// Puts a chat message from `from` in the room's inbox, to go out with the next relay
    /// ([`Room::relay_posted`]). Cheap: it takes only the inbox lock, never the room lock.
    pub fn post(&self, from: &Member, text: &str) {
        lock(&self.inbox).push(Said { name: from.name().to_string(), text: text.to_string() });
    }

    /// Numbers, logs and relays every message waiting in the inbox, in the order they were posted.
    ///
    /// **Group commit.** A thread posts its messages, then waits for the room lock, and whoever
    /// gets it relays *everything* in the inbox at once: all the waiting messages go to each
    /// member as consecutive frames in one `write`. With one message at a time nothing changes (a
    /// batch of one). When messages pile up (a big room whose relay takes a while, a busy moment,
    /// a client that sent several frames at once: see `connection::Reader::next_frame`), the
    /// next relay carries all of them for the price of one system call per member instead of one
    /// per message. That system call is most of the cost of a delivery (`bench/profile.sh`; see
    /// "Where the time goes" in `bench/README.md`). A thread that finds the inbox already emptied
    /// by the previous lock holder just leaves.
    pub fn relay_posted(&self) {
        let mut state = lock(&self.state);
        fault_injection::maybe_panic(&self.inbox);
        let batch = std::mem::take(&mut *lock(&self.inbox));
        if batch.is_empty() {
            return; // relayed by whoever held the lock before us
        }
        // Announce pending joins first, so that nobody's first words arrive before their arrival.
        if !state.presence.changes.is_empty() {
            self.flush_presence_locked(&mut state);
        }
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        for said in &batch {
            let (message, written) = state.history.append(now_ms(), &said.name, &said.text, self.fsync);
            if let Some(log) = &self.log {
                if written.is_err() {
                    metrics::HISTORY_WRITE_ERRORS.inc();
                }
                self.disk.report(&written, log.path());
            }
            metrics::MESSAGES_RELAYED.inc();
            outgoing.push(&self.name, &ServerEvent::Message(&message));
        }
        let delivered = self.relay(&mut state, |member| outgoing.for_dialect(member.dialect));
        metrics::RELAYS.inc();
        metrics::DELIVERIES.add(delivered * batch.len() as u64);
    }

    /// Announces pending joins and leaves if the last announcement was long enough ago; otherwise
    /// leaves them for the housekeeping thread ([`Room::flush_presence`]).
    fn maybe_flush_presence(&self, state: &mut RoomState) {
        let due = state.presence.last_flush.is_none_or(|t| t.elapsed() >= PRESENCE_INTERVAL);
        if due {
            self.flush_presence_locked(state);
        } else {
            self.presence_pending.store(true, Ordering::Release);
        }
    }

    /// Announces batched joins and leaves, if any are due; called by the housekeeping thread a few
    /// times a second.
    ///
    /// Why batch: every announcement goes to every member, so a crowd of N arriving at once (a
    /// class opening the link, or every page reconnecting after a restart) would cost N² frames,
    /// each carrying the roster. Batched, a burst costs at most two announcements a second, and a
    /// lone join in a quiet room is still announced at once.
    pub fn flush_presence(&self) {
        if !self.presence_pending.load(Ordering::Acquire) {
            return;
        }
        let mut state = lock(&self.state);
        self.maybe_flush_presence(&mut state);
    }

    /// Sends the pending changes and the new roster. Members who arrived within this batch already
    /// got a roster in their welcome, so they are only told what happened after their arrival: a
    /// small batch's later changes, or just the new roster after a big (summarised) batch, or
    /// nothing if their arrival was the last change.
    fn flush_presence_locked(&self, state: &mut RoomState) {
        self.presence_pending.store(false, Ordering::Release);
        state.presence.last_flush = Some(Instant::now());
        let changes = std::mem::take(&mut state.presence.changes);
        let who = std::mem::take(&mut state.presence.members);
        if changes.is_empty() {
            return;
        }
        let names: Vec<&str> = state.members.iter().take(ROSTER_NAMES).map(|m| m.name()).collect();
        let roster = Roster { names: &names, count: state.members.len() };
        let (html, json) = (state.html_members > 0, state.json_members > 0);
        let announce = |changes: &[Change]| {
            let mut outgoing = Outgoing::new(html, json);
            outgoing.push(&self.name, &ServerEvent::Presence(Presence { changes, roster }));
            outgoing
        };
        let everyone = announce(&changes);
        // What each newcomer of this batch gets instead: the changes after its own arrival. A
        // big batch is summed up on the page, so a newcomer then gets just the roster.
        let mut newcomers: HashMap<u64, Option<Outgoing>> = HashMap::new();
        for (i, _) in changes.iter().enumerate().filter(|(_, c)| c.joined) {
            let tail = match changes.len() - i - 1 {
                0 => None,
                _ if changes.len() > crate::protocol::html::PRESENCE_ITEMS => Some(announce(&[])),
                _ => Some(announce(&changes[i + 1..])),
            };
            newcomers.insert(who[i], tail);
        }
        let delivered = self.relay(state, |member| match newcomers.get(&member.id) {
            None => everyone.for_dialect(member.dialect),
            Some(None) => None,
            Some(Some(tail)) => tail.for_dialect(member.dialect),
        });
        metrics::DELIVERIES.add(delivered);
    }

    /// Writes to every member the bytes that `pick` chooses for it (none: skip it), under the room
    /// lock. Members that stopped reading are dropped (their sockets already shut down by
    /// [`Member::deliver`]); their leaving is announced with the next batch.
    /// Returns to how many members it was written (the callers count frames for the metrics).
    fn relay<'f>(&self, state: &mut RoomState, pick: impl Fn(&Member) -> Option<&'f [u8]>) -> u64 {
        let mut dropped = Vec::new();
        let (mut deliveries, mut bytes) = (0u64, 0u64);
        for (i, member) in state.members.iter().enumerate() {
            // While this member's `write` runs (microseconds in the kernel), have the CPU fetch
            // the next member into its cache: in a big room it is long gone from there by the
            // time its turn comes, and the miss was measured at 7% of a delivery (1,000 members).
            if let Some(next) = state.members.get(i + 1) {
                next.prefetch();
            }
            let Some(frames) = pick(member) else { continue };
            match member.deliver(frames) {
                Ok(()) => {
                    deliveries += 1;
                    bytes += frames.len() as u64;
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
                }
            }
        }
        // Once per relay, not per delivery: the counters stay off the per-member path.
        metrics::BYTES_SENT.add(bytes);
        if !dropped.is_empty() {
            state.members.retain(|member| !dropped.iter().any(|gone| gone.id == member.id));
            for gone in &dropped {
                forget(state, gone);
            }
            self.presence_pending.store(true, Ordering::Release);
        }
        deliveries
    }

    /// Up to `limit` messages before `before`, oldest first, and whether there are older ones:
    /// from the log when there is one (any depth), else from memory.
    pub fn page_before(&self, before: u64, limit: usize) -> io::Result<(Vec<ChatMessage>, bool)> {
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
}

/// Books a member out of the room's state (it is already out of `members`).
fn forget(state: &mut RoomState, gone: &Member) {
    match gone.dialect {
        Dialect::Html => state.html_members -= 1,
        Dialect::Json => state.json_members -= 1,
    }
    state.names.remove(&gone.name().to_lowercase());
    state.presence.push(gone.id, gone.name(), false);
}

/// A deliberate panic, for the test that proves one connection's panic harms no one else. It
/// exists only in debug builds (what `cargo test` runs), and only when the environment variable
/// `CHATROOM_FAULT_PANIC` names the message text that triggers it. It fires while the room lock is
/// held: the worst place, on purpose.
mod fault_injection {
    use super::Said;
    use std::sync::Mutex;

    /// Takes the triggering message back out of the inbox first, so that it is not relayed, and
    /// leaves everyone else's posted messages there for the next relay.
    #[cfg(debug_assertions)]
    pub fn maybe_panic(inbox: &Mutex<Vec<Said>>) {
        use std::sync::OnceLock;
        static TRIGGER: OnceLock<Option<String>> = OnceLock::new();
        let Some(trigger) = TRIGGER.get_or_init(|| std::env::var("CHATROOM_FAULT_PANIC").ok()) else { return };
        let mut waiting = crate::lock(inbox);
        let before = waiting.len();
        waiting.retain(|said| &said.text != trigger);
        if waiting.len() != before {
            drop(waiting);
            panic!("fault injection: CHATROOM_FAULT_PANIC matched a message");
        }
    }

    /// Release builds: nothing.
    #[cfg(not(debug_assertions))]
    #[inline(always)]
    pub fn maybe_panic(_inbox: &Mutex<Vec<Said>>) {}
}
