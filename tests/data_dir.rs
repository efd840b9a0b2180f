//! The data directory belongs to one process at a time: a second server on it is refused with a
//! clear message, and it is free again once the first has stopped. `chatroom compact` takes the
//! same lock: refused while a server runs, and otherwise it removes deleted texts and folds edits
//! in, keeping every number and everything else.

mod support;

use std::process::Command;

use chatroom::protocol::json::Event;
use support::*;

fn run_chatroom(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chatroom")).args(args).output().expect("run chatroom")
}

#[test]
fn a_second_server_on_the_same_data_dir_is_refused() {
    let data = TempDir::new("shared-dir");
    let dir = data.path().to_str().unwrap();
    let mut first = TestServer::start(&["--data-dir", dir]);
    let second = run_chatroom(&["--bind", "127.0.0.1:0", "--data-dir", dir]);
    assert_eq!(second.status.code(), Some(1), "refused at start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is in use by another chatroom process"), "{stderr}");
    assert!(stderr.contains(dir), "names the directory: {stderr}");
    // The first one is unharmed, and once it stops the directory is free (no stale lock).
    assert_eq!(get(first.addr, "/healthz").status, 200);
    first.signal(libc::SIGTERM);
    assert!(first.wait_exit(TIMEOUT).is_some());
    let _again = TestServer::start(&["--data-dir", dir]);
}

#[test]
fn servers_on_different_data_dirs_run_side_by_side() {
    let one = TestServer::start(&[]);
    let two = TestServer::start(&[]);
    assert_eq!(get(one.addr, "/healthz").status, 200);
    assert_eq!(get(two.addr, "/healthz").status, 200);
}

#[test]
fn compact_is_refused_while_a_server_runs_and_then_removes_deleted_texts() {
    let data = TempDir::new("compact");
    let dir = data.path().to_str().unwrap();
    let mut server = TestServer::start(&["--data-dir", dir, "--rate-limit", "0"]);
    let cookie = format!("chatroom_id={:a<26}", "ann");
    let (mut ann, _) = Client::join_json_with(&server.ws_url("/connect?name=ann"), &[("Cookie", &cookie)]);
    for text in ["one", "my password is hunter2", "tpyo", "four"] {
        ann.type_in(text);
        ann.recv_message();
    }
    for command in ["/delete 2", "/edit 3 typo"] {
        ann.type_in(command);
        ann.recv_event_where(|e| matches!(e, Event::Delete { .. } | Event::Edit { .. }));
    }
    let log_path = data.path().join("lobby.jsonl");
    let refused = run_chatroom(&["compact", "--data-dir", dir]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in use by another chatroom process"));
    assert!(std::fs::read_to_string(&log_path).unwrap().contains("hunter2"), "nothing changed");
    let before = get_history(server.addr, "/r/lobby/history");
    drop(ann);
    server.signal(libc::SIGTERM);
    server.wait_exit(TIMEOUT).expect("stopped");

    let done = run_chatroom(&["compact", "--data-dir", dir, "lobby"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(said.contains("1 deleted text(s) removed, 1 edit(s) folded in, 2 event line(s) dropped"), "{said}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("hunter2") && !log.contains("tpyo") && !log.contains("\"event\""), "{log}");
    let seqs: Vec<u64> =
        log.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "every number is kept");
    // The server reads it as it read the log before.
    let server = TestServer::start(&["--data-dir", dir]);
    assert_eq!(get_history(server.addr, "/r/lobby/history"), before);
    let next = Client::join_json(&server.ws_url("/connect?name=bob")).1;
    assert_eq!(next.history.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 3, 4]);
    let bad = run_chatroom(&["compact", "--data-dir", dir, "Not A Room"]);
    assert_eq!(bad.status.code(), Some(2));
}
