//! The scenarios: the load shapes the bench runs (who sends, who reads, at what pace, for how
//! long). One run of one of them is in [`mod@crate::run`].

use std::time::Duration;

use crate::client::{Bursty, Layout, Pace};

/// Messages each saturating sender may have in flight (sent, own echo not yet back). With 4
/// senders, up to 32 messages wait at the server, so it never runs dry and, like a real overloaded
/// room, can batch what it has queued if its design allows. A receiver is then at most ~32 frames
/// (~6 KB) behind, far from filling a 64 KiB socket buffer. SAT latency is queueing, by Little's
/// law about 32 × clients / throughput, and says little beyond that.
pub const SAT_WINDOW: usize = 8;
/// How long to wait for deliveries still in flight after the last send. What has not arrived by
/// then counts as lost.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);
/// The smoke check waits longer: a CI machine may stall for seconds, and the check must not flake.
const SMOKE_DRAIN_LIMIT: Duration = Duration::from_secs(20);
/// Pause after the server prints its address before reading its "fresh" RSS, and by default after
/// everyone has the last probe before reading RSS and `/proc/meminfo` again (threads that just
/// relayed go back to waiting, and the kernel finishes freeing what the connect phase left behind).
pub const SETTLE: Duration = Duration::from_millis(200);
/// S3's pause before its memory readings: its connections are idle, and a server may do something
/// with idle connections after a quiet second (chatroom gives an idle member's stack pages back
/// then), so S3 reads memory once they have been idle for longer than that.
const IDLE_SETTLE: Duration = Duration::from_millis(1500);

/// The stall scenarios' chat texts: about 1 KB each, as in the measurement.
pub const STALL_TEXT_BYTES: usize = 1024;

/// One load shape.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    /// The measured receivers (the senders among them, unless a stall scenario puts them apart).
    pub clients: usize,
    pub senders: usize,
    pub pace: Pace,
    pub duration: Duration,
    pub about: &'static str,
    /// See [`DRAIN_LIMIT`].
    pub drain: Duration,
    /// Bytes of each measured chat text (the token padded, see `token::measured_padded`); 0 for
    /// the bare token (~40 bytes).
    pub text_bytes: usize,
    /// The stall scenarios' extra members; `None` elsewhere.
    pub stall: Option<Stall>,
    /// The pause between everyone having the last probe and the memory readings ([`SETTLE`], or
    /// [`IDLE_SETTLE`] where memory per idle connection is the point).
    pub settle: Duration,
    /// Whether a 25 MiB upload and download keep running in another room during the send phase
    /// (`S1FILES`: the `files --side-load` helper, against chatroom only).
    pub transfers: bool,
}

/// What a stall scenario adds to a room: senders apart from the measured receivers, a member that
/// reads in bursts, and members that never read.
#[derive(Clone, Copy, Debug)]
pub struct Stall {
    pub bursty: Bursty,
    /// Members that join with a 4 KiB receive buffer and never read again.
    pub stuck: usize,
}

impl Scenario {
    /// `"10 × 100 msg/s"` or `"4 × window 8"`, and the text size when it is not the bare token.
    pub fn load(&self) -> String {
        let mut load = match self.pace {
            Pace::Rate(rate) => format!("{} × {rate} msg/s", self.senders),
            Pace::Window(w) => format!("{} × as fast as a window of {w} allows", self.senders),
        };
        if self.text_bytes > 0 {
            load.push_str(&format!(", {} B texts", self.text_bytes));
        }
        load
    }

    /// Who connects: see [`Layout`].
    pub fn layout(&self) -> Layout {
        Layout {
            receivers: self.clients,
            senders: self.senders,
            senders_apart: self.stall.is_some(),
            bursty: self.stall.map(|s| s.bursty),
        }
    }

    /// The clients column: `"2,000"`, or `"20 + 1 sender + 1 bursty + 50 stuck"`.
    pub fn members(&self, thousands: impl Fn(f64) -> String) -> String {
        let mut members = thousands(self.clients as f64);
        if let Some(stall) = self.stall {
            members.push_str(&format!(" + {} sender + 1 bursty", self.senders));
            if stall.stuck > 0 {
                members.push_str(&format!(" + {} stuck", stall.stuck));
            }
        }
        members
    }
}

/// The default set, in the order they run. Durations are budgeted so that the whole default run
/// (7 scenarios × 2 servers × 3 runs, plus connecting and draining) stays near 5 minutes on a
/// 2-core machine: the five load shapes take about 2 ¾ minutes, the stall pair about 2.
pub fn all() -> Vec<Scenario> {
    let secs = Duration::from_secs;
    let mut all = vec![
        Scenario {
            name: "S1",
            clients: 100,
            senders: 10,
            pace: Pace::Rate(100.0),
            duration: secs(6),
            about: "a busy small room: CPU per delivery and tail latency",
            drain: DRAIN_LIMIT,
            text_bytes: 0,
            stall: None,
            settle: SETTLE,
            transfers: false,
        },
        Scenario {
            name: "S2",
            clients: 1_000,
            senders: 1,
            pace: Pace::Rate(50.0),
            duration: secs(4),
            about: "a large room, moderate traffic: fan-out cost",
            drain: DRAIN_LIMIT,
            text_bytes: 0,
            stall: None,
            settle: SETTLE,
            transfers: false,
        },
        Scenario {
            name: "S3",
            clients: 2_000,
            senders: 1,
            pace: Pace::Rate(10.0),
            duration: secs(3),
            about: "mostly idle connections: memory per connection",
            drain: DRAIN_LIMIT,
            text_bytes: 0,
            stall: None,
            settle: IDLE_SETTLE,
            transfers: false,
        },
        Scenario {
            name: "SAT",
            clients: 1_000,
            senders: 4,
            pace: Pace::Window(SAT_WINDOW),
            duration: secs(5),
            about: "saturation: deliveries per second",
            drain: DRAIN_LIMIT,
            text_bytes: 0,
            stall: None,
            settle: SETTLE,
            transfers: false,
        },
        Scenario {
            name: "C10K",
            clients: 10_000,
            senders: 1,
            pace: Pace::Rate(5.0),
            duration: secs(4),
            about: "ten thousand connections carried without loss",
            drain: DRAIN_LIMIT,
            text_bytes: 0,
            stall: None,
            settle: SETTLE,
            transfers: false,
        },
    ];
    all.push(stall(0));
    all.push(stall(50));
    all
}

/// "A room never waits for a stuck member": 20 measured members and a sender at 50 messages of
/// 1 KB per second, with a member that reads in bursts (100 ms reading, 200 ms not), and with
/// `stuck` members that never read. `STALL0` (none stuck) and `STALL50` (50) side by side give
/// the figure the issue asks for: STALL50's p99 within 1.5× of STALL0's, and nobody healthy
/// dropped. `--scenarios STALL0,STALL50` runs just these two.
pub fn stall(stuck: usize) -> Scenario {
    Scenario {
        name: if stuck == 0 { "STALL0" } else { "STALL50" },
        clients: 20,
        senders: 1,
        pace: Pace::Rate(50.0),
        duration: Duration::from_secs(10),
        about: if stuck == 0 {
            "a room with a bursty reader: the reference for STALL50"
        } else {
            "the same room with 50 members that never read: the room must not wait for them"
        },
        drain: DRAIN_LIMIT,
        text_bytes: STALL_TEXT_BYTES,
        stall: Some(Stall {
            bursty: Bursty { read: Duration::from_millis(100), pause: Duration::from_millis(200) },
            stuck,
        }),
        settle: SETTLE,
        transfers: false,
    }
}

/// S1 while a 25 MiB upload and a 25 MiB download run one after the other, for ever, in another
/// room of the same server (issue 15): a transfer must never hold a room lock, so S1's p99 should
/// stay within 1.2× of S1's alone. Chatroom only (the baseline shares no files); not in the
/// default set: `--scenarios S1,S1FILES --servers chatroom`.
pub fn s1_with_transfers() -> Scenario {
    let s1 = all().into_iter().next().expect("S1 is first");
    Scenario {
        name: "S1FILES",
        about: "S1 while files go up and down in another room: transfers hold no room lock",
        transfers: true,
        ..s1
    }
}

/// The CI check: small and short, judged only on loss and duplicates.
pub fn smoke() -> Scenario {
    Scenario {
        name: "SMOKE",
        clients: 300,
        senders: 2,
        pace: Pace::Rate(20.0),
        duration: Duration::from_secs(3),
        about: "CI smoke: zero lost, zero duplicated",
        drain: SMOKE_DRAIN_LIMIT,
        text_bytes: 0,
        stall: None,
        settle: SETTLE,
        transfers: false,
    }
}

/// `--quick`: every scenario at most 3 seconds.
pub fn quick(mut scenario: Scenario) -> Scenario {
    scenario.duration = scenario.duration.min(Duration::from_secs(3));
    scenario
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stall_pair_comes_last_in_the_default_set() {
        let names: Vec<&str> = all().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["S1", "S2", "S3", "SAT", "C10K", "STALL0", "STALL50"]);
        let stall50 = stall(50);
        assert_eq!(stall50.stall.map(|s| s.stuck), Some(50));
        assert_eq!(stall(0).stall.map(|s| s.stuck), Some(0));
        let layout = stall50.layout();
        assert!(layout.senders_apart && layout.bursty.is_some());
        assert_eq!(layout.tracked(), 22);
        assert_eq!(stall50.members(|n| format!("{n}")), "20 + 1 sender + 1 bursty + 50 stuck");
        assert_eq!(stall50.load(), "1 × 50 msg/s, 1024 B texts");
        assert_eq!(all()[0].members(|n| format!("{n}")), "100");
        assert!(!all()[0].layout().senders_apart);
    }
}
