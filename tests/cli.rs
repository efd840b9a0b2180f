//! The command line: help, version, bad flags, environment variables, the listening line; and
//! the README's flag table, which must be what `--help` prints.

mod support;

use std::path::Path;
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

/// The line in README.md right above the fenced block that must read as `--help` does.
const README_MARKER: &str = "<!-- checked by tests/cli.rs: flags";

/// README.md's "Flags" block is `chatroom --help` verbatim from its `FLAGS` line to the end, so it
/// lists exactly the binary's flags, with the same defaults and environment variables.
#[test]
fn readme_flag_table_is_what_help_prints() {
    let help = String::from_utf8(chatroom(&["--help"]).stdout).unwrap();
    let table = &help[help.find("\nFLAGS").expect("--help has a line starting with FLAGS") + 1..];
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    // The block's text: from the line after the opening fence under the marker to the closing one.
    let marker = readme.find(README_MARKER).unwrap_or_else(|| panic!("README.md lacks {README_MARKER} ... -->"));
    let open = marker + readme[marker..].find("\n```").expect("a fenced block under the marker") + 1;
    let start = open + readme[open..].find('\n').unwrap() + 1;
    let end = start + readme[start..].find("```\n").expect("the README block is closed with ```");
    if readme[start..end] == *table {
        return;
    }
    // Same switch as tests/docs.rs: rewrite the block with what the binary prints now.
    if std::env::var_os("CHATROOM_BLESS_DOCS").is_some_and(|v| v != "0") {
        std::fs::write(&path, format!("{}{table}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    panic!(
        "README.md's flag table (the fenced block under {README_MARKER} ... -->) is not what \
         `chatroom --help` prints. Replace the lines inside that block with these (or run \
         CHATROOM_BLESS_DOCS=1 cargo test --test cli), and read the prose around it:\n{table}"
    );
}
