//! The room registry ([`Rooms`]) and a [`Room`]: who is in it, and relaying a message to all of them.
//!
//! The relay is the heart of the server, and it is deliberately plain: the sender's own thread
//! takes the room lock, and writes the one encoded frame to every member's socket in turn
//! ([`Member::deliver`]). No queue and no writer threads, so no wake-ups and no context switches
//! per delivery; the room lock gives every member the same order of messages.
//!
//! Lock order, to rule out deadlock: the registry lock, then a room lock, then a member's write
//! lock. A thread never takes a room lock while holding a member's write lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::frame::EncodedFrame;
use crate::member::{Member, Undeliverable};

/// Every room, by name. Rooms are made on first use.
#[derive(Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    /// The room called `name`, made if it does not exist yet. The caller has validated the name.
    pub fn get_or_create(&self, name: &str) -> Arc<Room> {
        let mut rooms = lock(&self.rooms);
        rooms.entry(name.to_string()).or_insert_with(|| Arc::new(Room::new(name))).clone()
    }
}

/// One chat room.
pub struct Room {
    pub name: String,
    state: Mutex<RoomState>,
}

/// What the room lock guards.
struct RoomState {
    /// Everyone who receives this room's relays, joining or live.
    members: Vec<Arc<Member>>,
}

impl Room {
    fn new(name: &str) -> Room {
        Room { name: name.to_string(), state: Mutex::new(RoomState { members: Vec::new() }) }
    }

    /// Registers `member` to receive relays. It starts as *joining* (see [`Member::go_live`]):
    /// relays that arrive before its own thread calls `go_live` are kept for it, so none is lost.
    pub fn join(&self, member: Arc<Member>) {
        lock(&self.state).members.push(member);
    }

    /// Removes the member with this id, if it is still here (a relay may have dropped it already).
    pub fn leave(&self, id: u64) {
        let mut state = lock(&self.state);
        if let Some(i) = state.members.iter().position(|m| m.id == id) {
            state.members.swap_remove(i);
        }
    }

    /// How many members are in the room now.
    pub fn len(&self) -> usize {
        lock(&self.state).members.len()
    }

    /// Whether the room has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `frame` to every member, under the room lock, so that all members see relays in the
    /// same order. Members that stopped reading are dropped from the room (their sockets are
    /// already shut down by [`Member::deliver`]); returns how many were dropped as slow.
    pub fn relay(&self, frame: &EncodedFrame) -> usize {
        let bytes = frame.as_bytes();
        let mut slow = 0;
        let mut state = lock(&self.state);
        state.members.retain(|member| match member.deliver(bytes) {
            Ok(()) => true,
            Err(Undeliverable::Closed) => false,
            Err(Undeliverable::Slow) => {
                slow += 1;
                eprintln!(
                    "conn-{} {}: dropped: stopped reading (send buffer full past the relay timeout)",
                    member.id, member.peer
                );
                false
            }
        });
        slow
    }
}

/// Takes a lock even if another thread panicked while holding it. Room and registry state stay
/// consistent across a panic (every update is a single push, remove or retain), so one
/// connection's panic must not take every other member down with a poisoned lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
