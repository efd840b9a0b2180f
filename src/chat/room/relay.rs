//! Writing to every member of a room, under the room lock, without ever waiting for one
//! ([`Member::deliver`] writes what the socket takes now and keeps the rest in order), and taking
//! out the members that stopped reading.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{forget, Room, RoomState};
use crate::chat::member::{Delivered, Member, Undeliverable};
use crate::lock;
use crate::metrics;
use crate::protocol::Outgoing;

impl Room {
    /// Sends `outgoing` (encoded once per dialect) to every member: news that is not the room's
    /// own, such as the list of rooms ([`crate::chat::directory`]).
    pub fn tell_everyone(&self, outgoing: &Outgoing) {
        let mut state = lock::take(&self.state);
        self.relay(&mut state, |member| outgoing.for_dialect(member.dialect));
    }

    /// Writes to every member the bytes that `pick` chooses for it (none: skip it), under the room
    /// lock. Members that stopped reading are dropped (their sockets already shut down by
    /// [`Member::deliver`]); their leaving is announced with the next batch.
    /// Returns to how many members it was written (the callers count frames for the metrics).
    pub(super) fn relay<'f>(&self, state: &mut RoomState, pick: impl Fn(&Member) -> Option<&'f [u8]>) -> u64 {
        let mut dropped = Vec::new();
        let (mut deliveries, mut bytes, mut kept) = (0u64, 0u64, false);
        for (i, member) in state.members.iter().enumerate() {
            // While this member's `write` runs (microseconds in the kernel), have the CPU fetch
            // the next member into its cache: in a big room it is long gone from there by the
            // time its turn comes, and the miss was measured at 7% of a delivery (1,000 members).
            if let Some(next) = state.members.get(i + 1) {
                next.prefetch();
            }
            let Some(frames) = pick(member) else { continue };
            match member.deliver(frames) {
                Ok(delivered) => {
                    kept |= delivered == Delivered::Kept;
                    deliveries += 1;
                    bytes += frames.len() as u64;
                }
                Err(why) => dropped.push((member.clone(), why)),
            }
        }
        // Once per relay, not per delivery: the counters stay off the per-member path.
        metrics::BYTES_SENT.add(bytes);
        if kept {
            self.backlogged.store(true, Ordering::Release);
        }
        self.drop_members(state, dropped);
        deliveries
    }

    /// Sends what members' backlogs hold, as far as their kernel buffers take it now: called by
    /// the housekeeping thread a few times a second, so that a backlog does not wait for the
    /// room's next message. Members that broke meanwhile are dropped.
    pub fn flush_backlogs(&self) {
        if !self.backlogged.load(Ordering::Acquire) {
            return;
        }
        let mut state = lock::take(&self.state);
        let (mut still, mut dropped) = (false, Vec::new());
        for member in &state.members {
            match member.flush_backlog() {
                Ok(kept) => still |= kept,
                Err(why) => dropped.push((member.clone(), why)),
            }
        }
        self.backlogged.store(still, Ordering::Release);
        self.drop_members(&mut state, dropped);
    }

    /// Takes members that could not be written to out of the room (their sockets are already
    /// shut down); their leaving is announced with the next batch.
    pub(super) fn drop_members(&self, state: &mut RoomState, dropped: Vec<(Arc<Member>, Undeliverable)>) {
        if dropped.is_empty() {
            return;
        }
        for (member, why) in &dropped {
            if *why == Undeliverable::Slow {
                metrics::DROPPED_SLOW.inc();
                crate::log::conn(member.id, member.peer, "dropped: stopped reading (its send buffer is full)");
            }
        }
        state.members.retain(|member| !dropped.iter().any(|(gone, _)| gone.id == member.id));
        for (gone, _) in &dropped {
            forget(state, gone);
        }
        self.presence_pending.store(true, Ordering::Release);
    }
}
