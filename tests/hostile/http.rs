//! Raw HTTP: each case of the corpus on its own connection, pipelined junk, and slow, silent
//! and truncated heads.

use super::*;

/// Reads one response: the head, then Content-Length bytes of body (none for HEAD).
pub(crate) fn read_response(stream: &mut TcpStream, head_only: bool) -> Result<RawResponse, String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            Ok(_) => return Err(format!("connection closed before a whole response head: {:?}", lossy(&buf))),
            Err(e) => return Err(format!("reading the response head: {e} (got {:?})", lossy(&buf))),
        }
    }
    let head = String::from_utf8(buf).map_err(|_| "response head is not UTF-8".to_string())?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("no status in {head:?}"))?;
    let mut response = RawResponse { status, head, body: Vec::new() };
    let length: usize = match response.header("Content-Length") {
        Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
        None => 0,
    };
    if !head_only {
        response.body = vec![0; length];
        stream.read_exact(&mut response.body).map_err(|e| format!("reading {length} bytes of body: {e}"))?;
    }
    Ok(response)
}

/// Succeeds once the peer has closed `stream` (EOF or reset) without sending anything more.
pub(crate) fn expect_closed(stream: &mut TcpStream) -> Result<(), String> {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut sink = [0u8; 1024];
    match stream.read(&mut sink) {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!("unexpected bytes where the connection should close: {:?}", lossy(&sink[..n]))),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(format!("connection still open after {TIMEOUT:?}"))
        }
        Err(_) => Ok(()), // a reset is a close too
    }
}

/// `GET /healthz` on `stream` must answer 200 `ok`.
pub(crate) fn healthz_on(stream: &mut TcpStream) -> Result<(), String> {
    let addr = stream.peer_addr().map_err(|e| format!("peer address: {e}"))?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("sending /healthz: {e}"))?;
    let response = read_response(stream, false)?;
    if (response.status, response.body.as_slice()) != (200, b"ok\n".as_slice()) {
        return Err(format!("/healthz answered {} {:?}", response.status, response.body_text()));
    }
    Ok(())
}

/// The server still serves a normal client: `GET /healthz` on a fresh connection is 200 `ok`.
pub(crate) fn still_serves(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    healthz_on(&mut stream).map_err(|e| format!("afterwards, a normal client was not served: {e}"))
}

pub(crate) fn run_http_case(addr: SocketAddr, case: &HttpCase) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    // The server may answer and close before it has read all of a large request; the answer is
    // what counts, so a failed write is not the failure.
    let _ = stream.write_all(&case.request);
    let response = read_response(&mut stream, case.request.starts_with(b"HEAD "))?;
    let body = response.body_text();
    if response.status != case.status {
        return Err(format!("status {} instead of {}; body {:?}", response.status, case.status, lossy(&response.body)));
    }
    if !body.contains(case.phrase) {
        return Err(format!("body {:?} lacks {:?}", lossy(&response.body), case.phrase));
    }
    if let Some((name, value)) = case.header {
        let got = response.header(name);
        if got.as_deref() != Some(value) {
            return Err(format!("header {name}: {got:?} instead of {value:?}"));
        }
    }
    // The answer may carry more than one Connection line (a 426 also says `Connection: Upgrade`):
    // their options form one list (RFC 9110 §5.3).
    let options = connection_options(&response);
    match case.after {
        Closes => {
            if !options.iter().any(|o| o == "close") {
                return Err(format!("Connection options {options:?} lack close"));
            }
            expect_closed(&mut stream)
        }
        KeepsAlive => {
            if !options.iter().any(|o| o == "keep-alive") || options.iter().any(|o| o == "close") {
                return Err(format!("Connection options {options:?} instead of keep-alive"));
            }
            healthz_on(&mut stream).map_err(|e| format!("the same connection is out of step: {e}"))
        }
    }
}

/// Every option of every `Connection` line of `response`, lower-cased.
pub(crate) fn connection_options(response: &RawResponse) -> Vec<String> {
    response
        .head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("Connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|option| option.trim().to_ascii_lowercase())
        .collect()
}

#[test]
fn malformed_http_requests_get_specific_answers() {
    let server = TestServer::start(&["--max-per-ip", "0", "--memory"]);
    let cases = http_cases(server.addr);
    assert!(cases.len() >= 45, "the corpus has only {} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");

    let mut failures = Vec::new();
    for case in &cases {
        let result = run_http_case(server.addr, case).and_then(|()| still_serves(server.addr));
        if let Err(why) = result {
            failures.push(format!("  {} (expected {}): {why}", case.name, case.status));
        }
    }
    assert!(failures.is_empty(), "{} of {} HTTP cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_chat_round_trip(&server, "after-http");
}

#[test]
fn junk_pipelined_after_a_valid_request_is_refused_after_answering_it() {
    let server = TestServer::start(&["--max-per-ip", "0", "--memory"]);
    let healthz = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    let healthz = healthz.as_bytes();
    let cases: [(&str, Vec<u8>, u16, &str); 3] = [
        ("TLS junk", [healthz, &tls_client_hello()].concat(), 400, MALFORMED),
        ("an HTTP/2 preface", [healthz, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"].concat(), 505, VERSION),
        ("a header without a colon", [healthz, b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"].concat(), 400, BAD_HEADER),
    ];
    for (name, bytes, status, phrase) in cases {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(&bytes).unwrap();
        let first = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: first answer: {e}"));
        assert_eq!((first.status, first.body_text().as_str()), (200, "ok\n"), "{name}: first answer");
        let second = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: second answer: {e}"));
        assert_eq!(second.status, status, "{name}: second answer: {}", second.body_text());
        assert!(second.body_text().contains(phrase), "{name}: {}", second.body_text());
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
        still_serves(server.addr).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_chat_round_trip(&server, "after-pipelining");
}

/// Sends `bytes` and returns the open stream.
pub(crate) fn open_and_send(addr: SocketAddr, bytes: &[u8]) -> (TcpStream, Instant) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(bytes).unwrap();
    (stream, Instant::now())
}

#[test]
fn slow_silent_and_truncated_heads() {
    let server = TestServer::start(&["--head-timeout", "1", "--max-per-ip", "0", "--memory"]);
    let addr = server.addr;
    let deadline = Duration::from_secs(1);
    // Deadlines are measured from the first byte; allow for timer granularity below it.
    let at_least = deadline - Duration::from_millis(50);

    // All the slow ones start together, so their deadlines run out together.
    let partial = open_and_send(addr, format!("GET / HTTP/1.1\r\nHost: {addr}\r\n").as_bytes());
    let blank_lines = open_and_send(addr, b"\r\n\r\n");
    let silent = open_and_send(addr, b"");
    // A slowloris that keeps sending: one byte, then up to 100 ms for an answer, and again. The
    // deadline runs from the first byte, so the bytes that keep coming must not extend it.
    let dribbler = thread::spawn(move || {
        let head = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Slow: {}\r\n\r\n", "a".repeat(500));
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let started = Instant::now();
        let mut peek = [0u8; 1];
        for (sent, byte) in head.bytes().enumerate() {
            stream.write_all(&[byte]).unwrap();
            match stream.peek(&mut peek) {
                Ok(_) => return (stream, started, sent + 1),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("dribbler: {e}"),
            }
            assert!(started.elapsed() < TIMEOUT, "the slowloris head was never cut off");
        }
        panic!("the whole slow head was accepted: the deadline did not hold");
    });

    // Heads cut short by the client: closed at once, with no answer (nobody is left to read one).
    let truncated = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, bytes) in [("truncated head", truncated.as_bytes()), ("nothing at all", b"")] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(bytes).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // Meanwhile a normal client is served.
    still_serves(addr).unwrap();

    for (name, (mut stream, started)) in [("partial head", partial), ("only blank lines", blank_lines)] {
        let response = read_response(&mut stream, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(started.elapsed() >= at_least, "{name}: answered before the deadline");
        assert_eq!(response.status, 408, "{name}: {}", response.body_text());
        assert_eq!(response.body_text(), "Request head not received in time.\n", "{name}");
        assert_eq!(response.header("Connection").as_deref(), Some("close"), "{name}");
        expect_closed(&mut stream).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // A connection that never sends a byte is closed quietly when its wait runs out.
    let (mut stream, started) = silent;
    expect_closed(&mut stream).unwrap_or_else(|e| panic!("silent connection: {e}"));
    assert!(started.elapsed() >= at_least, "silent connection closed before its time");

    let (mut stream, started, sent) = dribbler.join().unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let response = read_response(&mut stream, false).unwrap_or_else(|e| panic!("slowloris: {e}"));
    assert_eq!(response.status, 408, "slowloris: {}", response.body_text());
    assert!(started.elapsed() >= at_least, "slowloris cut off before the deadline");
    assert!(sent < 200, "slowloris sent {sent} bytes before being cut off");
    expect_closed(&mut stream).unwrap_or_else(|e| panic!("slowloris: {e}"));

    still_serves(addr).unwrap();
    assert_chat_round_trip(&server, "after-slow-heads");
}
