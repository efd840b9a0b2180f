//! Who is who: the member id cookie, the author hash in the log (never the id, never relayed),
//! and the host key (link, cookie, bearer, wrong guesses slowed down).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::*;

fn set_cookie(response: &RawResponse, name: &str) -> Option<String> {
    response
        .head
        .lines()
        .filter_map(|line| line.strip_prefix("Set-Cookie: ").or_else(|| line.strip_prefix("set-cookie: ")))
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn get_with(server: &TestServer, path: &str, headers: &str) -> RawResponse {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}Connection: close\r\n\r\n", server.addr);
    http_raw(server.addr, request.as_bytes())
}

#[test]
fn the_page_gives_a_browser_a_member_id_once_and_replaces_a_malformed_one() {
    let server = TestServer::start(&[]);
    let first = get(server.addr, "/");
    let cookie = set_cookie(&first, "chatroom_id").expect("an id cookie on the first visit");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let id = cookie.split(';').next().unwrap().trim_start_matches("chatroom_id=").to_string();
    assert_eq!(id.len(), 26);
    assert!(id.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)), "{id}");
    // Kept: no new id for a browser that has one.
    let again = get_with(&server, "/", &format!("Cookie: chatroom_id={id}\r\n"));
    assert_eq!(again.status, 200);
    assert_eq!(set_cookie(&again, "chatroom_id"), None);
    // Malformed: replaced, never an error page.
    let bad = get_with(&server, "/", "Cookie: chatroom_id=not-an-id\r\n");
    assert_eq!(bad.status, 200);
    let fresh = set_cookie(&bad, "chatroom_id").expect("a malformed id is replaced");
    assert!(!fresh.contains("not-an-id"));
}

#[test]
fn the_log_stores_a_hash_of_the_id_and_the_relay_sends_neither() {
    let server = TestServer::start(&[]);
    let id = "abcdefghijklmnopqrstuvwxyz";
    let cookie = format!("chatroom_id={id}");
    let (mut ann, _) = Client::join_json_with(&server.ws_url("/connect?name=ann"), &[("Cookie", &cookie)]);
    ann.say_json("hello");
    let raw = ann.recv_event_text_where(|e| matches!(e, chatroom::protocol::json::Event::Message(_))).1;
    let page = get(server.addr, "/");
    let log_path = server.data_dir().unwrap().join("lobby.jsonl");
    let log = wait_until("the message in the log", || {
        std::fs::read_to_string(&log_path).ok().filter(|l| l.contains("hello"))
    });
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let by = line["by"].as_str().expect("an author in the log line").to_string();
    assert_eq!(by.len(), 24);
    assert!(!log.contains(id), "the log never holds the id itself");
    assert!(!raw.contains(id) && !raw.contains(&by), "the relay carries neither: {raw}");
    assert!(!page.body_text().contains(&by));
}

#[test]
fn the_host_link_sets_a_strict_cookie_and_a_wrong_key_is_refused_then_slowed() {
    let server = TestServer::start(&["--host-key", HOST_KEY]);
    let right = get(server.addr, &format!("/host?key={HOST_KEY}"));
    assert_eq!(right.status, 303);
    assert_eq!(right.header("Location").as_deref(), Some("/"));
    let cookie = set_cookie(&right, "chatroom_host").expect("the host cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(HOST_KEY), "the cookie does not hold the key");
    assert_eq!(get(server.addr, "/host").status, 403, "no key");
    for _ in 0..5 {
        let wrong = get(server.addr, "/host?key=wrong-key-0123456789");
        assert_eq!(wrong.status, 403);
        assert!(wrong.body_text().contains("not the host key"));
    }
    let slowed = get(server.addr, &format!("/host?key={HOST_KEY}"));
    assert_eq!(slowed.status, 429, "even the right key waits after five wrong ones");
    assert!(slowed.header("Retry-After").is_some());
}

#[test]
fn a_wrong_bearer_on_the_upgrade_is_refused() {
    let server = TestServer::start(&["--host-key", HOST_KEY]);
    let refused = Client::try_connect(
        &server.ws_url("/connect"),
        &[("Sec-WebSocket-Protocol", "chatroom.json"), ("Authorization", "Bearer not-the-key-at-all")],
    );
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| "a WebSocket")),
    }
    let auth = format!("Bearer {HOST_KEY}");
    let (_host, welcome) = Client::join_json_with(&server.ws_url("/connect?name=teacher"), &[("Authorization", &auth)]);
    assert_eq!(welcome.name, "teacher");
}

#[test]
fn the_host_link_is_printed_after_the_urls_and_is_new_at_each_start() {
    let key_of = || {
        let data = TempDir::new("host-print");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatroom"))
            .args(["--bind", "127.0.0.1:0", "--data-dir", data.path().to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.trim_start_matches("chatroom listening on http://").to_string();
        let host = lines.next().unwrap().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let link = host.trim().strip_prefix("host:").expect(&host).trim().to_string();
        let prefix = format!("http://{addr}/host?key=");
        assert!(link.starts_with(&prefix), "{link}");
        link[prefix.len()..].to_string()
    };
    let (one, two) = (key_of(), key_of());
    assert_eq!(one.len(), 26);
    assert_ne!(one, two, "a new key at each start");
}
