//! The command line: help, version, bad flags, environment variables, the listening line.

mod support;

use std::process::Command;

use support::{get, TestServer};

fn chatroom(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chatroom")).args(args).output().expect("run chatroom")
}

#[test]
fn help_and_version() {
    let help = chatroom(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for flag in ["--bind", "--echo", "--max-message", "--send-buffer", "--help", "--version", "CHATROOM_BIND"] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    let version = chatroom(&["--version"]);
    assert_eq!(String::from_utf8(version.stdout).unwrap(), format!("chatroom {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_flags_exit_2_with_a_reason() {
    for (args, needle) in [
        (&["--bind", "localhost:8080"][..], "not IP:PORT"),
        (&["--max-message", "-5"][..], "--max-message"),
        (&["--frobnicate"][..], "unknown flag"),
    ] {
        let out = chatroom(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn environment_variables_configure_and_flags_win() {
    let server = TestServer::start_with_env(&[], &[("CHATROOM_ECHO", "true")]);
    assert_ne!(get(server.addr, "/echo").status, 404, "CHATROOM_ECHO turned /echo on");
    let server = TestServer::start_with_env(&["--echo=false"], &[("CHATROOM_ECHO", "true")]);
    assert_eq!(get(server.addr, "/echo").status, 404, "the flag overrides the environment");
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom")).env("CHATROOM_SEND_BUFFER", "lots").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("CHATROOM_SEND_BUFFER"));
}
