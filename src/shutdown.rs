//! Stopping on SIGINT or SIGTERM: close every WebSocket with 1012 (Service Restart), then exit 0.
//!
//! Why 1012: the htmx ws extension reconnects by itself only after the close codes 1006, 1011,
//! 1012 and 1013. Saying "service restart" makes every open page reconnect on its own when the
//! server comes back, which is exactly what a restart for an upgrade wants.
//!
//! A dedicated thread waits for the signals (`signal-hook`'s iterator uses the self-pipe trick,
//! so the real signal handler only writes a byte; all work happens on an ordinary thread).

use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::protocol::frame::EncodedFrame;
use crate::shared::Shared;

/// The whole shutdown must fit in this, whatever the members do.
const BUDGET: Duration = Duration::from_millis(1500);

/// Starts the thread that turns SIGINT/SIGTERM into a clean shutdown and `exit(0)`.
pub fn on_signals(shared: Arc<Shared>) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    thread::Builder::new().name("signals".into()).stack_size(64 * 1024).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGINT { "SIGINT" } else { "SIGTERM" };
            crate::log::info(format_args!("{name}: closing every WebSocket with 1012 and exiting"));
            close_everyone(&shared);
            std::process::exit(0);
        }
    })?;
    Ok(())
}

/// Writes a 1012 Close frame to every member, then waits (within the budget) for their threads to
/// finish, so that no socket is closed under unread data (which would reset it and could discard
/// the Close frame before the peer reads it).
pub fn close_everyone(shared: &Shared) {
    let deadline = Instant::now() + BUDGET;
    let frame = EncodedFrame::close(CloseCode::Restart, "server restarting");
    // First every member that keeps up, at once; then, within the budget, those still behind.
    let behind: Vec<_> =
        shared.members_snapshot().into_iter().filter(|member| !member.close_with(frame.as_bytes(), None)).collect();
    for member in behind {
        member.close_with(frame.as_bytes(), Some(deadline));
    }
    while shared.member_count() > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    // Every relayed message is already in the kernel's hands; make it durable too, and give the
    // message numbers reserved for the future back, so that the restart continues where we were.
    shared.rooms.sync_logs();
    shared.rooms.release_numbers();
}
