//! Search: `GET /r/ROOM/search?q=TEXT` finds messages anywhere in a room's log, the ones long gone
//! from memory too, case ignored in text and name, newest first, paged with `before`; refuses bad
//! parameters with a reason; follows the access rules of the history API; works for rooms in
//! memory only and for rooms put away; reads past corrupt lines and never half a line.

mod support;

use std::io::Write;

use chatroom::protocol::json::SearchResults;
use support::{get, get_json, log_line, url_encode, Client, TempDir, TestServer};

/// 2025-11-26T21:00:00.000Z, the fixtures' first second.
const T0: u64 = 1_764_190_800_000;

/// A data dir holding `ROOM.jsonl` with `lines`.
fn data_with(room: &str, lines: &str) -> TempDir {
    let data = TempDir::new("search");
    std::fs::write(data.path().join(format!("{room}.jsonl")), lines).unwrap();
    data
}

fn start_on(data: &TempDir, args: &[&str]) -> TestServer {
    let mut all = vec!["--data-dir", data.path().to_str().unwrap()];
    all.extend_from_slice(args);
    TestServer::start(&all)
}

fn search(server: &TestServer, room: &str, query: &str) -> SearchResults<'static> {
    get_json(server.addr, &format!("/r/{room}/search?{query}"))
}

fn seqs(results: &SearchResults<'_>) -> Vec<u64> {
    results.messages.iter().map(|entry| entry.message().seq).collect()
}

/// 150 messages; the 10th, long out of the last 100, says "the Needle".
fn long_log() -> String {
    (1..=150u64)
        .map(|seq| {
            let text = if seq == 10 { "where is the Needle?".to_string() } else { format!("hay {seq}") };
            log_line(seq, T0 + seq * 1000, if seq % 2 == 0 { "Émile" } else { "ann" }, &text)
        })
        .collect()
}

#[test]
fn finds_a_message_long_gone_from_memory_case_ignored() {
    let data = data_with("archive", &long_log());
    let server = start_on(&data, &[]);
    for q in ["needle", "NEEDLE", "the%20nEeDlE%3F", "+needle+"] {
        let found = search(&server, "archive", &format!("q={q}"));
        assert_eq!(seqs(&found), [10], "q={q}");
        assert!(!found.more && found.before.is_none());
    }
    let found = search(&server, "archive", "q=needle");
    let message = found.messages[0].message();
    assert_eq!((found.room.as_ref(), found.q.as_ref()), ("archive", "needle"));
    assert_eq!(message.text, "where is the Needle?");
    assert_eq!(message.ts, support::rfc3339(T0 + 10_000));
    // The name counts too, beyond ASCII: "émile" finds Émile's 75 messages, newest first.
    let found = search(&server, "archive", &format!("q={}&limit=200", url_encode("ÉMILE")));
    assert_eq!(seqs(&found), (1..=75).rev().map(|i| i * 2).collect::<Vec<_>>());
    // Nothing found is an empty list, not an error.
    assert!(search(&server, "archive", "q=absent").messages.is_empty());
    assert!(search(&server, "nobody-here", "q=needle").messages.is_empty());
}

#[test]
fn pages_back_with_before_newest_first() {
    let data = data_with("paged", &long_log());
    let server = start_on(&data, &[]);
    let first = search(&server, "paged", "q=hay&limit=60");
    assert_eq!(seqs(&first), (91..=150).rev().collect::<Vec<_>>());
    assert_eq!((first.more, first.before), (true, Some(91)));
    let second = search(&server, "paged", "q=hay&limit=60&before=91");
    assert_eq!(seqs(&second), (31..=90).rev().collect::<Vec<_>>());
    let last = search(&server, "paged", "q=hay&limit=60&before=31");
    assert_eq!(seqs(&last), (1..=30).rev().filter(|&s| s != 10).collect::<Vec<_>>());
    assert_eq!((last.more, last.before), (false, None));
    // The default page is 50; 200 is the most.
    assert_eq!(search(&server, "paged", "q=hay").messages.len(), 50);
    assert_eq!(search(&server, "paged", "q=hay&limit=200").messages.len(), 149);
    assert_eq!(seqs(&search(&server, "paged", "q=hay&limit=1&before=2")), [1]);
}

#[test]
fn bad_parameters_get_400_with_a_reason() {
    let server = TestServer::start(&[]);
    let long = "x".repeat(201);
    let exactly = "é".repeat(200);
    for (query, reason) in [
        ("", "q must say what to look for."),
        ("q=", "q must say what to look for."),
        ("q=+++", "q must say what to look for."),
        ("q", "q must say what to look for."),
        (&format!("q={long}"), "q must be at most 200 characters."),
        ("q=a&limit=0", "limit must be a whole number from 1 to 200."),
        ("q=a&limit=201", "limit must be a whole number from 1 to 200."),
        ("q=a&limit=ten", "limit must be a whole number from 1 to 200."),
        ("q=a&limit=-1", "limit must be a whole number from 1 to 200."),
        ("q=a&before=0", "before must be a sequence number (a whole number from 1)."),
        ("q=a&before=1.5", "before must be a sequence number (a whole number from 1)."),
        ("q=a&before=", "before must be a sequence number (a whole number from 1)."),
    ] {
        let response = get(server.addr, &format!("/r/lobby/search?{query}"));
        assert_eq!((response.status, response.body_text()), (400, format!("{reason}\n")), "?{query}");
    }
    // 200 characters (not bytes) is allowed.
    assert_eq!(get(server.addr, &format!("/r/lobby/search?q={}", url_encode(&exactly))).status, 200);
    // A name that is no room's: as the history API answers it.
    for path in ["/r/No!Room/search?q=a", "/r/No!Room/history"] {
        assert_eq!(get(server.addr, path).status, 404, "{path}");
    }
    // And the server is still fine.
    assert_eq!(get(server.addr, "/healthz").status, 200);
}

#[test]
fn the_access_code_is_needed_as_for_history() {
    let data = data_with("club", &long_log());
    let server = start_on(&data, &["--access-code", "open sesame"]);
    let addr = server.addr;
    for path in ["/r/club/history", "/r/club/search?q=needle", "/r/club/export?format=txt"] {
        let refused = get(addr, path);
        assert_eq!(refused.status, 401, "{path}");
        assert!(refused.body_text().contains("access code"), "{path}: {}", refused.body_text());
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer open sesame\r\nConnection: close\r\n\r\n"
        );
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let head = support::read_response(&mut stream, true);
        assert_eq!(head.status, 200, "{path} with the code");
    }
}

#[test]
fn a_private_room_is_found_by_its_name_only() {
    let server = TestServer::start(&[]);
    let private = get(server.addr, "/new").header("Location").unwrap();
    let (mut ann, _) = Client::join_json(&server.ws_url(&format!("{private}/connect?name=ann")));
    ann.say_json("our secret plan");
    ann.recv_message();
    let found: SearchResults = get_json(server.addr, &format!("{private}/search?q=secret"));
    assert_eq!(found.messages.len(), 1);
    assert!(search(&server, "lobby", "q=secret").messages.is_empty());
}

#[test]
fn a_room_in_memory_only_searches_what_it_holds() {
    let server = TestServer::start(&["--memory", "--history", "5"]);
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/mem/connect?name=ann"));
    for i in 1..=8 {
        ann.say_json(&format!("Note {i}"));
        ann.recv_message();
    }
    // It holds the last 5: those are what there is to find.
    let found = search(&server, "mem", "q=note&limit=3");
    assert_eq!((seqs(&found), found.more, found.before), (vec![8, 7, 6], true, Some(6)));
    assert_eq!(seqs(&search(&server, "mem", "q=note&before=6")), [5, 4]);
}

/// A room put away (its memory freed, its log closed) is searched from its log, without being
/// brought back: here the server has no room to bring it back into.
#[test]
fn a_room_put_away_is_searched_from_its_log() {
    let server = TestServer::start(&["--max-rooms", "2"]);
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/old/connect?name=ann"));
    ann.say_json("an old Thought");
    ann.recv_message();
    ann.ws.close(None).unwrap();
    while ann.ws.read().is_ok() {}
    // Two rooms with people in them fill the server: "old" is put away for the second.
    let _x = join_when_there_is_room(&server, "/r/x/connect?name=x");
    let _y = join_when_there_is_room(&server, "/r/y/connect?name=y");
    assert_eq!(seqs(&search(&server, "old", "q=THOUGHT")), [1]);
    let export = get(server.addr, "/r/old/export?format=jsonl");
    assert!(export.body_text().contains("\"text\":\"an old Thought\""), "{}", export.body_text());
    // Still full: "old" was not brought back.
    let mut third = Client::connect_json(&server.ws_url("/r/z/connect?name=z"));
    assert_eq!(u16::from(third.expect_close().code), 1013);
}

/// Joins `path`, asking again while the server answers 1013 (a room just left lets go of its last
/// handle a moment after the Close).
fn join_when_there_is_room(server: &TestServer, path: &str) -> Client {
    support::wait_until(&format!("room for {path}"), || {
        let mut client = Client::connect_json(&server.ws_url(path));
        match client.recv_within(support::TIMEOUT) {
            Some(tungstenite::Message::Text(_)) => Some(client),
            Some(tungstenite::Message::Close(Some(frame))) if u16::from(frame.code) == 1013 => None,
            other => panic!("neither the welcome nor 1013: {other:?}"),
        }
    })
}

#[test]
fn corrupt_lines_are_skipped_and_a_line_being_written_is_not_read() {
    let mut lines = log_line(1, T0, "ann", "first needle");
    lines.push_str("{\"seq\":2,\"needle\0\0\0\n\0\0\0\0\n");
    lines.push_str(&log_line(3, T0 + 3000, "ann", "third needle"));
    let data = data_with("damaged", &lines);
    let server = start_on(&data, &[]);
    assert_eq!(seqs(&search(&server, "damaged", "q=needle")), [3, 1]);
    // Half a line, as if being appended right now: not read until it is whole.
    let path = data.path().join("damaged.jsonl");
    let mut log = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    log.write_all(br#"{"seq":4,"ts":1764190804000,"name":"ann","text":"fourth needle"#).unwrap();
    assert_eq!(seqs(&search(&server, "damaged", "q=needle")), [3, 1]);
    log.write_all(b"\"}\n").unwrap();
    assert_eq!(seqs(&search(&server, "damaged", "q=needle")), [4, 3, 1]);
}
