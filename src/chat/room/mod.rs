//! A [`Room`]: who is in it, its history, and relaying. (The registry of rooms is
//! [`super::rooms`]; announcing joins and leaves in batches is `presence.rs`, beside this file,
//! and writing to every member is `relay.rs`.)
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

pub mod commands;
mod fault_injection;
pub mod moderation;
mod presence;
mod relay;
mod uploads;

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use moderation::{Moderation, KICKED, LOCKED};
use presence::Pending;

use crate::chat::disk::DiskHealth;
use crate::chat::history::{History, Log};
use crate::chat::member::Member;
use crate::chat::mentions;
use crate::chat::names;
use crate::config::FsyncPolicy;
use crate::lock;
use crate::metrics;
use crate::protocol::attachment::SharedFile;
use crate::protocol::json::RoomSummary;
use crate::protocol::{ChatMessage, Dialect, Outgoing, ServerEvent};
use crate::time::now_ms;

/// One chat room.
pub struct Room {
    /// The room's name, as in its URL (`lobby`, `kitchen`, ...).
    pub name: String,
    state: Mutex<RoomState>,
    /// Set when joins or leaves wait to be announced: the housekeeping thread then flushes them.
    presence_pending: AtomicBool,
    /// Set when a relay left bytes in some member's backlog: the housekeeping thread then sends
    /// them ([`Room::flush_backlogs`]).
    backlogged: AtomicBool,
    /// When someone last spoke, came or went (milliseconds since the epoch): the registry puts
    /// rooms idle for long away, and lists only rooms active lately.
    active: AtomicU64,
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
    /// Their names as compared (`names::key`: NFKC, lower case): finding a free name is a lookup,
    /// not a scan of the room.
    names: HashSet<String>,
    /// How many of them speak each dialect: an event is only encoded in a dialect someone
    /// will read.
    html_members: usize,
    json_members: usize,
    history: History,
    presence: Pending,
    /// The host's standing orders.
    moderation: Moderation,
}

impl RoomState {
    /// The names of the first `count` members, in order of arrival (each an `Arc` clone).
    fn first_names(&self, count: usize) -> Vec<Arc<str>> {
        self.members.iter().take(count).map(|m| m.name()).collect()
    }
}

/// A chat message waiting in the inbox.
struct Said {
    /// Who posted it (its connection id), to tell them if it cannot be relayed.
    from: u64,
    name: String,
    text: String,
    /// Its author (`Member::who`), logged with it.
    by: String,
    /// Whether the host said it (never held back by mutes or slow mode).
    host: bool,
    /// Said with `/me`.
    action: bool,
    /// The file it shares, if it is one (`Room::post_file`).
    file: Option<SharedFile>,
}

impl Said {
    /// The message to number and log.
    fn draft(&self, mentions: Vec<String>) -> ChatMessage {
        ChatMessage {
            ts: now_ms(),
            name: self.name.clone(),
            text: self.text.clone(),
            mentions,
            by: self.by.clone(),
            action: self.action,
            file: self.file.clone(),
            ..ChatMessage::default()
        }
    }
}

/// Why a member may not join: the close code (4003 kicked, 4004 locked) and the reason.
#[derive(Debug)]
pub struct Refusal {
    /// The close code.
    pub code: u16,
    /// The reason, for the Close frame.
    pub reason: String,
}

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
    /// The first names of the roster (as many as the member's dialect shows), in order of arrival.
    pub roster: Vec<Arc<str>>,
    /// How many members there are in all.
    pub count: usize,
    /// The banner, if any.
    pub announce: String,
}

impl Room {
    pub(super) fn new(name: &str, mut history: History, fsync: FsyncPolicy, disk: Arc<DiskHealth>) -> Room {
        let mut moderation = Moderation::default();
        moderation.replay(&history.take_events(), now_ms());
        let state = RoomState {
            members: Vec::new(),
            names: HashSet::new(),
            html_members: 0,
            json_members: 0,
            history,
            presence: Pending::default(),
            moderation,
        };
        Room {
            name: name.to_string(),
            log: state.history.log().cloned(),
            state: Mutex::new(state),
            presence_pending: AtomicBool::new(false),
            backlogged: AtomicBool::new(false),
            active: AtomicU64::new(now_ms()),
            inbox: Mutex::new(Vec::new()),
            fsync,
            disk,
        }
    }

    /// The room's history log, unless the server runs `--memory` (or the log could not be made).
    pub fn log(&self) -> Option<&Arc<Log>> {
        self.log.as_ref()
    }

    /// Registers `member` under a unique version of `wanted`, tells the others, and returns the
    /// history and roster for the member to write itself. See the module docs for why this is
    /// gapless.
    ///
    /// Refused (before anyone hears of it) for a member kicked less than ten minutes ago, and for
    /// anyone but the host while the room is locked.
    pub fn join(&self, member: &Arc<Member>, wanted: &str, max_name: usize) -> Result<Welcome, Refusal> {
        let mut state = lock::take(&self.state);
        let now = now_ms();
        if let Some(until) = state.moderation.kicked_until(&member.who.author, now) {
            let minutes = (until - now).div_ceil(60_000);
            let reason = format!("You were removed from #{} by the host; try again in {minutes} minute(s).", self.name);
            return Err(Refusal { code: KICKED, reason });
        }
        if state.moderation.locked && !member.who.host {
            let reason = format!("#{} is locked: the host is not letting anyone in right now.", self.name);
            return Err(Refusal { code: LOCKED, reason });
        }
        self.active.store(now_ms(), Ordering::Relaxed);
        let name = names::unique(wanted, max_name, |candidate| state.names.contains(&names::key(candidate)));
        member.set_name(&name);
        state.names.insert(names::key(&name));
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
        // Only the names the newcomer's dialect shows (measured: copying a thousand for a page
        // that shows a hundred left 0.2 KiB more per member resident, in the allocator's arenas).
        let roster = state.first_names(member.dialect.roster_names());
        Ok(Welcome {
            taken: (name != wanted).then(|| wanted.to_string()),
            name,
            history,
            more,
            roster,
            count: state.members.len(),
            announce: state.moderation.announce.clone(),
        })
    }

    /// Removes the member, if it is still here, and tells the others.
    pub fn leave(&self, member: &Member) {
        let mut state = lock::take(&self.state);
        let Some(i) = state.members.iter().position(|m| m.id == member.id) else { return };
        // `remove`, not `swap_remove`: the roster stays in order of arrival.
        let gone = state.members.remove(i);
        forget(&mut state, &gone);
        self.active.store(now_ms(), Ordering::Relaxed);
        self.maybe_flush_presence(&mut state);
    }

    /// Puts a chat message from `from` in the room's inbox, to go out with the next relay
    /// ([`Room::relay_posted`]). Cheap: it takes only the inbox lock, never the room lock.
    pub fn post(&self, from: &Member, text: &str, action: bool) {
        let said = Said {
            from: from.id,
            name: from.name().to_string(),
            text: text.to_string(),
            by: from.who.author.clone(),
            host: from.who.host,
            action,
            file: None,
        };
        lock::take(&self.inbox).push(said);
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
        let mut state = lock::take(&self.state);
        fault_injection::maybe_panic(&self.inbox);
        let batch = std::mem::take(&mut *lock::take(&self.inbox));
        if batch.is_empty() {
            return; // relayed by whoever held the lock before us
        }
        // Announce pending joins first, so that nobody's first words arrive before their arrival.
        if !state.presence.is_empty() {
            self.flush_presence_locked(&mut state);
        }
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        let mut refused = Vec::new();
        let mut held_back = Vec::new();
        for said in &batch {
            if let Some(why) = state.moderation.hold_back(&said.by, said.host, now_ms()) {
                held_back.push((said.from, why));
                continue;
            }
            // The names only for a text that could mention one (each name is behind its member's
            // lock: taking them all for every message would cost the relay a lock per member).
            let here = if said.text.contains('@') { state.first_names(usize::MAX) } else { Vec::new() };
            let mentions = mentions::find(&said.text, here.iter().map(|name| &**name));
            let (message, written) = match state.history.append(said.draft(mentions), self.fsync) {
                Ok(appended) => appended,
                Err(e) => {
                    // No number could be reserved for it: relaying it could reuse one after a
                    // restart, so it is not relayed, and its sender is told.
                    metrics::HISTORY_WRITE_ERRORS.inc();
                    if let Some(log) = &self.log {
                        self.disk.set(
                            log.path(),
                            format!("cannot reserve message numbers for {}: {e}", log.path().display()),
                        );
                    }
                    refused.push(said.from);
                    continue;
                }
            };
            if let Some(log) = &self.log {
                if written.is_err() {
                    metrics::HISTORY_WRITE_ERRORS.inc();
                }
                self.disk.report(&written, log.path());
            }
            metrics::MESSAGES_RELAYED.inc();
            outgoing.push(&self.name, &ServerEvent::Message(&message));
        }
        let relayed = batch.len() - refused.len() - held_back.len();
        if relayed > 0 {
            self.active.store(now_ms(), Ordering::Relaxed);
            let delivered = self.relay(&mut state, |member| outgoing.for_dialect(member.dialect));
            metrics::RELAYS.inc();
            metrics::DELIVERIES.add(delivered * relayed as u64);
        }
        if !refused.is_empty() {
            let text = "Not sent: the server cannot save messages right now (is its disk full?). Try again later.";
            self.tell_refused(&mut state, &refused, text);
        }
        for (sender, why) in held_back {
            self.tell_refused(&mut state, &[sender], &why);
        }
    }

    /// Tells the senders of messages that could not be relayed why.
    fn tell_refused(&self, state: &mut RoomState, senders: &[u64], text: &str) {
        let error = ServerEvent::Error(text);
        let (html, json) = (Dialect::Html.frames(&self.name, &error), Dialect::Json.frames(&self.name, &error));
        self.relay(state, |member| {
            senders.contains(&member.id).then(|| match member.dialect {
                Dialect::Html => html.as_bytes(),
                Dialect::Json => json.as_bytes(),
            })
        });
    }

    /// Up to `limit` messages before `before`, oldest first, and whether there are older ones:
    /// from the log when there is one (any depth), else from memory.
    pub fn page_before(&self, before: u64, limit: usize) -> io::Result<(Vec<ChatMessage>, bool)> {
        match &self.log {
            Some(log) => log.page_before(before, limit),
            None => Ok(lock::take(&self.state).history.page_in_memory(before, limit)),
        }
    }

    /// Gives back the message numbers reserved and not used (see `chat::history::reserve`), so
    /// that the next start continues right after the last one: before the server stops.
    pub fn release_numbers(&self) {
        if let Err(e) = lock::take(&self.state).history.release() {
            crate::log::warn(format_args!("#{}: cannot give back reserved message numbers: {e}", self.name));
        }
    }

    /// When someone last spoke, came or went, in milliseconds since the epoch.
    pub fn last_active(&self) -> u64 {
        self.active.load(Ordering::Relaxed)
    }

    /// How many members are here now.
    pub fn member_count(&self) -> usize {
        lock::take(&self.state).members.len()
    }

    /// Whether the room has neither members nor messages (so the registry may forget it).
    pub(super) fn is_unused(&self) -> bool {
        let state = lock::take(&self.state);
        state.members.is_empty() && state.history.is_empty()
    }

    /// Name, people here, and how many messages it has had.
    pub fn summary(&self) -> RoomSummary {
        let state = lock::take(&self.state);
        RoomSummary { name: self.name.clone(), members: state.members.len(), messages: state.history.next_seq() - 1 }
    }
}

/// Books a member out of the room's state (it is already out of `members`).
fn forget(state: &mut RoomState, gone: &Member) {
    match gone.dialect {
        Dialect::Html => state.html_members -= 1,
        Dialect::Json => state.json_members -= 1,
    }
    let name = gone.name();
    state.names.remove(&names::key(&name));
    state.presence.push(gone.id, &name, false);
}
