//! Fuzzes the router (`chatroom::http::routes::route`) with whatever request heads the parser
//! accepts, on two in-memory servers (one open, one behind an access code), and the access-code
//! form handler (`chatroom::http::login::login`) with the bytes after the head as its body.
//!
//! Checks, on every response: a status from 100 to 599; no CR, LF or other control character in
//! any header value (no response splitting); every `Location` is a local path (starts with one
//! `/`, no `//`, no `\` before any `?`: no open redirect); a WebSocket route names a valid room;
//! a request without exactly one `Host` (RFC 9112 §3.2; HTTP/1.0 may have none) gets 400, and one
//! for another host 421, whatever else it asks.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use chatroom::access::Access;
use chatroom::chat::names;
use chatroom::config::Config;
use chatroom::http::body::Body;
use chatroom::http::head::{parse, Request};
use chatroom::http::login;
use chatroom::http::response::Response;
use chatroom::http::routes::{route, Endpoint, Route};
use chatroom::{Server, Shared};
use libfuzzer_sys::fuzz_target;

const CODE: &str = "letmein";

/// Two servers, bound once per process on loopback port 0, never run: only their shared state
/// is used. History in memory only, nothing on disk. They also answer for `a`, the host the seeds
/// name, so that inputs reach the routes behind the `Host` check.
fn servers() -> &'static [Arc<Shared>; 2] {
    static SERVERS: OnceLock<[Arc<Shared>; 2]> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let make = |access_code: Option<String>| {
            let config = Config {
                bind: "127.0.0.1:0".parse().unwrap(),
                memory: true,
                echo: true,
                access_code,
                allow_hosts: vec!["a".to_string()],
                ..Config::default()
            };
            Server::bind(config).expect("bind a loopback port").shared()
        };
        [make(None), make(Some(CODE.to_string()))]
    })
}

fuzz_target!(|buf: &[u8]| {
    let Ok(Some((request, used))) = parse(buf) else { return };
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    for shared in servers() {
        // The bytes after the head are the body, for the routes that take one (`POST /login`).
        let mut rest = buf[used..].to_vec();
        let route = match Body::in_memory(&mut rest, &request) {
            Ok(mut body) => {
                let route = route(&request, ip, &mut body, shared);
                check_host(&request, &route);
                route
            }
            Err(refused) => Route::Respond(refused),
        };
        match route {
            Route::Respond(response) => check(&response),
            Route::WebSocket(Endpoint::Chat { room, .. }) => {
                assert_eq!(names::room(&room).as_deref(), Some(room.as_str()), "WebSocket to an invalid room");
            }
            Route::WebSocket(Endpoint::Echo) => {}
        }
    }
    // The form handler alone, with the rest of the input as its body. A fresh one each time: a
    // right code adds a session, and sessions must not pile up over millions of runs.
    let body = &buf[used..];
    check(&login::login(&Access::new(Some(CODE.to_string()), None).unwrap(), ip, body));
    check(&login::login(&Access::new(None, None).unwrap(), ip, body));
});

/// The `Host` check comes before everything else: a request without exactly one `Host` gets 400,
/// and one naming a host that is neither loopback, `localhost` nor `a` gets 400 or 421.
fn check_host(request: &Request, route: &Route) {
    let status = match route {
        Route::Respond(response) => response.status,
        Route::WebSocket(_) => 101,
    };
    let hosts = request.header_count("Host");
    if hosts > 1 || (hosts == 0 && request.minor_version == 1) {
        assert_eq!(status, 400, "{hosts} Host headers on HTTP/1.{}", request.minor_version);
    }
    let host = request.header_str("Host").unwrap_or("a").to_ascii_lowercase();
    let name = host.rsplit_once(':').map_or(host.as_str(), |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host.as_str()
        }
    });
    let ours = ["a", "a.", "localhost", "localhost.", "127.0.0.1", "[::1]"].contains(&name);
    if hosts == 1 && !ours && !name.starts_with("127.") && !name.starts_with('[') {
        assert!(status == 400 || status == 421, "{status} for Host {host:?}");
    }
}

fn check(response: &Response) {
    assert!((100..=599).contains(&response.status), "status {}", response.status);
    for (name, value) in &response.headers {
        assert!(!value.chars().any(|c| c.is_control() && c != '\t'), "control character in header {name}: {value:?}");
        if name.eq_ignore_ascii_case("Location") {
            // The path must be local; the query may hold anything (it cannot change the host).
            let path = value.split_once('?').map_or(value.as_ref(), |(path, _)| path);
            assert!(
                path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'),
                "Location is not a local path: {value:?}"
            );
        }
    }
}
