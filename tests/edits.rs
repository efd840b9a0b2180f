//! Edits, deletes and private messages: one's own messages only (by member id, never by name),
//! applied everywhere a message can be read (the replay, the history API, search, export), and
//! still so after a restart. `/msg` reaches its two ends, and is never written down.

mod support;

use chatroom::protocol::json::{Event, SearchResults};
use support::*;

fn args(dir: &str) -> Vec<&str> {
    vec!["--host-key", HOST_KEY, "--rate-limit", "0", "--data-dir", dir]
}

/// The texts (and edited marks) of the lobby's history, through the API.
fn history(server: &TestServer) -> Vec<(u64, String, bool)> {
    let page = get_history(server.addr, "/r/lobby/history");
    page.messages.iter().map(|e| e.message()).map(|m| (m.seq, m.text.to_string(), m.edited)).collect()
}

#[test]
fn one_edits_and_deletes_ones_own_messages_everywhere_and_across_a_restart() {
    let data = TempDir::new("edits");
    let dir = data.path().to_str().unwrap().to_string();
    let mut server = TestServer::start(&args(&dir));
    let mut ann = member(&server, "ann");
    let mut bob = member(&server, "bob");
    for text in ["first draft", "oops wrong room", "bob can't touch this"] {
        ann.type_in(text);
        bob.recv_message();
    }
    ann.type_in("/edit 1 final text");
    let edit = bob.recv_event_where(|e| matches!(e, Event::Edit { .. }));
    assert!(matches!(&edit, Event::Edit { seq: 1, text, .. } if text == "final text"), "{edit:?}");
    ann.type_in("/delete 2");
    assert!(matches!(bob.recv_event_where(|e| matches!(e, Event::Delete { .. })), Event::Delete { seq: 2, .. }));
    // Bob may not change ann's messages.
    bob.type_in("/edit 3 hacked");
    assert!(bob.recv_error().contains("You can only edit your own messages, and #3 is not yours."));
    bob.type_in("/delete 3");
    assert!(bob.recv_error().contains("You can only delete your own messages"));
    ann.type_in("/edit 2 back from the dead");
    assert!(ann.recv_error().contains("There is no message #2 here (or it was deleted)."));
    let expected = vec![(1, "final text".to_string(), true), (3, "bob can't touch this".to_string(), false)];
    assert_eq!(history(&server), expected);
    // The replay, search and export agree.
    let (_carol, welcome) = Client::join_json(&server.ws_url("/connect?name=carol"));
    let replay: Vec<_> = welcome.history.iter().map(|m| (m.seq, m.text.to_string(), m.edited)).collect();
    assert_eq!(replay, expected);
    let found: SearchResults = get_json(server.addr, "/r/lobby/search?q=oops");
    assert!(found.messages.is_empty(), "a deleted message is not found");
    let found: SearchResults = get_json(server.addr, "/r/lobby/search?q=final");
    assert_eq!(found.messages.len(), 1, "an edited message is found by its new text");
    // HTTP/1.0: the rendered export's body ends with the connection (no chunks to undo).
    let request = format!("GET /r/lobby/export?format=jsonl HTTP/1.0\r\nHost: {}\r\n\r\n", server.addr);
    let export = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut all = String::new();
        stream.read_to_string(&mut all).unwrap();
        all.split_once("\r\n\r\n").unwrap().1.to_string()
    };
    assert!(!export.contains("oops") && !export.contains("first draft") && export.contains("final text"), "{export}");
    // A restart: the log's events are applied again.
    drop((ann, bob));
    server.signal(libc::SIGTERM);
    server.wait_exit(TIMEOUT).expect("stopped");
    let server = TestServer::start(&args(&dir));
    assert_eq!(history(&server), expected);
    let (_dave, welcome) = Client::join_json(&server.ws_url("/connect?name=dave"));
    assert_eq!(welcome.history.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 3]);
    // Her id still owns her messages after the restart; her name alone does not.
    let mut impostor = member_as(&server, "ann", "mallory");
    impostor.type_in("/delete 3");
    assert!(impostor.recv_error().contains("not yours"));
    drop(impostor);
    let mut ann = member(&server, "ann");
    ann.type_in("/delete 3");
    ann.recv_event_where(|e| matches!(e, Event::Delete { seq: 3, .. }));
    assert_eq!(history(&server), [(1, "final text".to_string(), true)]);
}

#[test]
fn the_host_deletes_anyones_message_but_edits_none() {
    let server = TestServer::start(&["--host-key", HOST_KEY, "--rate-limit", "0"]);
    let mut ann = member(&server, "ann");
    let mut teacher = host(&server, "teacher");
    ann.type_in("something rude");
    teacher.recv_message();
    teacher.type_in("/edit 1 something nice");
    assert!(teacher.recv_error().contains("not yours"));
    teacher.type_in("/delete 1");
    ann.recv_event_where(|e| matches!(e, Event::Delete { seq: 1, .. }));
    assert!(history(&server).is_empty());
    teacher.type_in("/delete 99");
    assert!(teacher.recv_error().contains("There is no message #99"));
    teacher.type_in("/delete x");
    assert!(teacher.recv_error().contains("/delete: x is not a number."));
}

#[test]
fn a_private_message_reaches_its_two_ends_only_and_is_never_saved() {
    let server = TestServer::start(&["--rate-limit", "0"]);
    let mut ann = member(&server, "ann");
    let mut bob = member_as(&server, "bob%20smith", "bob");
    let mut carol = member_as(&server, "carol", "carol");
    ann.type_in("/msg BOB SMITH see me after class");
    for end in [&mut ann, &mut bob] {
        let direct = end.recv_event_where(|e| matches!(e, Event::Direct { .. }));
        let Event::Direct { from, to, text, .. } = direct else { unreachable!() };
        assert_eq!((from.as_ref(), to.as_ref(), text.as_ref()), ("ann", "bob smith", "see me after class"));
    }
    // Carol gets nothing of it: her next event is what ann says next.
    ann.type_in("hello all");
    let (next, raw) = carol.recv_event_text_where(|e| !matches!(e, Event::Join(_) | Event::Roster { .. }));
    assert!(matches!(next, Event::Message(_)), "{raw}");
    let log = std::fs::read_to_string(server.data_dir().unwrap().join("lobby.jsonl")).unwrap();
    assert!(!log.contains("after class"), "never written: {log}");
    assert!(history(&server).iter().all(|(_, text, _)| !text.contains("after class")));
    ann.type_in("/msg nobody hi");
    assert!(ann.recv_error().contains("no one here has that name"));
    ann.type_in("/msg ann hi");
    assert!(ann.recv_error().contains("that is you"));
}

#[test]
fn an_action_is_a_message_marked_as_one_in_both_dialects() {
    let server = TestServer::start(&["--rate-limit", "0"]);
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=page"));
    let mut ann = member(&server, "ann");
    ann.type_in("/me waves");
    let message = ann.recv_message();
    assert!(message.action && message.text == "waves", "{message:?}");
    let item = page.recv_containing("waves");
    assert!(item.contains(r#"<li class="message action""#) && item.contains(r#"* <b class="name">ann</b>"#), "{item}");
    // In the history too.
    let page_of_history = get_history(server.addr, "/r/lobby/history");
    assert!(page_of_history.messages[0].message().action);
}
