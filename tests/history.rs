//! History: replayed on join before anything live, with no gap and no duplicate even while people
//! talk; numbered per room, across restarts (SIGKILL too); kept in `DATA_DIR/ROOM.jsonl`, whose
//! torn last line is cut off on start; paged back through `/r/ROOM/history` at any depth.

mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chatroom::protocol::json::{self, Entry, HistoryPage};
use chatroom::protocol::ChatMessage;
use support::{data_seqs, element, get_history, get_rooms, log_line, owned};
use support::{Client, TempDir, TestServer, TIMEOUT};

// ---------------------------------------------------------------------------------------------
// Join order
// ---------------------------------------------------------------------------------------------

/// Sends `count` messages `{prefix}{i}` (i from 1) from `client` and reads each one back.
fn say_all(client: &mut Client, prefix: &str, count: usize) {
    for i in 1..=count {
        client.say(&format!("{prefix}{i}"));
        client.recv_containing(&format!(r#"<span class="text">{prefix}{i}</span>"#));
    }
}

#[test]
fn a_page_gets_history_oldest_first_then_roster_then_live() {
    let server = TestServer::start(&["--history", "3"]);
    let (mut ann, welcome) = Client::join(&server.ws_url("/r/order/connect?name=ann"));
    assert!(
        welcome.starts_with(concat!(
            r#"<ul id="messages" hx-swap-oob="true" aria-live="polite">"#,
            r#"<li id="more" class="more start">This is the start of the conversation.</li></ul>"#
        )),
        "{welcome}"
    );
    say_all(&mut ann, "m", 5);

    let (mut bob, welcome) = Client::join(&server.ws_url("/r/order/connect?name=bob"));
    // The list is replaced (not appended to) with the last 3 messages, oldest first, under a
    // "load older" item that asks for what comes before the oldest shown.
    let messages = element(&welcome, r#"<ul id="messages" hx-swap-oob="true""#, "</ul>").unwrap();
    assert!(messages.contains(concat!(
        r##"<li id="more" class="more"><button type="button" hx-get="/r/order/history?before=3&amp;limit=50&amp;format=html" "##,
        r##"hx-target="#more" hx-swap="outerHTML">Load older messages</button></li><li class="message" data-seq="3""##
    )));
    assert_eq!(data_seqs(messages), vec![3, 4, 5]);
    for i in 3..=5 {
        assert!(messages.contains(&format!(r#"<b class="name">ann</b> <span class="text">m{i}</span></li>"#)));
    }
    // Then the roster, who you are, and the notice line, in that order, and nothing else.
    let roster = r#"<ul id="roster" hx-swap-oob="true" aria-label="2 here"><li data-name="ann">ann</li><li data-name="bob">bob</li></ul>"#;
    let rest = format!(
        r#"{roster}<span id="me" hx-swap-oob="true" data-name="bob">bob</span><p id="notice" hx-swap-oob="true"></p>"#
    );
    assert_eq!(welcome, format!("{messages}{rest}"));

    // Then live messages, numbered on.
    ann.say("live");
    let live = bob.recv_text();
    assert_eq!(data_seqs(&live), vec![6]);
    assert!(live.contains(r#"<span class="text">live</span>"#));
}

#[test]
fn the_whole_history_fits_when_it_is_short() {
    let server = TestServer::start(&[]);
    let (mut ann, _) = Client::join(&server.ws_url("/r/short/connect?name=ann"));
    say_all(&mut ann, "s", 4);
    let (_bob, welcome) = Client::join(&server.ws_url("/r/short/connect?name=bob"));
    assert!(welcome.starts_with(concat!(
        r#"<ul id="messages" hx-swap-oob="true" aria-live="polite">"#,
        r#"<li id="more" class="more start">This is the start of the conversation.</li><li class="message" data-seq="1""#
    )));
    assert_eq!(data_seqs(&welcome), vec![1, 2, 3, 4]);
}

/// Messages the stress test sends.
const SENT: usize = 300;
/// Clients joining while they are sent.
const JOINERS: usize = 25;
/// The sender may be this many messages ahead of the joins, no more (so that joins are spread
/// over the whole run, each one racing the messages sent meanwhile).
const STRIDE: usize = SENT / JOINERS;

/// The text of the first message item in a page fragment (as written, escaped).
fn item_text(fragment: &str) -> String {
    let span =
        element(fragment, r#"<span class="text">"#, "</span>").unwrap_or_else(|| panic!("no text in {fragment}"));
    span[r#"<span class="text">"#.len()..span.len() - "</span>".len()].to_string()
}

/// The (seq, text) pairs of the message items of a page fragment.
fn page_messages(fragment: &str) -> Vec<(u64, String)> {
    let items = fragment.split(r#"<li class="message""#).skip(1);
    data_seqs(fragment).into_iter().zip(items.map(item_text)).collect()
}

/// The (seq, text) pairs of the messages of a JSON `history` event.
fn json_messages(history: &[json::Message<'_>]) -> Vec<(u64, String)> {
    history.iter().map(|m| (m.seq, m.text.to_string())).collect()
}

/// Reads live messages until the last one sent, adding them to `seen`.
fn read_until_last(client: &mut Client, json: bool, seen: &mut Vec<(u64, String)>) {
    let last = format!("n{SENT}");
    while seen.last().is_none_or(|(_, text)| *text != last) {
        if json {
            let message = client.recv_message();
            seen.push((message.seq, message.text.into_owned()));
        } else {
            let fragment = client.recv_text();
            let messages = page_messages(&fragment);
            assert_eq!(messages.len(), 1, "{fragment}");
            seen.extend(messages);
        }
    }
}

#[test]
fn no_message_is_lost_or_doubled_while_many_join_during_sending() {
    // A history long enough to replay everything, and no rate limit: one sender sends it all.
    let server = TestServer::start(&["--history", "1000", "--rate-limit", "0"]);
    let url = server.ws_url("/r/busy/connect?name=sender");
    let sent = Arc::new(AtomicUsize::new(0));
    let joined = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (sent, joined) = (sent.clone(), joined.clone());
        std::thread::spawn(move || {
            let (mut client, _) = Client::join_json(&url);
            for i in 1..=SENT {
                // Stay at most one stride ahead of the joins.
                support::wait_until("the joins to catch up", || {
                    (joined.load(Ordering::SeqCst) >= (i - 1) / STRIDE).then_some(())
                });
                client.say_json(&format!("n{i}"));
                // Reading our own message back keeps our socket drained and paces us by the relay;
                // once we have it, it is in the room's history.
                let message = client.recv_message();
                assert_eq!(message.text, format!("n{i}"));
                sent.store(i, Ordering::SeqCst);
            }
        })
    };
    let mut joiners = Vec::new();
    for k in 0..JOINERS {
        support::wait_until("the sender to get ahead", || (sent.load(Ordering::SeqCst) > k * STRIDE).then_some(()));
        let json = k % 2 == 1;
        let url = server.ws_url(&format!("/r/busy/connect?name=j{k}"));
        let (client, history) = if json {
            let (client, welcome) = Client::join_json(&url);
            (client, json_messages(&welcome.history))
        } else {
            let (client, welcome) = Client::join(&url);
            (client, page_messages(&welcome))
        };
        joined.store(k + 1, Ordering::SeqCst);
        joiners.push((k, json, client, history));
    }
    sender.join().expect("the sender thread");

    let expected: Vec<(u64, String)> = (1..=SENT as u64).map(|i| (i, format!("n{i}"))).collect();
    let mut mid_stream = 0;
    for (k, json, mut client, history) in joiners {
        let in_history = history.len();
        let mut seen = history;
        read_until_last(&mut client, json, &mut seen);
        if seen != expected {
            let kind = if json { "JSON" } else { "page" };
            let at = seen.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(seen.len().min(expected.len()));
            panic!(
                "joiner {k} ({kind}, {in_history} messages in its history) saw a gap, a duplicate or a wrong order: \
                 at position {at} it saw {:?}, expected {:?} ({} messages seen in all)",
                &seen[at.saturating_sub(1)..(at + 2).min(seen.len())],
                &expected[at.saturating_sub(1)..(at + 2).min(expected.len())],
                seen.len()
            );
        }
        assert!(in_history > k * STRIDE, "joiner {k} joined after {in_history} messages");
        if in_history < SENT {
            mid_stream += 1;
        }
    }
    assert!(mid_stream >= JOINERS - 1, "only {mid_stream} joiners joined while messages were being sent");
}

// ---------------------------------------------------------------------------------------------
// Restarts
// ---------------------------------------------------------------------------------------------

/// Sends `count` messages into `room` over WebSockets (page and JSON clients taking turns) and
/// returns them as the JSON client received them live.
fn talk(server: &TestServer, room: &str, count: usize) -> Vec<json::Message<'static>> {
    let (mut page, _) = Client::join(&server.ws_url(&format!("/r/{room}/connect?name=ann")));
    let (mut bot, _) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect?name=bot")));
    let mut received = Vec::new();
    for i in 1..=count {
        let text = format!("before restart {i} <&>");
        if i % 2 == 0 {
            bot.say_json(&text);
        } else {
            page.say(&text);
        }
        let message = bot.recv_message();
        assert_eq!(message.text, text);
        received.push(message);
    }
    received
}

/// After a restart: the history replays exactly `before`, and the next message is numbered
/// `next` (after a clean stop, the next number; after a crash, perhaps more: numbers are reserved
/// in blocks, and never reused).
fn check_after_restart(server: &TestServer, room: &str, before: &[json::Message<'static>], next: u64) {
    let (mut bot, welcome) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect?name=bot")));
    assert_eq!(welcome.room, room);
    assert_eq!(welcome.history, before);
    assert!(!welcome.more);
    let (_page, html) = Client::join(&server.ws_url(&format!("/r/{room}/connect?name=ann")));
    assert_eq!(data_seqs(&html), (1..=before.len() as u64).collect::<Vec<_>>());
    let history = get_history(server.addr, &format!("/r/{room}/history?limit=200"));
    let messages = before.iter().cloned().map(Entry::Message).collect();
    assert_eq!(history, HistoryPage { room: owned(room), messages, more: false });
    bot.say_json("after restart");
    let message = bot.recv_message();
    assert_eq!(message.seq, next);
    assert_eq!(message.text, "after restart");
    let rooms = get_rooms(server.addr);
    let listed = rooms.rooms.iter().find(|r| r.name == room).expect("room listed");
    assert_eq!(listed.messages, next);
}

#[test]
fn messages_survive_sigkill_and_the_sequence_continues() {
    let data = TempDir::new("sigkill");
    let dir = data.path().to_str().unwrap();
    let mut server = TestServer::start(&["--data-dir", dir]);
    let before = talk(&server, "durable", 20);
    let seqs: Vec<u64> = before.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    server.signal(libc::SIGKILL);
    let status = server.wait_exit(TIMEOUT).expect("killed");
    assert!(!status.success(), "{status:?}");
    drop(server);

    let server = TestServer::start(&["--data-dir", dir]);
    // Killed, it could not give back the numbers it had reserved (100 at a time): the next
    // message is numbered after them. Numbers only grow; they may skip, never repeat.
    check_after_restart(&server, "durable", &before, 101);
    // And on disk: 21 lines, one per message, in order.
    let log = std::fs::read_to_string(data.path().join("durable.jsonl")).unwrap();
    let seqs: Vec<u64> = log.lines().map(|l| serde_json::from_str::<ChatMessage>(l).unwrap().seq).collect();
    assert_eq!(seqs, [(1..=20).collect::<Vec<_>>(), vec![101]].concat());
}

#[test]
fn messages_survive_sigterm_and_the_sequence_continues() {
    let data = TempDir::new("sigterm");
    let dir = data.path().to_str().unwrap();
    let mut server = TestServer::start(&["--data-dir", dir]);
    let before = talk(&server, "kept", 7);
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(TIMEOUT).expect("stopped");
    assert!(status.success(), "{status:?}");
    drop(server);
    let server = TestServer::start(&["--data-dir", dir]);
    // A clean stop gave the unused reserved numbers back: no gap.
    check_after_restart(&server, "kept", &before, 8);
}

#[test]
fn memory_mode_writes_nothing_and_forgets_on_restart() {
    let data = TempDir::new("memory");
    let dir = data.path().to_str().unwrap();
    let server = TestServer::start(&["--memory", "--data-dir", dir]);
    talk(&server, "fleeting", 3);
    assert_eq!(get_history(server.addr, "/r/fleeting/history").messages.len(), 3);
    drop(server);
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0, "--memory wrote to the data dir");
    let server = TestServer::start(&["--memory", "--data-dir", dir]);
    let (_bot, welcome) = Client::join_json(&server.ws_url("/r/fleeting/connect"));
    assert!(welcome.history.is_empty(), "{:?}", welcome.history);
}

// ---------------------------------------------------------------------------------------------
// Damaged logs and data dirs
// ---------------------------------------------------------------------------------------------

/// Base time of the fixtures: 2025-11-26T21:00:00.000Z.
const T0: u64 = 1_764_190_800_000;

fn good_lines(count: u64) -> String {
    (1..=count).map(|seq| log_line(seq, T0 + seq * 1000, "ann", &format!("good {seq}"))).collect()
}

#[test]
fn a_torn_or_corrupt_last_line_is_cut_off_with_a_warning() {
    let data = TempDir::new("torn");
    let good = good_lines(5);
    let torn = data.path().join("torn.jsonl");
    let torn_tail = r#"{"seq":6,"ts":1764190806000,"name":"ann","te"#;
    std::fs::write(&torn, format!("{good}{torn_tail}")).unwrap();
    let corrupt = data.path().join("corrupt.jsonl");
    std::fs::write(&corrupt, format!("{good}\0\0\0\0\n")).unwrap();

    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    server.wait_for_log(&format!(
        "chatroom: warning: {}: dropping a torn last line ({} bytes, no newline)",
        torn.display(),
        torn_tail.len()
    ));
    server.wait_for_log(&format!("chatroom: warning: {}: dropping a corrupt last line", corrupt.display()));
    // The damage is gone from the files.
    assert_eq!(std::fs::read_to_string(&torn).unwrap(), good);
    assert_eq!(std::fs::read_to_string(&corrupt).unwrap(), good);

    for room in ["torn", "corrupt"] {
        let history = get_history(server.addr, &format!("/r/{room}/history"));
        let seqs: Vec<u64> = history.messages.iter().map(|m| m.message().seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5], "{room}");
        assert_eq!(history.messages[4].message().ts, "2025-11-26T21:00:05.000Z");
        let (mut bot, welcome) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect?name=bot")));
        assert_eq!(welcome.history.len(), 5);
        assert_eq!(welcome.history[0].text, "good 1");
        bot.say_json("after the damage");
        assert_eq!(bot.recv_message().seq, 6, "{room}");
    }
    let log = std::fs::read_to_string(&torn).unwrap();
    let after = log.strip_prefix(&good).expect("the good lines are untouched");
    let line: ChatMessage = serde_json::from_str(after.strip_suffix('\n').expect("one whole line")).unwrap();
    assert_eq!((line.seq, line.name.as_str(), line.text.as_str()), (6, "bot", "after the damage"));
}

/// Runs the server with `args` until it exits by itself; returns its exit code and stderr.
fn run_until_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatroom"))
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chatroom");
    let Some(status) = support::wait_for_exit(&mut child, TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server kept running with {args:?}");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr)
}

#[test]
fn a_data_dir_that_is_a_file_is_a_startup_error() {
    let temp = TempDir::new("notadir");
    let file = temp.path().join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let (code, stderr) = run_until_exit(&["--data-dir", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
    // A data dir that cannot be created (under that file) names its path too.
    let below = file.join("data");
    let (code, stderr) = run_until_exit(&["--data-dir", below.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&below.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
}
