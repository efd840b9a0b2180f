//! Downloads: what is shown inline and what is saved, the headers that keep a file from acting
//! in our name, caching, and ranges.

mod support;

use chatroom::protocol::json::Event;
use support::upload::{noise, request, upload, url_of, GIF, HTML, JPEG, PNG, SVG, WEBP};
use support::{Client, TestServer};

fn member(server: &TestServer) -> Client {
    let mut client = Client::connect_json(&server.ws_url("/r/x/connect?name=ann"));
    client.recv_event_where(|event| matches!(event, Event::Notice { .. }));
    client
}

#[test]
fn only_pictures_and_text_whose_bytes_agree_are_inline() {
    let server = TestServer::start(&[]);
    let _ann = member(&server);
    let cases: [(&str, &str, &[u8], &str, &str); 10] = [
        ("a.png", "image/png", PNG, "image/png", "inline"),
        ("a.jpg", "image/jpeg", JPEG, "image/jpeg", "inline"),
        ("a.gif", "image/gif", GIF, "image/gif", "inline"),
        ("a.webp", "image/webp", WEBP, "image/webp", "inline"),
        ("a.txt", "text/plain; charset=utf-8", "héllo\n".as_bytes(), "text/plain; charset=utf-8", "inline"),
        ("a.svg", "image/svg+xml", SVG, "image/svg+xml", "attachment"),
        ("a.html", "text/html", HTML, "text/html", "attachment"),
        ("fake.png", "image/png", HTML, "application/octet-stream", "attachment"),
        ("fake.txt", "text/plain", &[0x68, 0, 0x69], "application/octet-stream", "attachment"),
        ("a.pdf", "application/pdf", b"%PDF-1.4\n%...", "application/pdf", "attachment"),
    ];
    for (name, declared, bytes, served, disposition) in cases {
        let answer = upload(server.addr, "x", name, declared, bytes);
        let file: chatroom::protocol::attachment::SharedFile = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(file.media_type, served.split(';').next().unwrap(), "{name}");
        let got = request(server.addr, "GET", &file.url, "");
        assert_eq!(got.body, bytes, "{name}");
        assert_eq!(got.header("Content-Type").as_deref(), Some(served), "{name}");
        assert_eq!(got.header("Content-Disposition"), Some(format!("{disposition}; filename=\"{name}\"")), "{name}");
        assert_eq!(got.header("X-Content-Type-Options").as_deref(), Some("nosniff"));
        assert_eq!(got.header("Content-Security-Policy").as_deref(), Some("default-src 'none'; sandbox"));
    }
    // Without a type at all: unknown, saved.
    let url = url_of(&upload(server.addr, "x", "blob", "", &noise(10)));
    let got = request(server.addr, "GET", &url, "");
    assert_eq!(got.header("Content-Type").as_deref(), Some("application/octet-stream"));
    assert!(got.header("Content-Disposition").unwrap().starts_with("attachment"));
}

#[test]
fn a_name_outside_ascii_is_kept_exactly() {
    let server = TestServer::start(&[]);
    let _ann = member(&server);
    let url = url_of(&upload(server.addr, "x", "résumé \"v2\".pdf", "application/pdf", b"%PDF"));
    let got = request(server.addr, "GET", &url, "");
    assert_eq!(
        got.header("Content-Disposition").as_deref(),
        Some("attachment; filename=\"r_sum_ v2.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf")
    );
}

#[test]
fn files_are_cached_for_good_and_revalidated_by_their_hash() {
    let server = TestServer::start(&[]);
    let _ann = member(&server);
    let url = url_of(&upload(server.addr, "x", "a.png", "image/png", PNG));
    let hash = url.split('/').nth(2).unwrap();
    let got = request(server.addr, "GET", &url, "");
    assert_eq!(got.header("ETag"), Some(format!("\"{hash}\"")));
    assert_eq!(got.header("Cache-Control").as_deref(), Some("private, max-age=31536000, immutable"));
    assert_eq!(got.header("Accept-Ranges").as_deref(), Some("bytes"));
    let same = request(server.addr, "GET", &url, &format!("If-None-Match: \"x\", \"{hash}\"\r\n"));
    assert_eq!((same.status, same.body.len()), (304, 0));
    assert_eq!(same.header("ETag"), Some(format!("\"{hash}\"")));
    assert_eq!(request(server.addr, "GET", &url, "If-None-Match: \"other\"\r\n").status, 200);
    // Unknown hashes, wrong names, and anything that is not a hash: 404.
    for path in [
        format!("/files/{}/a.png", "0".repeat(64)),
        format!("/files/{hash}/b.png"),
        format!("/files/{hash}"),
        format!("/files/{}/a.png", hash.to_uppercase()),
        "/files/../files/a.png".to_string(),
        format!("/files/{hash}/a.png%ZZ"),
    ] {
        assert_eq!(request(server.addr, "GET", &path, "").status, 404, "{path}");
    }
}

#[test]
fn one_range_is_served_and_others_are_answered_as_rfc_9110_says() {
    let server = TestServer::start(&[]);
    let _ann = member(&server);
    let bytes = noise(10_000);
    let url = url_of(&upload(server.addr, "x", "video.bin", "application/octet-stream", &bytes));
    let part = |range: &str| request(server.addr, "GET", &url, &format!("Range: {range}\r\n"));
    for (range, first, last) in [("bytes=0-99", 0, 99), ("bytes=9000-", 9000, 9999), ("bytes=-10", 9990, 9999)] {
        let got = part(range);
        assert_eq!(got.status, 206, "{range}");
        assert_eq!(got.body, &bytes[first..=last], "{range}");
        assert_eq!(got.header("Content-Range"), Some(format!("bytes {first}-{last}/10000")));
        assert_eq!(got.header("Content-Length"), Some((last - first + 1).to_string()));
    }
    let beyond = part("bytes=10000-");
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("Content-Range").as_deref(), Some("bytes */10000"));
    // Several ranges, or one that does not parse: the whole file.
    for whole in ["bytes=0-1,5-6", "bytes=x-y", "lines=1-2"] {
        let got = part(whole);
        assert_eq!((got.status, got.body.len()), (200, 10_000), "{whole}");
    }
    // If-Range with another tag: the file has changed as far as the client knows, so all of it.
    let stale = request(server.addr, "GET", &url, "Range: bytes=0-9\r\nIf-Range: \"old\"\r\n");
    assert_eq!((stale.status, stale.body.len()), (200, 10_000));
    // HEAD ignores Range (RFC 9110 §14.2: defined for GET only).
    let head = request(server.addr, "HEAD", &url, "Range: bytes=0-9\r\n");
    assert_eq!((head.status, head.header("Content-Length").as_deref()), (200, Some("10000")));
}

/// A big file (over 1 MiB: moved in steps, paced while chat goes on, written out to the disk as
/// it comes: `files::transfer`) goes up and comes back byte for byte, whole and in part, while
/// another room chats the whole time, and the chat loses nothing.
#[test]
fn a_big_file_moves_whole_while_another_room_chats() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = TestServer::start(&["--rate-limit", "0"]);
    let _ann = member(&server);
    let (mut a, _) = Client::join_json(&server.ws_url("/r/busy/connect?name=a"));
    let (mut b, _) = Client::join_json(&server.ws_url("/r/busy/connect?name=b"));
    let bytes = noise(5 * 1024 * 1024 + 4321);
    let done = AtomicBool::new(false);
    let chatted = std::thread::scope(|scope| {
        // Each message waits for the last one's arrival, so relays go on throughout, boundedly.
        let chat = scope.spawn(|| {
            let mut said = 0;
            while !done.load(Ordering::Relaxed) && said < 100_000 {
                a.say_json(&format!("line {said}"));
                assert_eq!(b.recv_message().text, format!("line {said}"));
                said += 1;
            }
            said
        });
        let url = url_of(&upload(server.addr, "x", "big.bin", "application/octet-stream", &bytes));
        let whole = request(server.addr, "GET", &url, "");
        let part = request(server.addr, "GET", &url, "Range: bytes=1000000-2999999\r\n");
        done.store(true, Ordering::Relaxed);
        assert_eq!((whole.status, whole.body.len()), (200, bytes.len()));
        assert!(whole.body == bytes, "the file came back changed");
        assert_eq!(part.status, 206);
        assert!(part.body == bytes[1_000_000..3_000_000], "the range came back changed");
        chat.join().unwrap()
    });
    assert!(chatted > 0, "the other room chatted while the file moved");
}
