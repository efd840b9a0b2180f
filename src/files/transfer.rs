//! How a big transfer shares the server's cores with chat.
//!
//! Moving a 25 MiB file costs tens of milliseconds of CPU: receiving, hashing and writing an
//! upload, or the kernel's work in `sendfile` for a download. A relay that wakes meanwhile on the
//! same core must wait as little as possible behind it (`bench/README.md`, S1FILES, has the
//! figures for each step below):
//!
//! - The connection's thread lowers itself to nice [`NICE`] for a transfer over [`BIG`]
//!   ([`give_way`]), so that on a busy core the scheduler gives relays most of it. The connection
//!   closes after the transfer, since an unprivileged thread cannot raise its priority again.
//! - A nice value shares a core out over time, but the scheduler may still let the nice thread
//!   finish its time slice, a millisecond or more, before a relay woken meanwhile runs. So an
//!   upload yields the core (`sched_yield`) after every [`STEP`] bytes ([`let_chat_run`]): a
//!   woken relay then waits for tens of microseconds of hashing at most.
//! - While chat is going on (a room relayed something in the last [`CHAT_WINDOW`]), a transfer
//!   pauses after each step for three times as long as the step worked ([`Pace`]): it then takes
//!   at most about a quarter of a core. An upload beside the busy room of S1 still moved about
//!   85 MB/s (more than Wi-Fi carries); when the server is quiet, transfers run at full speed.
//! - An upload that is to be durable is written out to the disk as it comes (see
//!   `incoming::WRITE_BEHIND`), not in one `fdatasync` at the end, which had every room's log
//!   append wait for the file system's journal.
//!
//! Not done: the idle scheduling class (`SCHED_IDLE`). It lets any other thread pre-empt the
//! transfer at once, but a transfer holds kernel locks while it writes (the file system's
//! journal, for one), and a thread of the idle class holding one makes everyone who waits for it
//! wait for an idle core: measured, one run in five had a p99 of 173 ms. It also halved the
//! download speed when the client shared the core.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

/// Transfers larger than this give way to chat; a thumbnail is not worth a connection.
pub const BIG: u64 = 1 << 20;

/// How much of a big upload is received, hashed and written between two [`let_chat_run`]s: a
/// few tens of microseconds of work.
pub const STEP: usize = 32 * 1024;

/// How much of a big download one `sendfile` call sends before the next step's pause: the
/// kernel does not pre-empt a thread inside a system call, and one call for a whole file kept
/// the core for milliseconds. Measured: with 1 MiB steps, S1's p99 beside transfers was 1.07 to
/// 1.12 times its value alone but downloads fell to 0.77 to 0.82 of nginx's speed (the pauses
/// after the relay of the upload's own message); with 4 MiB, 1.18 and 0.91 to 0.94.
pub const SEND_STEP: u64 = 4 << 20;

/// The CPU priority (nice value) of a connection's thread while it moves a big file, and until
/// the connection ends. With nice 10 the scheduler gives a relaying thread about ten times the
/// transfer's share of a busy core.
pub const NICE: i32 = 10;

/// Lowers this thread's priority for a big transfer (see [`NICE`]); a failure only costs the
/// rooms' latency, so it is logged and the transfer goes on.
pub fn give_way() {
    if let Err(e) = crate::sys::lower_thread_priority(NICE) {
        crate::log::warn(format_args!("cannot lower a transfer's CPU priority: {e}"));
    }
}

/// How long after a relay (any room's) a transfer still counts chat as going on.
pub const CHAT_WINDOW: Duration = Duration::from_millis(50);

/// The longest pause between two steps.
const MOST_PAUSE: Duration = Duration::from_millis(2);

/// The pace of one big transfer: each step is done through [`Pace::step`].
pub struct Pace {
    /// The relay count (`metrics::RELAYS`) when last looked at.
    relays: u64,
    /// Until when chat counts as going on.
    busy_until: Instant,
}

/// A transfer about to take its first step.
impl Default for Pace {
    fn default() -> Pace {
        Pace { relays: crate::metrics::RELAYS.get(), busy_until: Instant::now() }
    }
}

impl Pace {
    /// Does one step's `work` (hashing and writing a piece of an upload, or one `sendfile` call),
    /// then gives way to chat in proportion to the time the work took (below). A failed step ends
    /// the transfer, so no pause follows it.
    pub fn step<T>(&mut self, work: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let started = Instant::now();
        let done = work()?;
        self.step_done(started.elapsed());
        Ok(done)
    }

    /// After a step that kept the core for `took`: while chat is going on, a pause three times as
    /// long (at most [`MOST_PAUSE`]); otherwise just [`let_chat_run`]. Measured beside S1 (its p99
    /// with transfers ÷ alone, medians of 7 alternating runs): twice as long gave 1.21, three
    /// times 1.12.
    ///
    /// `took` is the step's work, not the time spent waiting for the network: an upload from a
    /// slow client must not be slowed further by pauses for time it did not use the core. (A
    /// download's `sendfile` may wait for a full socket buffer to drain; a pause then costs
    /// nothing, as the kernel goes on sending what it holds.)
    fn step_done(&mut self, took: Duration) {
        let now = Instant::now();
        let relays = crate::metrics::RELAYS.get();
        if relays != self.relays {
            (self.relays, self.busy_until) = (relays, now + CHAT_WINDOW);
        }
        if now < self.busy_until {
            thread::sleep((took * 3).min(MOST_PAUSE));
        } else {
            let_chat_run();
        }
    }
}

/// Between two steps of a big transfer: lets a thread that is ready to run (a relay just woken
/// by a message) have the core first (`sched_yield(2)`; with nothing waiting it returns at once).
fn let_chat_run() {
    thread::yield_now();
}
