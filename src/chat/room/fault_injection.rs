//! A deliberate panic, for the test that proves one connection's panic harms no one else. It
//! exists only in debug builds (what `cargo test` runs), and only when the environment variable
//! `CHATROOM_FAULT_PANIC` names the message text that triggers it. It fires while the room lock is
//! held: the worst place, on purpose.

use super::Said;
use std::sync::Mutex;

/// Takes the triggering message back out of the inbox first, so that it is not relayed, and
/// leaves everyone else's posted messages there for the next relay.
#[cfg(debug_assertions)]
pub fn maybe_panic(inbox: &Mutex<Vec<Said>>) {
    use std::sync::OnceLock;
    static TRIGGER: OnceLock<Option<String>> = OnceLock::new();
    let Some(trigger) = TRIGGER.get_or_init(|| std::env::var("CHATROOM_FAULT_PANIC").ok()) else { return };
    let mut waiting = crate::lock::take(inbox);
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
