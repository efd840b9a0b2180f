//! Sharing files: an upload is stored once, posted in the room, served back byte for byte, and
//! survives a restart; a torn or killed upload leaves nothing behind.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;

use chatroom::protocol::json::Event;
use support::upload::{noise, request, upload, upload_head, url_of, PNG};
use support::{read_response, wait_until, Client, TempDir, TestServer, TIMEOUT};

/// The stored files (not their names files, not the temporary folder) under a data dir.
fn stored(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.len() == 64)
        .collect();
    names.sort();
    names
}

/// A JSON client in `room` as `name`, once it is in (its welcome has come).
fn member(server: &TestServer, room: &str, name: &str) -> Client {
    let mut client = Client::connect_json(&server.ws_url(&format!("/r/{room}/connect?name={name}")));
    client.recv_event_where(|event| matches!(event, Event::Notice { .. }));
    client
}

fn temporary(data: &Path) -> usize {
    std::fs::read_dir(data.join("files/tmp")).map(|dir| dir.count()).unwrap_or(0)
}

#[test]
fn files_go_up_and_come_back_byte_for_byte() {
    let server = TestServer::start(&["--max-upload", "65536"]);
    let mut ann = member(&server, "kitchen", "ann");
    for (name, bytes) in [("small.bin", noise(1000)), ("empty.txt", Vec::new()), ("at the cap ✓.bin", noise(65536))] {
        let answer = upload(server.addr, "kitchen", name, "application/octet-stream", &bytes);
        let url = url_of(&answer);
        assert_eq!(answer.header("Location"), Some(url.clone()));
        let message = ann.recv_message();
        let file = message.file.as_ref().expect("the message shares the file");
        assert_eq!((message.name.as_ref(), message.text.as_ref()), ("ann", ""));
        assert_eq!((file.url.as_str(), file.name.as_str(), file.size), (url.as_str(), name, bytes.len() as u64));
        let got = request(server.addr, "GET", &url, "");
        assert_eq!(got.status, 200);
        assert_eq!(got.body, bytes, "{name}");
        assert_eq!(got.header("Content-Length"), Some(bytes.len().to_string()));
        let head = request(server.addr, "HEAD", &url, "");
        assert_eq!(head.header("Content-Length"), Some(bytes.len().to_string()));
    }
    let over = upload(server.addr, "kitchen", "over.bin", "application/octet-stream", &noise(65537));
    assert_eq!(over.status, 413, "{}", over.body_text());
    assert!(over.body_text().contains("65537 bytes, and at most 65536"));
    assert_eq!(stored(server.data_dir().unwrap()).len(), 3);
}

#[test]
fn the_page_sees_a_thumbnail_and_history_replays_the_file() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/kitchen/connect?name=bob"));
    let url = url_of(&upload(server.addr, "kitchen", "cat <1>.png", "image/png", PNG));
    let item = page.recv_containing("class=\"file picture\"");
    assert!(item.contains(&format!(r#"<img src="{url}" alt="cat &lt;1&gt;.png" loading="lazy">"#)), "{item}");
    assert!(url.ends_with("/cat%20%3C1%3E.png"), "{url}");
    let mut late = Client::connect_json(&server.ws_url("/r/kitchen/connect?name=cleo"));
    match late.recv_event_where(|e| matches!(e, Event::History { .. })) {
        Event::History { messages, .. } => {
            assert_eq!(messages[0].message().file.as_ref().unwrap().url, url);
        }
        _ => unreachable!(),
    }
}

#[test]
fn the_same_file_twice_is_stored_once() {
    let server = TestServer::start(&[]);
    let _ann = member(&server, "x", "ann");
    let bytes = noise(5000);
    let first = url_of(&upload(server.addr, "x", "one.bin", "application/octet-stream", &bytes));
    let second = url_of(&upload(server.addr, "x", "two.bin", "application/octet-stream", &bytes));
    let hash = |url: &str| url.split('/').nth(2).unwrap().to_string();
    assert_eq!(hash(&first), hash(&second));
    assert_eq!(stored(server.data_dir().unwrap()), vec![hash(&first)]);
    // Both names lead to it; a name it was never shared under does not.
    assert_eq!(request(server.addr, "GET", &second, "").body, bytes);
    assert_eq!(request(server.addr, "GET", &first, "").body, bytes);
    assert_eq!(request(server.addr, "GET", &format!("/files/{}/three.bin", hash(&first)), "").status, 404);
}

#[test]
fn a_torn_upload_leaves_no_file_and_no_message() {
    let server = TestServer::start(&[]);
    let data = server.data_dir().unwrap();
    let mut ann = member(&server, "x", "ann");
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let head = upload_head(server.addr, "x", "half.bin", "application/octet-stream", 200_000, "");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&noise(100_000)).unwrap();
    wait_until("the upload's temporary file", || (temporary(data) == 1).then_some(()));
    drop(stream);
    wait_until("the temporary file to go", || (temporary(data) == 0).then_some(()));
    assert!(stored(data).is_empty());
    // The next message in the room is the next upload's: the torn one posted nothing.
    let url = url_of(&upload(server.addr, "x", "whole.bin", "application/octet-stream", b"whole"));
    assert_eq!(ann.recv_message().file.unwrap().url, url);
}

#[test]
fn a_body_that_stops_arriving_is_cut_off() {
    let server = TestServer::start(&["--head-timeout", "1"]);
    let _ann = member(&server, "x", "ann");
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let head = upload_head(server.addr, "x", "slow.bin", "application/octet-stream", 1000, "");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(b"a start").unwrap();
    let answer = read_response(&mut stream, false);
    assert_eq!(answer.status, 408, "{}", answer.body_text());
    assert_eq!(temporary(server.data_dir().unwrap()), 0);
}

#[test]
fn a_client_that_waits_for_100_continue_gets_it() {
    let server = TestServer::start(&[]);
    let _ann = member(&server, "x", "ann");
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let head = upload_head(server.addr, "x", "a.txt", "text/plain", 5, "Expect: 100-continue\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream, true).status, 100);
    stream.write_all(b"hello").unwrap();
    assert_eq!(read_response(&mut stream, false).status, 201);
}

#[test]
fn files_survive_a_restart_and_a_kill_during_an_upload_leaves_nothing() {
    let dir = TempDir::new("files-restart");
    let data = dir.path().to_str().unwrap();
    let server = TestServer::start(&["--data-dir", data]);
    let mut ann = member(&server, "x", "ann");
    let url = url_of(&upload(server.addr, "x", "keep.png", "image/png", PNG));
    ann.recv_message();
    // An upload half-way when the server is killed.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let head = upload_head(server.addr, "x", "cut.bin", "application/octet-stream", 100_000, "");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&noise(50_000)).unwrap();
    wait_until("the upload's temporary file", || (temporary(dir.path()) == 1).then_some(()));
    server.signal(libc::SIGKILL);
    drop(server);
    let server = TestServer::start(&["--data-dir", data]);
    server.wait_for_log("an upload that never finished");
    assert_eq!(temporary(dir.path()), 0);
    assert_eq!(stored(dir.path()).len(), 1);
    assert_eq!(request(server.addr, "GET", &url, "").body, PNG);
    let history = support::get_history(server.addr, "/r/x/history");
    let files: Vec<_> = history.messages.iter().filter_map(|entry| entry.message().file.clone()).collect();
    assert_eq!(files.len(), 1, "only the whole upload was posted");
    assert_eq!(files[0].url, url);
    // The quota counts what was there at start.
    let _ann = member(&server, "x", "ann");
    let quota = (PNG.len() + 10).to_string();
    drop(server);
    let server = TestServer::start(&["--data-dir", data, "--files-quota", &quota]);
    let _ann = member(&server, "x", "ann");
    assert_eq!(upload(server.addr, "x", "big.bin", "application/octet-stream", &noise(11)).status, 507);
    assert_eq!(upload(server.addr, "x", "fits.bin", "application/octet-stream", &noise(10)).status, 201);
}
