//! Every upload the server refuses, each with its status and a sentence saying why, decided
//! before the body is read wherever the head is enough.

mod support;

use chatroom::protocol::json::Event;
use support::upload::{noise, request, upload, upload_with};
use support::{http_raw, Client, TestServer};

fn member(server: &TestServer, room: &str, name: &str) -> Client {
    let mut client = Client::connect_json(&server.ws_url(&format!("/r/{room}/connect?name={name}")));
    client.recv_event_where(|event| matches!(event, Event::Notice { .. }));
    client
}

fn refused(answer: &support::RawResponse, status: u16, why: &str) {
    assert_eq!(answer.status, status, "{}", answer.body_text());
    assert!(answer.body_text().contains(why), "{status}: {}", answer.body_text());
}

#[test]
fn only_a_member_of_the_room_from_this_page_may_upload() {
    let server = TestServer::start(&[]);
    let addr = server.addr;
    refused(&upload(addr, "x", "a.txt", "text/plain", b"hi"), 403, "join it first");
    let _ann = member(&server, "x", "ann");
    refused(&upload(addr, "elsewhere", "a.txt", "text/plain", b"hi"), 403, "join it first");
    let cross = upload_with(addr, "x", "a.txt", "text/plain", b"hi", "Origin: http://evil.example\r\n");
    // Two Origin headers (ours and evil's) are refused as well as a foreign one alone.
    refused(&cross, 403, "Cross-site upload refused");
    let head = format!(
        "POST /r/x/files?name=a.txt HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nContent-Length: 2\r\n\r\nhi"
    );
    refused(&http_raw(addr, head.as_bytes()), 403, "Cross-site upload refused");
    // No Origin at all: not a browser (curl, a script), which the access code governs instead.
    let head = format!("POST /r/x/files?name=a.txt HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(http_raw(addr, head.as_bytes()).status, 201);
    // ?member= names one of this address's members, and nobody else.
    let by_name =
        format!("POST /r/x/files?name=a.txt&member=bob HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\n\r\nhi");
    refused(&http_raw(addr, by_name.as_bytes()), 403, "Nobody of that name");
}

#[test]
fn several_members_from_one_address_upload_as_the_one_named() {
    let server = TestServer::start(&[]);
    let mut ann = member(&server, "x", "ann");
    let _bob = member(&server, "x", "bob");
    let addr = server.addr;
    let as_bob =
        format!("POST /r/x/files?name=b.txt&member=bob HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(http_raw(addr, as_bob.as_bytes()).status, 201);
    assert_eq!(ann.recv_message().name, "bob");
    assert_eq!(upload(addr, "x", "a.txt", "text/plain", b"hi").status, 201);
    assert_eq!(ann.recv_message().name, "ann", "without ?member=, the one that came first");
}

#[test]
fn bad_names_and_framing_are_refused_with_a_reason() {
    let server = TestServer::start(&[]);
    let addr = server.addr;
    let _ann = member(&server, "x", "ann");
    for (name, why) in [
        ("", "needs a name"),
        ("..", "cannot be called"),
        ("a\nb.txt", "control characters"),
        ("../../etc/passwd", "cannot hold /"),
        (&"n".repeat(256), "too long"),
    ] {
        refused(&upload(addr, "x", name, "text/plain", b"hi"), 400, why);
    }
    let chunked = format!(
        "POST /r/x/files?name=a HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
    );
    refused(&http_raw(addr, chunked.as_bytes()), 400, "Transfer-Encoding is not accepted");
    let no_length = format!("POST /r/x/files?name=a HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    refused(&http_raw(addr, no_length.as_bytes()), 411, "Content-Length");
    refused(&request(addr, "GET", "/r/x/files", ""), 405, "POST");
    assert_eq!(request(addr, "PUT", "/r/x/files", "Content-Length: 0\r\n").header("Allow").as_deref(), Some("POST"));
    refused(&upload(addr, "Not%20a%20room", "a.txt", "text/plain", b"hi"), 404, "");
}

#[test]
fn the_rate_and_the_quota_hold() {
    let server = TestServer::start(&["--upload-rate", "2", "--files-quota", "100"]);
    let addr = server.addr;
    let _ann = member(&server, "x", "ann");
    // Refused for the quota: it does not count towards the rate.
    refused(&upload(addr, "x", "big.bin", "application/octet-stream", &noise(101)), 507, "--files-quota");
    assert_eq!(upload(addr, "x", "a.bin", "application/octet-stream", &noise(10)).status, 201);
    assert_eq!(upload(addr, "x", "b.bin", "application/octet-stream", &noise(11)).status, 201);
    let over = upload(addr, "x", "c.bin", "application/octet-stream", &noise(12));
    refused(&over, 429, "Too many uploads");
    let retry: u64 = over.header("Retry-After").unwrap().parse().unwrap();
    assert!((590..=600).contains(&retry), "{retry}");
}

#[test]
fn the_quota_is_checked_when_the_rate_allows() {
    let server = TestServer::start(&["--files-quota", "100"]);
    let _ann = member(&server, "x", "ann");
    assert_eq!(upload(server.addr, "x", "a.bin", "application/octet-stream", &noise(60)).status, 201);
    refused(&upload(server.addr, "x", "b.bin", "application/octet-stream", &noise(41)), 507, "no room left");
}

#[test]
fn without_a_data_directory_there_is_no_file_sharing() {
    let server = TestServer::start(&["--memory"]);
    let _ann = member(&server, "x", "ann");
    refused(&upload(server.addr, "x", "a.txt", "text/plain", b"hi"), 409, "needs a data directory");
    // The page shows no attach button then.
    let page = support::get(server.addr, "/r/x").body_text();
    assert!(page.contains(r#"id="attach" class="attach off""#), "{page}");
    let with_files = TestServer::start(&[]);
    let page = support::get(with_files.addr, "/").body_text();
    assert!(page.contains(r#"class="attach" data-upload="/r/lobby/files" data-max-upload="26214400""#), "{page}");
    refused(&request(server.addr, "GET", &format!("/files/{}/a.txt", "0".repeat(64)), ""), 404, "No such file");
}

#[test]
fn the_access_code_guards_uploads_and_downloads() {
    let server = TestServer::start(&["--access-code", "sesame"]);
    let addr = server.addr;
    refused(&upload(addr, "x", "a.txt", "text/plain", b"hi"), 401, "needs an access code");
    refused(&request(addr, "GET", &format!("/files/{}/a.txt", "0".repeat(64)), ""), 401, "needs an access code");
    let mut ann = Client::try_connect(
        &server.ws_url("/r/x/connect?name=ann"),
        &[("Sec-WebSocket-Protocol", "chatroom.json"), ("Authorization", "Bearer sesame")],
    )
    .unwrap();
    ann.recv_event_where(|event| matches!(event, Event::Notice { .. }));
    let answer = upload_with(addr, "x", "a.txt", "text/plain", b"hi", "Authorization: Bearer sesame\r\n");
    let url = support::upload::url_of(&answer);
    assert_eq!(request(addr, "GET", &url, "Authorization: Bearer sesame\r\n").body, b"hi");
}

#[test]
fn too_big_is_refused_from_the_head_and_the_answer_arrives() {
    let server = TestServer::start(&["--max-upload", "1000"]);
    let _ann = member(&server, "x", "ann");
    // The client sends the whole 2 MB body regardless; the server answers from the head, reads
    // and drops the rest for a moment, and the client gets the 413 rather than a reset.
    let answer = upload(server.addr, "x", "big.bin", "application/octet-stream", &noise(2_000_000));
    refused(&answer, 413, "at most 1000 may be shared");
}
