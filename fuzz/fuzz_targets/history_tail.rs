//! Fuzzes opening a room's history log (`chatroom::chat::history::History::open`): the input is written
//! as the log file, as if a crash, a full disk or a hand edit had left it so, and then opened.
//!
//! Checks: opening never panics; afterwards the file is empty or ends with a newline (a torn or
//! corrupt last line was cut off); the file only shrank, and what is left is a prefix of what was
//! there; opening again changes nothing and gives the same next sequence number and messages; an
//! append after that lands whole and reads back as the last message.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use chatroom::chat::history::{FsyncPolicy, History};
use chatroom::protocol::ChatMessage;
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for every input.
fn log_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("chatroom-fuzz-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("room.jsonl")
    })
}

const KEEP: usize = 100;

fuzz_target!(|data: &[u8]| {
    let path = log_path();
    std::fs::write(path, data).expect("write the log");
    // Each input is a room of its own: no reserved numbers from the last one.
    let _ = std::fs::remove_file(path.with_extension("seq"));

    let Ok(history) = History::open(path, KEEP) else { return };
    let after = std::fs::read(path).expect("read the log");
    assert!(after.is_empty() || after.ends_with(b"\n"), "the log does not end with a newline");
    assert!(data.starts_with(&after), "opening changed more than the tail of the log");
    let recent: Vec<_> = history.recent().cloned().collect();
    assert!(recent.len() <= KEEP);
    assert!(history.next_seq() >= 1);
    drop(history);

    let mut again = History::open(path, KEEP).expect("reopen");
    assert_eq!(std::fs::read(path).expect("read the log"), after, "a second open changed the log");
    assert_eq!(again.next_seq(), recent.last().map_or(again.next_seq(), |m| m.seq + 1));
    assert_eq!(again.recent().cloned().collect::<Vec<_>>(), recent, "a second open read other messages");

    let seq = again.next_seq();
    let (message, written) = again
        .append(
            ChatMessage {
                ts: 42,
                name: "ann".into(),
                text: "after <the> \"crash\"\n".into(),
                ..ChatMessage::default()
            },
            FsyncPolicy::Never,
        )
        .expect("numbered");
    written.expect("append");
    assert_eq!(message.seq, seq);
    // A clean stop: the numbers reserved and not used are given back.
    again.release().expect("release");
    drop(again);
    let reopened = History::open(path, KEEP).expect("reopen after append");
    assert_eq!(reopened.next_seq(), seq + 1);
    assert_eq!(reopened.recent().last(), Some(&message));
    if let Some(log) = reopened.log() {
        let (page, _) = log.page_before(u64::MAX, 5).expect("page");
        assert!(page.len() <= 5);
    }
});
