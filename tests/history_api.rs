//! The history API, `/r/ROOM/history`: paged back at any depth (through a 10,000-message log),
//! and a clear 400 or 404 for every bad parameter or room.

mod support;

use std::collections::HashSet;
use std::path::Path;

use chatroom::protocol::json::{self, Entry, HistoryPage};
use support::{get, get_history, json_message, log_line, rfc3339, Client, TempDir, TestServer};

/// When the fixture logs begin: 2025-11-26T21:00:00Z.
const T0: u64 = 1_764_190_800_000;

const LONG: u64 = 10_000;

fn long_name(seq: u64) -> &'static str {
    ["ann", "bob", "carol <c>"][(seq % 3) as usize]
}

fn long_text(seq: u64) -> String {
    format!("message {seq} {}", "x".repeat((seq % 40) as usize))
}

fn long_ts(seq: u64) -> u64 {
    T0 + seq * 1000 + seq % 1000
}

/// The message JSON clients must get for `seq` of the fixture.
fn long_message(seq: u64) -> json::Message<'static> {
    json_message("big", seq, &rfc3339(long_ts(seq)), long_name(seq), &long_text(seq))
}

/// The entry the API must return for `seq` of the fixture.
fn long_event(seq: u64) -> Entry<'static> {
    Entry::Message(long_message(seq))
}

fn long_page(seqs: std::ops::RangeInclusive<u64>, more: bool) -> HistoryPage<'static> {
    HistoryPage { room: "big".into(), messages: seqs.map(long_event).collect(), more }
}

/// A data dir holding `big.jsonl`, a log of 10,000 messages.
fn long_log() -> TempDir {
    let data = TempDir::new("long");
    let log: String = (1..=LONG).map(|seq| log_line(seq, long_ts(seq), long_name(seq), &long_text(seq))).collect();
    std::fs::write(data.path().join("big.jsonl"), log).unwrap();
    data
}

fn start_on(data: &Path) -> TestServer {
    TestServer::start(&["--data-dir", data.to_str().unwrap()])
}

#[test]
fn the_history_api_pages_through_ten_thousand_messages() {
    let data = long_log();
    let server = start_on(data.path());
    let page = |query: &str| get_history(server.addr, &format!("/r/big/history{query}"));
    // Our own time formatting agrees with the server's on a known instant.
    assert_eq!(rfc3339(T0 + 1_001), "2025-11-26T21:00:01.001Z");

    assert_eq!(page(""), long_page(9_951..=10_000, true), "the default page is the last 50");
    assert_eq!(page("?limit=1"), long_page(10_000..=10_000, true));
    assert_eq!(page("?limit=200"), long_page(9_801..=10_000, true));
    assert_eq!(page("?before=5000&limit=10"), long_page(4_990..=4_999, true));
    assert_eq!(page("?before=5000"), long_page(4_950..=4_999, true));
    assert_eq!(page("?limit=3&before=99999"), long_page(9_998..=10_000, true));
    // The first page: nothing older.
    assert_eq!(page("?before=30"), long_page(1..=29, false));
    assert_eq!(page("?before=51"), long_page(1..=50, false), "exactly a full page, and nothing before it");
    assert_eq!(page("?before=52"), long_page(2..=51, true));
    assert_eq!(page("?before=2&limit=200"), long_page(1..=1, false));
    assert_eq!(page("?before=1"), HistoryPage { room: "big".into(), messages: vec![], more: false });

    // Walking back from the end, 200 at a time, gets every message exactly once, in order.
    let mut seen = Vec::new();
    let mut seen_set = HashSet::new();
    let mut query = "?limit=200".to_string();
    let mut pages = 0;
    loop {
        let got = page(&query);
        pages += 1;
        let messages = &got.messages;
        assert!(!messages.is_empty() && messages.len() <= 200, "page {pages}: {} messages", messages.len());
        let seqs: Vec<u64> = messages.iter().map(|m| m.message().seq).collect();
        for seq in seqs.iter().rev() {
            assert!(seen_set.insert(*seq), "seq {seq} seen twice");
            seen.push(*seq);
        }
        assert_eq!(messages.last().unwrap(), &long_event(seqs[seqs.len() - 1]));
        if !got.more {
            break;
        }
        query = format!("?limit=200&before={}", seqs[0]);
        assert!(pages < 100, "never reached the first page");
    }
    assert_eq!(pages, 50);
    assert_eq!(seen, (1..=LONG).rev().collect::<Vec<_>>());

    // The page's "load older" items.
    let html = get(server.addr, "/r/big/history?before=101&limit=2&format=html");
    assert_eq!(html.status, 200);
    assert!(html.header("Content-Type").unwrap().starts_with("text/html"));
    let item = |seq: u64| {
        let ts = rfc3339(long_ts(seq));
        let name = long_name(seq).replace('<', "&lt;").replace('>', "&gt;");
        format!(
            r#"<li class="message" data-seq="{seq}" data-name="{name}"><time datetime="{ts}">{} UTC</time> <b class="name">{name}</b> <span class="text">{}</span></li>"#,
            &ts[11..16],
            long_text(seq)
        )
    };
    assert_eq!(
        html.body_text(),
        format!(
            r##"<li id="more" class="more"><button type="button" hx-get="/r/big/history?before=99&amp;limit=50&amp;format=html" hx-target="#more" hx-swap="outerHTML">Load older messages</button></li>{}{}"##,
            item(99),
            item(100)
        )
    );
    let html = get(server.addr, "/r/big/history?before=3&format=html").body_text();
    assert_eq!(
        html,
        format!(
            r#"<li id="more" class="more start">This is the start of the conversation.</li>{}{}"#,
            item(1),
            item(2)
        )
    );

    // Joining replays only the tail (the default 100) and numbers on from the log.
    let (mut bot, welcome) = Client::join_json(&server.ws_url("/r/big/connect?name=bot"));
    assert_eq!(welcome.room, "big");
    assert_eq!(welcome.history, (9_901..=LONG).map(long_message).collect::<Vec<_>>());
    assert!(welcome.more);
    bot.say_json("ten thousand and one");
    assert_eq!(bot.recv_message().seq, 10_001);
    assert_eq!(page("?limit=2").messages[1].message().text, "ten thousand and one");
}

#[test]
fn bad_history_parameters_are_400_and_unknown_rooms_are_empty_or_404() {
    let data = long_log();
    let server = start_on(data.path());
    const LIMIT: &str = "limit must be a whole number from 1 to 200.";
    const BEFORE: &str = "before must be a sequence number (a whole number from 1).";
    const FORMAT: &str = "format must be json or html.";
    for (query, why) in [
        ("limit=0", LIMIT),
        ("limit=201", LIMIT),
        ("limit=abc", LIMIT),
        ("limit=-1", LIMIT),
        ("limit=", LIMIT),
        ("limit=1.5", LIMIT),
        ("before=10&limit=0", LIMIT),
        ("before=0", BEFORE),
        ("before=-1", BEFORE),
        ("before=abc", BEFORE),
        ("before=", BEFORE),
        ("before=99999999999999999999999", BEFORE),
        ("before=0&limit=10", BEFORE),
        ("format=xml", FORMAT),
        ("format=", FORMAT),
        ("format=HTML", FORMAT),
    ] {
        let response = get(server.addr, &format!("/r/big/history?{query}"));
        assert_eq!(response.status, 400, "{query}: {}", response.body_text());
        assert_eq!(response.body_text().trim_end(), why, "{query}");
    }
    // The edges that are fine.
    assert_eq!(get(server.addr, "/r/big/history?limit=200&before=1").status, 200);
    assert_eq!(get_history(server.addr, "/r/big/history?format=json&limit=1"), long_page(10_000..=10_000, true));
    // A valid room with no history: an empty list; an invalid room name: 404.
    let nobody = HistoryPage { room: "nobody".into(), messages: vec![], more: false };
    assert_eq!(get_history(server.addr, "/r/nobody/history"), nobody);
    assert_eq!(
        get(server.addr, "/r/nobody/history?format=html").body_text(),
        r#"<li id="more" class="more start">This is the start of the conversation.</li>"#
    );
    assert_eq!(get(server.addr, "/r/bad%20room/history").status, 404);
    assert_eq!(get(server.addr, &format!("/r/{}/history", "a".repeat(33))).status, 404);
}
