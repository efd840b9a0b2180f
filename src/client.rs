//! `chatroom join URL [--name NAME]`: the terminal client, in the same binary.
//!
//! It is the other half of the protocol, for someone in a terminal over SSH: a blocking
//! tungstenite client on one `TcpStream`, no async runtime. The opening handshake is done by hand
//! here too (the client's side of RFC 6455 §4.1, mirroring `handshake.rs`): send a GET with a
//! random key, check that the 101 answer carries base64(SHA-1(key + GUID)). It speaks the
//! `chatroom.json` dialect (see docs/protocol.md) and prints one line per event:
//!
//! ```text
//! 21:04 ann: hello
//! 21:05 * bob joined
//! ```
//!
//! One thread does all the socket I/O: it reads with a short timeout, and between reads sends the
//! lines that a second thread has read from stdin. So reads and writes never race, and no lock is
//! needed. End of input (Ctrl-D) or Ctrl-C closes the WebSocket cleanly (1000) and exits.

use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::{Error as WsError, Message};

mod screen;
mod who;

use screen::Screen;

use crate::protocol::html::url_encode;
use crate::protocol::{ClientEvent, JSON_SUBPROTOCOL};
use crate::random;
use crate::ws::handshake::accept_key;

/// How long one read waits before the loop looks at stdin again.
const POLL: Duration = Duration::from_millis(50);

const USAGE: &str = "usage: chatroom join URL [--name NAME] [--code CODE] [--host-key KEY]\n\
    URL is the room's page, e.g. http://192.168.1.5:8080/r/lobby (or http://HOST:PORT/ for the lobby).\n\
    --code CODE      the server's access code, if it has one\n\
    --host-key KEY   be the host (the key printed when the server started; no --code needed then)\n\
    Type a line and Enter to send it; Ctrl-D or Ctrl-C to leave. Lines starting with / are\n\
    commands: /help lists them (/me, /nick NAME, /msg NAME TEXT, /edit SEQ TEXT, /delete SEQ;\n\
    the host's /kick, /mute, /lock, /slow, /announce); //text says /text.\n\
    Your member id (which makes your messages yours to edit) is kept in\n\
    $XDG_CONFIG_HOME/chatroom/member-id (~/.config/chatroom/member-id).\n";

/// Where to connect, worked out from the URL the user copied from the browser.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// `host:port` as written, for the `Host` header.
    host: String,
    /// The path of the WebSocket, with `?name=` if given.
    path: String,
}

/// Turns `http://HOST:PORT/r/ROOM` (or `ws://`, or the `/connect` URL itself) into the WebSocket
/// path. Plain `http://HOST:PORT/` is the lobby.
fn target(url: &str, name: Option<&str>) -> Result<Target, String> {
    let rest = ["http://", "ws://"].iter().find_map(|scheme| url.strip_prefix(scheme)).ok_or_else(|| {
        format!("{url:?}: give an http:// URL (https needs a TLS proxy, which this client does not speak)")
    })?;
    let (host, path) = rest.split_once('/').map_or((rest, String::new()), |(h, p)| (h, format!("/{p}")));
    if host.is_empty() {
        return Err(format!("{url:?}: no host"));
    }
    let path = path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/').to_string();
    let mut path = match path.as_str() {
        "" | "/connect" => "/connect".to_string(),
        p if p.ends_with("/connect") => p.to_string(),
        p if p.starts_with("/r/") => format!("{p}/connect"),
        p => return Err(format!("{url:?}: {p} is not a room (expected /r/ROOM or /)")),
    };
    if let Some(name) = name {
        path = format!("{path}?name={}", url_encode(name));
    }
    Ok(Target { host: host.to_string(), path })
}

/// Runs `chatroom join ...`; `args` are the arguments after `join`.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut url = None;
    let mut name = None;
    let mut code = None;
    let mut host_key = None;
    let mut parser = lexopt::Parser::from_args(args);
    loop {
        let arg = match parser.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return usage_error(&e.to_string()),
        };
        let value = |parser: &mut lexopt::Parser| parser.value().ok().and_then(|v| v.into_string().ok());
        match arg {
            lexopt::Arg::Long("name") => name = value(&mut parser),
            lexopt::Arg::Long("code") => code = value(&mut parser),
            lexopt::Arg::Long("host-key") => host_key = value(&mut parser),
            lexopt::Arg::Long("help") | lexopt::Arg::Short('h') => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            lexopt::Arg::Value(v) if url.is_none() => url = v.into_string().ok(),
            other => return usage_error(&other.unexpected().to_string()),
        }
    }
    let Some(url) = url else { return usage_error("no URL given") };
    let target = match target(&url, name.as_deref()) {
        Ok(target) => target,
        Err(e) => return usage_error(&e),
    };
    // The host key passes the access code's check too, so it is the one bearer token sent.
    match run(&target, host_key.as_deref().or(code.as_deref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatroom join: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage_error(why: &str) -> ExitCode {
    eprint!("chatroom join: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// Connects, and chats until end of input, Ctrl-C, or the server closes.
fn run(target: &Target, bearer: Option<&str>) -> Result<(), String> {
    let mut ws = connect(target, bearer)?;
    // Ctrl-C (and SIGTERM) only raise a flag; the loop below sees it within one poll.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(|e| e.to_string())?;
    }
    let typed = read_lines()?;
    let mut screen = Screen::new(io::stdout().lock(), format!("http://{}", target.host));
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => screen.event(text.as_str()),
            Ok(Message::Close(frame)) => {
                let why = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)).unwrap_or_default();
                let _ = writeln!(screen.out, "* the server closed the connection {why}");
                return Ok(());
            }
            Ok(_) => {}
            // A signal (Ctrl-C) interrupts the read: look at the flag below.
            Err(WsError::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Err(WsError::ConnectionClosed) | Err(WsError::AlreadyClosed) => return Ok(()),
            Err(e) => return Err(format!("connection lost: {e}")),
        }
        let _ = screen.out.flush();
        if stop.load(Ordering::Relaxed) {
            return leave(&mut ws);
        }
        loop {
            match typed.try_recv() {
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => {
                    let said = ClientEvent::typed(&line);
                    ws.send(Message::text(said)).map_err(|e| format!("send failed: {e}"))?;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return leave(&mut ws),
            }
        }
    }
}

/// Opens the WebSocket: resolves the host, connects (10 s at most), upgrades, and sets the read
/// timeout that lets the chat loop look at typed lines and Ctrl-C between frames.
fn connect(target: &Target, bearer: Option<&str>) -> Result<WebSocket<TcpStream>, String> {
    let addr: SocketAddr = target
        .host
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", target.host))?
        .next()
        .ok_or_else(|| format!("{}: no address", target.host))?;
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| format!("{addr}: {e}"))?;
    let leftover = open(&stream, target, bearer)?;
    stream.set_read_timeout(Some(POLL)).map_err(|e| e.to_string())?;
    Ok(WebSocket::from_partially_read(stream, leftover, Role::Client, None))
}

/// Lines typed on stdin, from a thread of their own (reading stdin blocks); the channel's end
/// means end of input.
fn read_lines() -> Result<mpsc::Receiver<String>, String> {
    let (lines, typed) = mpsc::channel::<String>();
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            for line in io::stdin().lock().lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(typed)
}

/// Closes with 1000 and waits (briefly) for the server's Close in return (RFC 6455 §7.1.2).
fn leave(ws: &mut WebSocket<TcpStream>) -> Result<(), String> {
    let _ = ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }));
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        match ws.read() {
            Err(WsError::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// The client's opening handshake (RFC 6455 §4.1). Returns bytes read past the 101 response,
/// which are already WebSocket frames.
fn open(mut stream: &TcpStream, target: &Target, bearer: Option<&str>) -> Result<Vec<u8>, String> {
    let mut nonce = [0u8; 16];
    random::fill(&mut nonce);
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {JSON_SUBPROTOCOL}\r\n",
        target.path, target.host
    );
    if let Some(bearer) = bearer {
        request.push_str(&format!("Authorization: Bearer {bearer}\r\n"));
    }
    // Our member id, kept between runs: the server knows our messages by it (a fresh one for
    // this run when there is nowhere to keep it).
    let id = who::member_id();
    request.push_str(&format!("Cookie: {}={}\r\n", crate::identity::ID_COOKIE, id.as_str()));
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;

    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let (status, head_len, accept, protocol) = loop {
        let n = stream.read(&mut chunk).map_err(|e| format!("no answer from the server: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection during the handshake".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let find = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .and_then(|h| std::str::from_utf8(h.value).ok())
                        .map(str::to_string)
                };
                break (response.code.unwrap_or(0), len, find("Sec-WebSocket-Accept"), find("Sec-WebSocket-Protocol"));
            }
            Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => {}
            _ => return Err("the server's answer is not HTTP".into()),
        }
    };
    if status != 101 {
        let body = String::from_utf8_lossy(&buf[head_len..]);
        return Err(format!("the server answered {status}: {}", body.trim()));
    }
    if accept.as_deref() != Some(accept_key(&key).as_str()) {
        return Err("the server's Sec-WebSocket-Accept is wrong: not a WebSocket server?".into());
    }
    if protocol.as_deref() != Some(JSON_SUBPROTOCOL) {
        return Err("the server did not agree to the chatroom.json protocol".into());
    }
    Ok(buf[head_len..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_websocket_paths() {
        let t = target("http://192.168.1.5:8080/r/lobby", Some("Ann B")).unwrap();
        assert_eq!(t, Target { host: "192.168.1.5:8080".into(), path: "/r/lobby/connect?name=Ann%20B".into() });
        assert_eq!(target("http://10.0.0.1:80/", None).unwrap().path, "/connect");
        assert_eq!(target("http://10.0.0.1:80", None).unwrap().path, "/connect");
        assert_eq!(target("ws://h:1/r/x/connect", None).unwrap().path, "/r/x/connect");
        assert_eq!(target("http://h:1/r/x/?name=z", None).unwrap().path, "/r/x/connect");
        assert!(target("https://h/r/x", None).is_err());
        assert!(target("http://h:1/elsewhere", None).is_err());
        assert!(target("http:///r/x", None).is_err());
    }
}
