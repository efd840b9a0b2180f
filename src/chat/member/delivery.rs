//! The relay path of a [`Member`]: delivering frames under the room lock without ever waiting,
//! the ordered backlog of what the kernel could not take yet, and dropping a member that
//! stopped reading. (Why it works this way: the module docs of [`super`].)

use std::io;

use super::{send_some_now, Delivered, Member, Outbox, Phase, Undeliverable, MAX_PENDING};

impl Member {
    /// Relay path: delivers encoded frames, called under the room lock by whichever thread is
    /// relaying. Never waits: what the kernel cannot take now is kept in the backlog, and a
    /// member whose backlog would overflow is dropped.
    pub fn deliver(&self, frames: &[u8]) -> Result<Delivered, Undeliverable> {
        let mut out = self.lock();
        match out.phase {
            Phase::Live if !out.own_write => self.send_or_keep(&mut out, frames),
            Phase::Live | Phase::Joining => {
                if out.pending.len() + frames.len() > MAX_PENDING {
                    self.shut(&mut out);
                    return Err(Undeliverable::Slow);
                }
                out.pending.extend_from_slice(frames);
                Ok(Delivered::Kept)
            }
            Phase::Closing | Phase::Closed => Err(Undeliverable::Closed),
        }
    }

    /// For a live member: the backlog first, then `frames`, as far as the kernel takes them now;
    /// the rest is kept (all of `frames` if the backlog is not empty yet, so that the order holds).
    pub(super) fn send_or_keep(&self, out: &mut Outbox, frames: &[u8]) -> Result<Delivered, Undeliverable> {
        if !out.pending.is_empty() {
            self.send_backlog(out)?;
        }
        if !out.pending.is_empty() {
            return self.keep(out, frames);
        }
        // The common case: one `write` that takes the whole batch at once.
        match send_some_now(&self.stream, frames) {
            Ok(n) if n == frames.len() => Ok(Delivered::Sent),
            Ok(n) => self.keep(out, &frames[n..]),
            Err(e) => Err(self.undeliverable(out, &e)),
        }
    }

    /// Sends as much of the backlog as the kernel takes now.
    fn send_backlog(&self, out: &mut Outbox) -> Result<(), Undeliverable> {
        match send_some_now(&self.stream, &out.pending) {
            Ok(n) => {
                out.pending.drain(..n);
                Ok(())
            }
            Err(e) => Err(self.undeliverable(out, &e)),
        }
    }

    /// Adds `rest` to the backlog, or drops the member if it would hold more than it may.
    fn keep(&self, out: &mut Outbox, rest: &[u8]) -> Result<Delivered, Undeliverable> {
        if out.pending.len() + rest.len() > self.max_backlog {
            self.shut(out);
            return Err(Undeliverable::Slow);
        }
        out.pending.extend_from_slice(rest);
        Ok(Delivered::Kept)
    }

    /// Sends what the backlog holds, as far as the kernel takes it now (the housekeeping thread
    /// calls this a few times a second for members that have one). Returns whether some is
    /// still kept; `Err` if the member had to be dropped.
    pub fn flush_backlog(&self) -> Result<bool, Undeliverable> {
        let mut out = self.lock();
        if !matches!(out.phase, Phase::Live) || out.own_write || out.pending.is_empty() {
            return Ok(false);
        }
        self.send_backlog(&mut out)?;
        Ok(!out.pending.is_empty())
    }

    /// Shuts the member down after a write failed (the connection broke).
    fn undeliverable(&self, out: &mut Outbox, _error: &io::Error) -> Undeliverable {
        self.shut(out);
        Undeliverable::Gone
    }
}
