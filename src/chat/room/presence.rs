//! Joins and leaves, announced in batches.
//!
//! Every announcement goes to every member, so a crowd of N arriving at once (a class opening
//! the link, or every page reconnecting after a restart) would cost N² frames, each carrying the
//! roster. Batched, a burst costs at most two announcements a second per room, and a lone join
//! in a quiet room is still announced at once.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Room, RoomState};
use crate::lock;
use crate::metrics;
use crate::protocol::{Change, Outgoing, Presence, Roster, ServerEvent, ROSTER_NAMES};
use crate::time::now_ms;

/// Joins and leaves are announced at most this often per room; more in between are batched.
pub const PRESENCE_INTERVAL: Duration = Duration::from_millis(500);

/// Joins and leaves not yet announced. See [`Room::flush_presence`] for why they are batched.
#[derive(Default)]
pub(super) struct Pending {
    changes: Vec<Change>,
    /// Who made each change (its member id), for telling newcomers only what came after them.
    members: Vec<u64>,
    last_flush: Option<Instant>,
}

impl Pending {
    /// Whether nothing waits to be announced.
    pub(super) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(super) fn push(&mut self, member: u64, name: &str, joined: bool) {
        self.changes.push(Change { name: name.to_string(), joined, ts: now_ms() });
        self.members.push(member);
    }
}

impl Room {
    /// Announces pending joins and leaves if the last announcement was long enough ago; otherwise
    /// leaves them for the housekeeping thread ([`Room::flush_presence`]).
    pub(super) fn maybe_flush_presence(&self, state: &mut RoomState) {
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
        let mut state = lock::take(&self.state);
        self.maybe_flush_presence(&mut state);
    }

    /// Sends the pending changes and the new roster. Members who arrived within this batch already
    /// got a roster in their welcome, so they are only told what happened after their arrival: a
    /// small batch's later changes, or just the new roster after a big (summarised) batch, or
    /// nothing if their arrival was the last change.
    pub(super) fn flush_presence_locked(&self, state: &mut RoomState) {
        self.presence_pending.store(false, Ordering::Release);
        state.presence.last_flush = Some(Instant::now());
        let changes = std::mem::take(&mut state.presence.changes);
        let who = std::mem::take(&mut state.presence.members);
        if changes.is_empty() {
            return;
        }
        let names = state.first_names(ROSTER_NAMES);
        let names: Vec<&str> = names.iter().map(|name| &**name).collect();
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
}
