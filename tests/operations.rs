//! Operations: Prometheus metrics, JSON log lines, the start-up lines.

mod support;

use support::{get, sample, wait_until, Client, TestServer};

#[test]
fn metrics_count_what_happens() {
    let server = TestServer::start(&["--rate-limit", "1", "--rate-burst", "2"]);
    let metrics = get(server.addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("Content-Type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = metrics.body_text();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.starts_with("chatroom_"), "unprefixed metric: {line}");
    }
    for name in [
        "chatroom_connections_open{kind=\"http\"}",
        "chatroom_connections_open{kind=\"websocket\"}",
        "chatroom_rooms",
        "chatroom_messages_relayed_total",
        "chatroom_relays_total",
        "chatroom_bytes_sent_total",
        "chatroom_members_dropped_slow_total",
        "chatroom_rate_limited_total",
        "chatroom_history_write_errors_total",
        "chatroom_uptime_seconds",
    ] {
        sample(&text, name);
    }
    assert!(text.contains("# TYPE chatroom_messages_relayed_total counter"));
    // The heap: something is in use (the rooms, the listener's buffers), and the allocator holds
    // at least that much from the kernel.
    let (in_use, held) = (sample(&text, "chatroom_heap_in_use_bytes"), sample(&text, "chatroom_heap_held_bytes"));
    assert!(in_use > 0.0 && held >= in_use, "heap in use {in_use}, held {held}");

    let (mut a, _) = Client::join(&server.ws_url("/connect?name=a"));
    let (mut b, _) = Client::join(&server.ws_url("/connect?name=b"));
    a.say("one");
    b.recv_containing(">one<");
    a.say("two");
    b.recv_containing(">two<");
    a.say("three (over the limit)");
    a.recv_containing("sending too fast");
    let text = get(server.addr, "/metrics").body_text();
    assert_eq!(sample(&text, "chatroom_messages_relayed_total"), 2.0);
    assert_eq!(sample(&text, "chatroom_relays_total"), 2.0, "one message at a time: a relay each");
    assert_eq!(sample(&text, "chatroom_deliveries_total"), 4.0 + 1.0, "2 messages × 2 members + b's join told to a");
    assert_eq!(sample(&text, "chatroom_rate_limited_total"), 1.0);
    assert_eq!(sample(&text, "chatroom_connections_open{kind=\"websocket\"}"), 2.0);
    assert!(sample(&text, "chatroom_bytes_sent_total") > 200.0);
    assert!(sample(&text, "chatroom_uptime_seconds") > 0.0);
    drop(a);
    wait_until("the websocket gauge to drop", || {
        let text = get(server.addr, "/metrics").body_text();
        (sample(&text, "chatroom_connections_open{kind=\"websocket\"}") == 1.0).then_some(())
    });
}

/// A private room's name is its only secret: `/metrics`, which anyone may read, counts only the
/// public rooms, as `/api/rooms` lists only them.
#[test]
fn the_rooms_gauge_counts_public_rooms_only() {
    let server = TestServer::start(&[]);
    let rooms = || sample(&get(server.addr, "/metrics").body_text(), "chatroom_rooms");
    let before = rooms();
    let private = get(server.addr, "/new").header("Location").expect("a private room");
    let (mut secret, _) = Client::join(&server.ws_url(&format!("{private}/connect?name=a")));
    secret.say("hush");
    secret.recv_containing(">hush<");
    assert_eq!(rooms(), before, "a private room with a member and a message is not counted");
    let (_kitchen, _) = Client::join(&server.ws_url("/r/kitchen/connect?name=b"));
    assert_eq!(rooms(), before + 1.0, "a public room is");
}

#[test]
fn json_log_lines_are_json() {
    let server = TestServer::start(&["--log-format", "json"]);
    let (client, _) = Client::join(&server.ws_url("/connect"));
    drop(client);
    let log = server.wait_for_log("closed: websocket");
    let mut saw_connection_line = false;
    for line in log.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value["ts"].as_str().unwrap().ends_with('Z'));
        assert!(value["level"].is_string() && value["msg"].is_string());
        if value["conn"].is_u64() {
            assert!(value["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
            saw_connection_line = true;
        }
    }
    assert!(saw_connection_line);
}

#[test]
fn start_up_says_how_many_connections_fit() {
    let server = TestServer::start(&[]);
    let log = server.wait_for_log("open files limit");
    assert!(log.contains("connections (--max-connections 4096)"), "{log}");
}

/// A server that cannot start says why, in a line a user can act on, and exits with 1 (bad flags
/// are 2: `tests/cli.rs`).
#[test]
fn a_start_up_failure_exits_1_with_what_to_do() {
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_chatroom")).args(args).output().unwrap();
    let taken = TestServer::start(&[]);
    let port = taken.addr.to_string();
    let out = run(&["--bind", &port, "--memory"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the port is taken") && err.contains("--bind"), "{err}");

    // A data dir that is not one: tests/history.rs.
}
