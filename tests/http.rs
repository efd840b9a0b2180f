//! The HTTP side: the page, assets, health, and the specific answers to requests we refuse.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{get, http_raw, read_response, TestServer};

#[test]
fn page_has_the_chat_form_and_a_strict_csp() {
    let server = TestServer::start(&[]);
    let page = get(server.addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("Content-Length").unwrap().parse::<usize>().unwrap(), page.body.len());
    let csp = page.header("Content-Security-Policy").expect("CSP header");
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let html = page.body_text();
    for needle in
        [r#"hx-ext="ws""#, r#"ws-connect="/connect?name=guest-"#, "ws-send", r#"name="message""#, r#"id="messages""#]
    {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
    for src in html.split("src=\"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(src.starts_with("/assets/"), "page loads {src} from elsewhere");
        assert_eq!(get(server.addr, src).status, 200, "{src}");
    }
}

#[test]
fn head_requests_get_headers_only() {
    let server = TestServer::start(&[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(support::TIMEOUT)).unwrap();
    let addr = server.addr;
    stream
        .write_all(
            format!("HEAD / HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let head = read_response(&mut stream, true);
    assert_eq!(head.status, 200);
    assert!(head.header("Content-Length").unwrap().parse::<usize>().unwrap() > 100);
    // The next response on the same connection starts right after the head: no body was sent.
    let health = read_response(&mut stream, false);
    assert_eq!((health.status, health.body_text().as_str()), (200, "ok\n"));
}

#[test]
fn healthz_and_keep_alive() {
    let server = TestServer::start(&[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(support::TIMEOUT)).unwrap();
    for _ in 0..3 {
        stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes()).unwrap();
        let response = read_response(&mut stream, false);
        assert_eq!(response.status, 200);
        assert_eq!(response.body_text(), "ok\n");
        assert_eq!(response.header("Connection").as_deref(), Some("keep-alive"));
    }
}

#[test]
fn assets_have_cache_headers_and_revalidate() {
    let server = TestServer::start(&[]);
    let htmx = get(server.addr, "/assets/htmx-2.0.11.min.js");
    assert_eq!(htmx.status, 200);
    assert!(htmx.header("Content-Type").unwrap().starts_with("text/javascript"));
    assert!(htmx.header("Cache-Control").unwrap().contains("immutable"));
    let app = get(server.addr, "/assets/app.js");
    assert_eq!(app.header("Cache-Control").as_deref(), Some("no-cache"));
    let etag = app.header("ETag").expect("ETag");
    let again = http_raw(
        server.addr,
        format!(
            "GET /assets/app.js HTTP/1.1\r\nHost: {}\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[test]
fn refusals_are_specific() {
    let server = TestServer::start(&[]);
    let addr = server.addr;

    let plain = get(addr, "/connect");
    assert_eq!(plain.status, 426);
    assert!(plain.body_text().contains("WebSocket"), "{}", plain.body_text());
    assert_eq!(plain.header("Upgrade").as_deref(), Some("websocket"));

    let upgrade = |extra: &str| {
        http_raw(
            addr,
            format!(
                "GET /connect HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}Connection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let version = upgrade("Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    assert_eq!(version.status, 426);
    assert_eq!(version.header("Sec-WebSocket-Version").as_deref(), Some("13"));
    let key = upgrade("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not-a-key\r\n");
    assert_eq!(key.status, 400);
    assert!(key.body_text().contains("Sec-WebSocket-Key"));
    let no_key = upgrade("Sec-WebSocket-Version: 13\r\n");
    assert_eq!(no_key.status, 400);

    let missing = get(addr, "/nothing-here");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(get(addr, "/echo").status, 404, "/echo exists only with --echo");
    assert_eq!(get(addr, "/assets/../Cargo.toml").status, 404);
    assert_eq!(get(addr, "/assets/%2e%2e/Cargo.toml").status, 404);

    let post = http_raw(addr, format!("POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 3\r\n\r\nabc").as_bytes());
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow").as_deref(), Some("GET, HEAD"));
    assert_eq!(http_raw(addr, format!("DELETE /connect HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).status, 405);

    assert_eq!(
        http_raw(addr, format!("GET / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 4\r\n\r\nbody").as_bytes()).status,
        400
    );
    assert_eq!(http_raw(addr, b"GET /\x01 HTTP/1.1\r\n\r\n").status, 400);
    assert_eq!(http_raw(addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").status, 505);

    // The server is still fine.
    assert_eq!(get(addr, "/healthz").status, 200);
}

#[test]
fn oversized_and_slow_heads_are_cut_off() {
    let server = TestServer::start(&["--head-timeout", "1"]);
    let huge = format!("GET / HTTP/1.1\r\nHost: {}\r\nX-Pad: {}\r\n\r\n", server.addr, "a".repeat(20_000));
    assert_eq!(http_raw(server.addr, huge.as_bytes()).status, 431);
    let many: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(http_raw(server.addr, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).status, 431);

    // A slowloris head: the first bytes, then nothing. The deadline (1 s here) answers 408.
    let started = Instant::now();
    let slow = http_raw(server.addr, format!("GET / HTTP/1.1\r\nHost: {}\r\n", server.addr).as_bytes());
    assert_eq!(slow.status, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(get(server.addr, "/healthz").status, 200);
}
