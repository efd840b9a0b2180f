//! The data directory belongs to one process at a time: a second server on it is refused with a
//! clear message, and it is free again once the first has stopped. (`chatroom compact` takes
//! the same lock: see tests/compact.rs.)

mod support;

use std::process::Command;

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
