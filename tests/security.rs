//! Security: the Origin check, the access code, and escaping checked byte for byte against a
//! corpus of XSS payloads.

mod support;

use std::io::Write;
use std::net::TcpStream;

use support::{get, http_raw, read_response, wait_until, Client, TestServer, TIMEOUT};

#[test]
fn cross_origin_websockets_are_refused() {
    let server = TestServer::start(&["--allow-origin", "https://chat.example.org"]);
    let url = server.ws_url("/connect");
    match Client::try_connect(&url, &[("Origin", "http://evil.example")]) {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("Cross-origin WebSocket refused"), "{body}");
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    assert!(Client::try_connect(&url, &[("Origin", "null")]).is_err());
    // Same origin, an allowed origin, and no Origin at all (not a browser) are fine.
    let same = format!("http://{}", server.addr);
    Client::try_connect(&url, &[("Origin", same.as_str())]).expect("same origin");
    Client::try_connect(&url, &[("Origin", "https://chat.example.org")]).expect("allowed origin");
    Client::try_connect(&url, &[]).expect("no origin");
}

/// `GET path` naming `host` in the `Host` header.
fn get_for(server: &TestServer, host: &str, path: &str) -> support::RawResponse {
    http_raw(server.addr, format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
}

/// A WebSocket upgrade of the lobby from a page of `origin`, naming `host`: the 101's status, or
/// the refusal's status and body.
fn upgrade_for(server: &TestServer, host: &str, origin: &str) -> (u16, String) {
    match Client::try_connect(&server.ws_url("/connect"), &[("Host", host), ("Origin", origin)]) {
        Ok(_) => (101, String::new()),
        Err(tungstenite::Error::Http(response)) => {
            (response.status().as_u16(), String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into())
        }
        Err(e) => panic!("upgrade for {host}: {e}"),
    }
}

/// DNS rebinding: a page from rebind.evil.example, whose name now resolves to this server, sends a
/// `Host` and an `Origin` that agree, so only the `Host` check stands between it and the chat.
#[test]
fn requests_for_another_host_are_misdirected() {
    let server = TestServer::start(&[]);
    let port = server.addr.port();
    let evil = format!("rebind.evil.example:{port}");
    let (status, body) = upgrade_for(&server, &evil, &format!("http://{evil}"));
    assert_eq!(status, 421, "the upgrade: {body}");
    assert!(body.contains("--allow-host"), "{body}");
    for path in ["/r/lobby/history", "/", "/api/rooms", "/assets/app.js", "/healthz", "/metrics"] {
        let refused = get_for(&server, &evil, path);
        assert_eq!(refused.status, 421, "{path}: {}", refused.body_text());
        assert_eq!(
            refused.body_text(),
            "This server does not answer for rebind.evil.example; to serve it under that name, start it with \
             --allow-host rebind.evil.example.\n"
        );
    }
    // This server's own names, with its port, are answered.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        assert_eq!(get_for(&server, &host, "/r/lobby/history").status, 200, "{host}");
        assert_eq!(upgrade_for(&server, &host, &format!("http://{host}")).0, 101, "{host}");
    }
}

/// Behind a reverse proxy, requests name the proxy's public name: `--allow-host` admits it.
#[test]
fn allowed_host_names_are_answered() {
    let server = TestServer::start(&["--allow-host", "chat.example.org"]);
    for host in ["chat.example.org", "Chat.Example.Org.", "chat.example.org:443"] {
        assert_eq!(get_for(&server, host, "/r/lobby/history").status, 200, "{host}");
    }
    assert_eq!(upgrade_for(&server, "chat.example.org", "https://chat.example.org").0, 101);
    assert_eq!(get_for(&server, "evil.example.org", "/").status, 421);
    assert_eq!(upgrade_for(&server, "evil.example.org", "https://evil.example.org").0, 421);
}

/// POSTs the login form; returns the response.
fn login(server: &TestServer, body: &str) -> support::RawResponse {
    http_raw(
        server.addr,
        format!(
            "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            server.addr,
            body.len()
        )
        .as_bytes(),
    )
}

#[test]
fn the_access_code_guards_everything_but_its_form() {
    let server = TestServer::start(&["--access-code", "open sesame"]);
    let page = get(server.addr, "/");
    assert_eq!(page.status, 401);
    assert!(page.body_text().contains(r#"action="/login""#) && !page.body_text().contains("ws-connect"));
    assert_eq!(get(server.addr, "/r/kitchen").status, 401);
    assert_eq!(get(server.addr, "/api/rooms").status, 401);
    assert_eq!(get(server.addr, "/healthz").status, 200, "health checks need no code");
    assert_eq!(get(server.addr, "/assets/style.css").status, 200, "the form's stylesheet");
    match Client::try_connect(&server.ws_url("/connect"), &[]) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }

    let wrong = login(&server, "code=nope&next=%2Fr%2Fkitchen");
    assert_eq!(wrong.status, 401);
    assert!(wrong.body_text().contains("That code is not right."));

    let right = login(&server, "code=open+sesame&next=%2Fr%2Fkitchen");
    assert_eq!(right.status, 303);
    assert_eq!(right.header("Location").as_deref(), Some("/r/kitchen"));
    let cookie = right.header("Set-Cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let token = session.split('=').nth(1).unwrap();
    assert_eq!(token.len(), 64, "its time, a nonce and its signature, in hex");

    let with_cookie = http_raw(
        server.addr,
        format!("GET / HTTP/1.1\r\nHost: {}\r\nCookie: {session}\r\n\r\n", server.addr).as_bytes(),
    );
    assert_eq!(with_cookie.status, 200);
    assert!(with_cookie.body_text().contains("ws-connect"));
    let (mut member, _) = {
        let mut client =
            Client::try_connect(&server.ws_url("/connect"), &[("Cookie", session.as_str())]).expect("cookie");
        let welcome = client.recv_raw_text();
        (client, welcome)
    };
    member.say("inside");
    member.recv_containing(">inside<");
    // Non-browser clients can present the code itself.
    Client::try_connect(&server.ws_url("/connect"), &[("Authorization", "Bearer open sesame")]).expect("bearer");
    assert!(Client::try_connect(&server.ws_url("/connect"), &[("Authorization", "Bearer nope")]).is_err());
    // A forged session token does not work.
    let forged = http_raw(
        server.addr,
        format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nCookie: chatroom_session=00000000000000000000000000000000\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    );
    assert_eq!(forged.status, 401);
}

/// GET / with a session cookie: 200 if the session is good, 401 (the form) if not.
fn page_with_session(server: &TestServer, session: &str) -> u16 {
    let request = format!("GET / HTTP/1.1\r\nHost: {}\r\nCookie: {session}\r\n\r\n", server.addr);
    http_raw(server.addr, request.as_bytes()).status
}

/// Issue 12: sessions lived only in memory, so every browser typed the code again after an
/// upgrade. Now they are signed with a secret kept in the data dir, and a new code ends them.
#[test]
fn sessions_survive_a_restart_and_end_with_a_new_code() {
    let data = support::TempDir::new("sessions");
    let dir = data.path().to_str().unwrap();
    let server = TestServer::start(&["--data-dir", dir, "--access-code", "open sesame"]);
    let right = login(&server, "code=open+sesame&next=%2F");
    let session = right.header("Set-Cookie").unwrap().split(';').next().unwrap().to_string();
    assert_eq!(page_with_session(&server, &session), 200);
    drop(server);
    // The secret is the server's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.path().join("session.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "session.key is readable by others: {mode:o}");

    let server = TestServer::start(&["--data-dir", dir, "--access-code", "open sesame"]);
    assert_eq!(page_with_session(&server, &session), 200, "the session did not survive a restart");
    drop(server);
    let server = TestServer::start(&["--data-dir", dir, "--access-code", "new code"]);
    assert_eq!(page_with_session(&server, &session), 401, "a new code must end old sessions");
}

#[test]
fn wrong_codes_are_rate_limited_per_ip() {
    let server = TestServer::start(&["--access-code", "right"]);
    for _ in 0..5 {
        assert_eq!(login(&server, "code=wrong").status, 401);
    }
    let blocked = login(&server, "code=right");
    assert_eq!(blocked.status, 429);
    assert!(blocked.header("Retry-After").unwrap().parse::<u64>().unwrap() > 0);
    server.wait_for_log("wrong access code from 127.0.0.1");
}

/// Every way of presenting the code is a guess against the same per-address limit: bearer
/// tokens on the API, pipelined on one keep-alive connection, once took 33,500 guesses in 1.4 s.
#[test]
fn wrong_bearer_tokens_are_rate_limited_and_logged_like_the_form() {
    let server = TestServer::start(&["--access-code", "s3same-0pen"]);
    let addr = server.addr;
    let api = |code: &str| format!("GET /api/rooms HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {code}\r\n\r\n");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let guesses: String = (0..8).map(|i| api(&format!("guess{i}"))).collect();
    stream.write_all(guesses.as_bytes()).unwrap();
    let answers: Vec<support::RawResponse> = (0..8).map(|_| read_response(&mut stream, false)).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429], "on one keep-alive connection");
    for blocked in &answers[5..] {
        assert!(blocked.header("Retry-After").unwrap().parse::<u64>().unwrap() > 0, "{}", blocked.head);
    }
    // While blocked, the right code is refused too, however it is presented.
    assert_eq!(http_raw(addr, api("s3same-0pen").as_bytes()).status, 429);
    assert_eq!(login(&server, "code=s3same-0pen").status, 429);
    match Client::try_connect(&server.ws_url("/connect"), &[("Authorization", "Bearer s3same-0pen")]) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // Each counted guess is logged, and only those: the blocked ones cost nothing more.
    let log = wait_until("five logged guesses", || {
        let log = server.log();
        (log.matches("wrong access code from 127.0.0.1").count() == 5).then_some(log)
    });
    assert!(!log.contains("s3same") && !log.contains("guess"), "neither the code nor a guess is logged:\n{log}");
}

/// A WebSocket upgrade with a wrong bearer token is a guess like any other.
#[test]
fn wrong_bearer_tokens_on_websocket_upgrades_count_against_the_limit() {
    let server = TestServer::start(&["--access-code", "s3same-0pen"]);
    for i in 0..5 {
        let guess = format!("Bearer guess{i}");
        match Client::try_connect(&server.ws_url("/connect"), &[("Authorization", guess.as_str())]) {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }
    let blocked = login(&server, "code=s3same-0pen");
    assert_eq!(blocked.status, 429, "{}", blocked.body_text());
    assert!(blocked.header("Retry-After").is_some());
    server.wait_for_log("wrong access code from 127.0.0.1");
}

#[test]
fn the_login_form_body_is_checked() {
    let server = TestServer::start(&["--access-code", "right"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nabcd",
                server.addr
            )
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(read_response(&mut stream, false).status, 415);
    let no_length = http_raw(
        server.addr,
        format!(
            "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    );
    assert_eq!(no_length.status, 411);
    let huge = http_raw(
        server.addr,
        format!(
            "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 99999\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    );
    assert_eq!(huge.status, 413);
    // An open redirect through `next` is not possible.
    let right = login(&server, "code=right&next=%2F%2Fevil.example");
    assert_eq!(right.header("Location").as_deref(), Some("/"));
}

/// An independent escaper for the expected bytes (not the server's own function).
fn expected_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "'><iframe src=javascript:alert(1)>",
    "</textarea><script>alert(document.cookie)</script>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "&lt;already escaped&gt; &amp; &#x3C;",
    "<style>@import 'http://evil'</style>",
    "<div hx-get=\"/api/rooms\" hx-trigger=\"load\">htmx</div>",
    "<ul id=\"roster\" hx-swap-oob=\"true\"><li>fake</li></ul>",
    "{{room}} {{name}}",
    "<!-- comment --><![CDATA[x]]>",
    "\u{202E}<b>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
];

#[test]
fn xss_payloads_in_messages_are_escaped_byte_for_byte() {
    let server = TestServer::start(&["--rate-limit", "0"]);
    let (mut a, _) = Client::join(&server.ws_url("/connect?name=a"));
    let (mut b, _) = Client::join(&server.ws_url("/connect?name=b"));
    // The one http URL among them becomes a link after escaping, the only markup a message's
    // text gets besides code (tests/formatting.rs); none of them holds a backtick.
    let link = r#"<a href="http://evil" rel="noopener noreferrer nofollow" target="_blank">http://evil</a>"#;
    for payload in XSS {
        a.say(payload);
        let fragment = b.recv_text();
        let text = expected_escape(payload.trim()).replace("http://evil", link);
        let expected = format!(r#"<span class="text">{text}</span></li></ul>"#);
        assert!(fragment.ends_with(&expected), "payload {payload:?}\n got {fragment}\nwant …{expected}");
        // Nothing of the payload's markup survives anywhere in the frame.
        let body = fragment.split(r#"<span class="text">"#).nth(1).unwrap();
        let ours = if payload.contains("http://evil") { "<a></a></span></li></ul>" } else { "</span></li></ul>" };
        assert_eq!(body.matches('<').count(), ours.matches('<').count(), "only our own {ours} tags: {body}");
    }
}

#[test]
fn xss_payloads_in_names_are_escaped_everywhere_they_appear() {
    let server = TestServer::start(&[]);
    let (mut watcher, _) = Client::join(&server.ws_url("/connect?name=watcher"));
    for payload in XSS.iter().filter(|p| p.chars().count() <= 32 && !p.contains('\u{202E}')) {
        let name = payload.trim();
        let url = server.ws_url(&format!("/connect?name={}", support::url_encode(name)));
        let (mut evil, welcome) = Client::join(&url);
        let escaped = expected_escape(name);
        // In the newcomer's own welcome: the roster entry and "you are".
        assert!(welcome.contains(&format!(r#"<li data-name="{escaped}">{escaped}</li>"#)), "{welcome}");
        assert!(
            welcome.contains(&format!(r#"<span id="me" hx-swap-oob="true" data-name="{escaped}">{escaped}</span>"#))
        );
        // In the join announcement the others get.
        let join = watcher.recv_containing("joined");
        assert!(join.contains(&format!(r#"<b class="name">{escaped}</b> joined"#)), "{join}");
        // In the message item (attribute and text).
        evil.say("hi");
        let message = watcher.recv_text();
        assert!(message.contains(&format!(r#"data-name="{escaped}""#)), "{message}");
        assert!(message.contains(&format!(r#"<b class="name">{escaped}</b>"#)), "{message}");
        drop(evil);
        watcher.recv_containing("left");
    }
    // On the page itself, from the name cookie and form.
    let name = "<img src=x onerror=alert(1)>";
    let page = get(server.addr, &format!("/?name={}", support::url_encode(name)));
    let html = page.body_text();
    assert!(!html.contains(name));
    assert!(html.contains(&format!(r#"<span id="me" data-name="{0}">{0}</span>"#, expected_escape(name))));
}

#[test]
fn room_names_and_notices_are_escaped() {
    let server = TestServer::start(&[]);
    let page = get(server.addr, "/r/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(page.status, 404);
    assert!(page.body_text().contains("&lt;script&gt;alert(1)&lt;/script&gt; is not a valid room name"));
    assert!(!page.body_text().contains("<script>"));
    let bad = "<b>x</b>\u{0}";
    let (_c, welcome) = Client::join(&server.ws_url(&format!("/connect?name={}", support::url_encode(bad))));
    assert!(welcome.contains("control"), "{welcome}");
    assert!(!welcome.contains("<b>x</b>"));
}

#[test]
fn a_login_form_that_never_arrives_gets_408() {
    let server = TestServer::start(&["--access-code", "right", "--head-timeout", "1"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\ncode=",
                server.addr
            )
            .as_bytes(),
        )
        .unwrap();
    let response = read_response(&mut stream, false);
    assert_eq!(response.status, 408);
    assert_eq!(response.body_text(), "The body did not arrive in time.\n");
    assert_eq!(get(server.addr, "/healthz").status, 200);
}
