//! The data directory belongs to one process at a time: a second server on it is refused with a
//! clear message, and it is free again once the first has stopped. `chatroom compact` takes the
//! same lock: refused while a server runs, and otherwise it removes deleted texts and folds edits
//! in, keeping every number and everything else.

mod support;

use std::process::Command;

use chatroom::protocol::json::Event;
use support::upload::{noise, request, upload, url_of};
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

/// Deleting a message that shares a file hides it; the bytes stay until `chatroom compact` runs
/// over every log, which then removes a file that no message shares any more, and forgets a name
/// that no message shares a kept file under. Compacting some rooms only leaves the files alone:
/// another room's messages may share them.
#[test]
fn compact_of_every_log_removes_the_files_no_message_shares() {
    let data = TempDir::new("compact-files");
    let dir = data.path().to_str().unwrap();
    let mut server = TestServer::start(&["--data-dir", dir, "--host-key", HOST_KEY, "--rate-limit", "0"]);
    let mut teacher = host(&server, "teacher");
    let _ann = Client::join_json(&server.ws_url("/r/other/connect?name=ann"));
    let share = |room: &str, name: &str, bytes: &[u8]| {
        url_of(&upload(server.addr, room, name, "application/octet-stream", bytes))
    };
    let (twice, once) = (noise(3000), noise(4000));
    let first_url = share("lobby", "first.bin", &twice);
    let first_seq = teacher.recv_message().seq;
    let second_url = share("lobby", "second.bin", &twice);
    teacher.recv_message();
    let only_url = share("lobby", "only.bin", &once);
    let only_seq = teacher.recv_message().seq;
    let elsewhere = share("other", "elsewhere.bin", &noise(500));
    for seq in [first_seq, only_seq] {
        teacher.type_in(&format!("/delete {seq}"));
        teacher.recv_event_where(|e| matches!(e, Event::Delete { .. }));
    }
    assert_eq!(request(server.addr, "GET", &only_url, "").body, once, "hidden, not yet gone");
    drop(teacher);
    server.signal(libc::SIGTERM);
    server.wait_exit(TIMEOUT).expect("stopped");
    let stored = || std::fs::read_dir(data.path().join("files")).unwrap().count();
    let before = stored();

    let some = run_chatroom(&["compact", "--data-dir", dir, "lobby"]);
    assert!(some.status.success(), "{}", String::from_utf8_lossy(&some.stderr));
    assert!(String::from_utf8_lossy(&some.stdout).contains("files: left as they are"));
    assert_eq!(stored(), before);
    let every = run_chatroom(&["compact", "--data-dir", dir]);
    assert!(every.status.success(), "{}", String::from_utf8_lossy(&every.stderr));
    let said = String::from_utf8_lossy(&every.stdout);
    assert!(
        said.contains("files: 1 removed (4000 bytes) that no message shares any more, 1 name(s) forgotten"),
        "{said}"
    );
    let log = std::fs::read_to_string(data.path().join("lobby.jsonl")).unwrap();
    assert!(!log.contains("only.bin") && !log.contains("first.bin") && log.contains("second.bin"), "{log}");

    let server = TestServer::start(&["--data-dir", dir]);
    for (url, expected) in [(&first_url, None), (&second_url, Some(&twice)), (&only_url, None)] {
        let got = request(server.addr, "GET", url, "");
        match expected {
            Some(bytes) => assert_eq!(&got.body, bytes, "{url}"),
            None => assert_eq!(got.status, 404, "{url}"),
        }
    }
    assert_eq!(request(server.addr, "GET", &elsewhere, "").body, noise(500));
    // A second compaction of everything finds nothing more.
    drop(server);
    let again = run_chatroom(&["compact", "--data-dir", dir]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stdout).contains("files: 0 removed (0 bytes)"));
    // A names file that cannot be read (here a folder) stops it, saying why, and no file goes.
    let files = data.path().join("files");
    std::fs::create_dir(files.join(format!("{}.names", "f".repeat(64)))).unwrap();
    let before = stored();
    let failed = run_chatroom(&["compact", "--data-dir", dir]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains(&format!("{}: Is a directory", files.display())), "{stderr}");
    assert_eq!(stored(), before);
}
