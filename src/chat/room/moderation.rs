//! What the host has decided for a room: who may not come back, who may not speak, whether the
//! room is locked, slow mode, the banner. Guarded by the room lock, like the rest of the room's
//! state; every decision is also an event line in the room's log
//! ([`crate::chat::history::LogEvent`]), replayed here when the room is opened again, so that a
//! restart undoes none of them.
//!
//! Everything is by author (the hash of a member id, `crate::identity`), never by name or by
//! address: a name can be taken by anyone, and an address is shared by a whole classroom behind
//! one NAT. Someone who clears their cookies comes back as someone new: `/lock` is the answer.

use std::collections::HashMap;

use crate::chat::history::LogEvent;

/// How long a kicked member stays out.
pub const KICKED_FOR_MS: u64 = 10 * 60 * 1000;

/// The close code for a member removed by the host, or kept out after a kick (a private code:
/// RFC 6455 §7.4.2 leaves 4000–4999 to applications).
pub const KICKED: u16 = 4003;

/// The close code for a newcomer to a locked room.
pub const LOCKED: u16 = 4004;

/// The host's standing orders for one room.
#[derive(Debug, Default)]
pub struct Moderation {
    /// Authors kept out, until when (milliseconds since the epoch).
    kicked: HashMap<String, u64>,
    /// Authors who may not speak, until when.
    muted: HashMap<String, u64>,
    /// New joiners who are not the host are turned away.
    pub locked: bool,
    /// Slow mode: one message per member per this many milliseconds (0: off).
    slow_ms: u64,
    /// When each author last spoke, in slow mode (emptied when it is turned off).
    last_said: HashMap<String, u64>,
    /// The banner; empty: none.
    pub announce: String,
}

impl Moderation {
    /// Replays the host's events from the log (edits and deletes are not for us).
    pub fn replay(&mut self, events: &[LogEvent], now: u64) {
        for event in events {
            self.apply(event);
        }
        self.kicked.retain(|_, until| *until > now);
        self.muted.retain(|_, until| *until > now);
    }

    /// Takes one decision in.
    pub fn apply(&mut self, event: &LogEvent) {
        match event {
            LogEvent::Kick { who, until } => {
                self.kicked.insert(who.clone(), *until);
            }
            LogEvent::Mute { who, until } => {
                self.muted.insert(who.clone(), *until);
            }
            LogEvent::Unmute { who } => {
                self.muted.remove(who);
            }
            LogEvent::Lock { locked } => self.locked = *locked,
            LogEvent::Slow { seconds } => {
                self.slow_ms = seconds.saturating_mul(1000);
                if self.slow_ms == 0 {
                    self.last_said = HashMap::new();
                }
            }
            LogEvent::Announce { text } => self.announce.clone_from(text),
            LogEvent::Edit { .. } | LogEvent::Delete { .. } => {}
        }
    }

    /// Until when `author` is kept out, if they are.
    pub fn kicked_until(&self, author: &str, now: u64) -> Option<u64> {
        self.kicked.get(author).copied().filter(|&until| until > now)
    }

    /// Until when `author` may not speak, if so.
    pub fn muted_until(&self, author: &str, now: u64) -> Option<u64> {
        self.muted.get(author).copied().filter(|&until| until > now)
    }

    /// Why a message from `author` may not go out now, if it may not: muted, or too soon in slow
    /// mode. Otherwise it is counted as said (slow mode). The host is never held back. Nothing to
    /// look up while no one is muted and slow mode is off: ordinary chat pays two comparisons.
    pub fn hold_back(&mut self, author: &str, host: bool, now: u64) -> Option<String> {
        if host || (self.muted.is_empty() && self.slow_ms == 0) {
            return None;
        }
        if let Some(until) = self.muted_until(author, now) {
            let minutes = (until - now).div_ceil(60_000);
            return Some(format!("Not sent: the host has muted you for {minutes} more minute(s)."));
        }
        if self.slow_ms > 0 {
            if let Some(&last) = self.last_said.get(author) {
                let wait = (last + self.slow_ms).saturating_sub(now);
                if wait > 0 {
                    let seconds = wait.div_ceil(1000);
                    return Some(format!("Not sent: slow mode is on; you may speak again in {seconds} s."));
                }
            }
            self.last_said.insert(author.to_string(), now);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutes_and_slow_mode_hold_back_all_but_the_host() {
        let mut moderation = Moderation::default();
        assert_eq!(moderation.hold_back("a", false, 0), None);
        moderation.apply(&LogEvent::Mute { who: "a".into(), until: 60_000 });
        assert!(moderation.hold_back("a", false, 0).unwrap().contains("muted you for 1 more minute"));
        assert_eq!(moderation.hold_back("a", true, 0), None, "the host is never muted");
        assert_eq!(moderation.hold_back("a", false, 60_000), None, "a mute ends by itself");
        moderation.apply(&LogEvent::Slow { seconds: 10 });
        assert_eq!(moderation.hold_back("b", false, 1_000), None);
        assert!(moderation.hold_back("b", false, 2_000).unwrap().contains("again in 9 s"));
        assert_eq!(moderation.hold_back("b", false, 11_000), None);
        moderation.apply(&LogEvent::Slow { seconds: 0 });
        assert_eq!(moderation.hold_back("b", false, 11_001), None);
    }

    #[test]
    fn a_replay_keeps_what_still_holds() {
        let mut moderation = Moderation::default();
        let events = [
            LogEvent::Kick { who: "old".into(), until: 5 },
            LogEvent::Kick { who: "new".into(), until: 50 },
            LogEvent::Lock { locked: true },
            LogEvent::Announce { text: "hi".into() },
            LogEvent::Lock { locked: false },
        ];
        moderation.replay(&events, 10);
        assert_eq!(moderation.kicked_until("old", 10), None);
        assert_eq!(moderation.kicked_until("new", 10), Some(50));
        assert!(!moderation.locked);
        assert_eq!(moderation.announce, "hi");
    }
}
