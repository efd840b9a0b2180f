//! The terminal client, `chatroom join URL`, against a real server: two terminal clients and one
//! WebSocket test client chat in one room.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use support::{Client, TempDir, TestServer, HOST_KEY, TIMEOUT};

/// A running `chatroom join`, with its stdin and its stdout lines.
struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    /// Its config directory (`XDG_CONFIG_HOME`), where it keeps its member id.
    _config: Option<TempDir>,
}

impl Terminal {
    fn join(url: &str, name: &str) -> Terminal {
        let config = TempDir::new("terminal-config");
        let mut terminal = Terminal::join_with(url, &["--name", name], config.path());
        terminal._config = Some(config);
        terminal
    }

    /// `chatroom join URL ARGS...`, keeping its member id in `config`.
    fn join_with(url: &str, args: &[&str], config: &std::path::Path) -> Terminal {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatroom"))
            .arg("join")
            .arg(url)
            .args(args)
            .env("TZ", "UTC")
            .env("XDG_CONFIG_HOME", config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start chatroom join");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Terminal { child, stdin, lines, seen: Vec::new(), _config: None }
    }

    fn type_line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for an output line satisfying `matches`; returns it.
    fn expect(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + TIMEOUT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no line {what}; saw {:#?}", self.seen),
            }
        }
    }

    /// Waits for the line `HH:MM <rest>`.
    fn expect_timed(&mut self, rest: &str) -> String {
        self.expect(rest, |line| {
            let b = line.as_bytes();
            line.len() > 6
                && b[2] == b':'
                && b[..5].iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit())
                && &line[6..] == rest
        })
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        support::wait_for_exit(&mut self.child, TIMEOUT).expect("chatroom join did not exit")
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_terminals_and_a_websocket_client_chat_in_one_room() {
    let server = TestServer::start(&[]);
    let url = format!("http://{}/r/terminals", server.addr);
    let (mut web, _) = Client::join(&server.ws_url("/r/terminals/connect?name=web"));
    web.say("before the terminals came");

    let mut t1 = Terminal::join(&url, "t1");
    // History first, then who is here, then who you are.
    t1.expect_timed("web: before the terminals came");
    t1.expect("roster", |l| l == "* here: web, t1");
    t1.expect("name notice", |l| l == "* You joined #terminals as t1.");

    let mut t2 = Terminal::join(&url, "t2");
    t2.expect("roster", |l| l == "* here: web, t1, t2");
    t1.expect_timed("* t2 joined");

    t1.type_line("hello from t1");
    t2.expect_timed("t1: hello from t1");
    let relayed = web.recv_containing("hello from t1");
    assert!(relayed.contains(r#"data-name="t1""#));

    web.say("<b>from the web</b>");
    t1.expect_timed("web: <b>from the web</b>");
    t2.expect_timed("web: <b>from the web</b>");

    t2.type_line("and t2");
    t1.expect_timed("t2: and t2");

    // A mention rings the bell (BEL) in the terminal it calls, and only there.
    web.say("@T2 are you there?");
    let called = t2.expect("the mention", |l| l.ends_with("web: @T2 are you there?"));
    assert!(called.starts_with('\x07'), "{called:?}");
    let other = t1.expect("the mention", |l| l.ends_with("web: @T2 are you there?"));
    assert!(!other.contains('\x07'), "{other:?}");

    // End of input: t1 leaves cleanly, and the others are told.
    drop(t1.stdin.take());
    assert!(t1.wait_exit().success());
    t2.expect_timed("* t1 left");
    web.recv_containing("left");
    server.wait_for_log("closed: websocket, 1000 bye");

    // Ctrl-C: the same.
    support::sys::send_signal(t2.child.id(), libc::SIGINT);
    assert!(t2.wait_exit().success());
    web.recv_containing("t2</b> left");
}

#[test]
fn a_name_that_is_taken_is_numbered_and_bad_input_is_reported() {
    let server = TestServer::start(&[]);
    let url = format!("http://{}/", server.addr);
    let (_web, _) = Client::join(&server.ws_url("/connect?name=ann"));
    let mut t = Terminal::join(&url, "ann");
    t.expect("notice", |l| l == "* The name ann is taken here, so you are ann (2).");
    t.type_line(&"x".repeat(2001));
    t.expect("error", |l| l.starts_with("! Message not sent: it is 2001 characters long"));
}

#[test]
fn join_refuses_bad_urls_and_unreachable_servers() {
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom")).args(["join", "https://example.org/r/x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https needs a TLS proxy"));
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom")).args(["join"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A port with nothing listening: a clear error, exit 1.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom"))
        .args(["join", &format!("http://{closed}/")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&closed.to_string()));
    // A server that is not chatroom at that path: the upgrade's answer is shown.
    let server = TestServer::start(&[]);
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom"))
        .args(["join", &format!("http://{}/r/NOT%20A%20ROOM", server.addr)])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_terminal_keeps_its_member_id_and_the_host_key_makes_it_the_host() {
    let key = HOST_KEY;
    let server = TestServer::start(&["--host-key", key]);
    let url = format!("http://{}/", server.addr);
    let config = TempDir::new("terminal-id");
    let mut pupil = Terminal::join_with(&url, &["--name", "pupil"], config.path());
    pupil.expect("name notice", |l| l == "* You joined #lobby as pupil.");
    pupil.type_line("/me waves");
    pupil.expect_timed("* pupil waves");
    let id = std::fs::read_to_string(config.path().join("chatroom/member-id")).expect("the id is kept");
    assert_eq!(id.trim().len(), 26);
    pupil.type_line("/kick pupil");
    pupil.expect("refusal", |l| l == "! Only the host can use /kick.");
    drop(pupil);
    // Back again, the same id: the message is still its own to edit.
    let mut again = Terminal::join_with(&url, &["--name", "pupil"], config.path());
    again.expect("name notice", |l| l == "* You joined #lobby as pupil.");
    again.type_line("/edit 1 waves hello");
    again.expect("the edit", |l| l == "* message #1 is now: waves hello");
    let host_config = TempDir::new("terminal-host");
    let mut host = Terminal::join_with(&url, &["--name", "teacher", "--host-key", key], host_config.path());
    host.expect("name notice", |l| l == "* You joined #lobby as teacher.");
    host.type_line("/announce Test at 10");
    again.expect("the banner", |l| l == "=== Test at 10 ===");
    host.type_line("/kick pupil");
    again.expect("the close", |l| l.starts_with("* the server closed the connection 4003 You were removed"));
}
