//! `baseline`: the server chatroom is measured against. It does chatroom's job the way a Rust user
//! would usually write it: axum for the route and the upgrade, tokio's default multi-threaded
//! runtime, one `tokio::sync::broadcast` channel for the room, and per connection one task that
//! reads and one that writes.
//!
//! Same contract as chatroom, so the load generator treats both alike:
//! - `GET /connect` upgrades to a WebSocket in the one room;
//! - a text frame `ping` is answered with `pong`;
//! - any other text frame is read as JSON `{"message": "..."}` (other fields ignored), trimmed,
//!   dropped when empty, HTML-escaped, and the fragment
//!   `<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">…</span></li></ul>`
//!   goes to every member, the sender included;
//! - `--bind IP:PORT` (default `127.0.0.1:0`), and the first stdout line is
//!   `baseline listening on http://IP:PORT`.
//!
//! It is deliberately not tuned: default runtime, default WebSocket buffers, one `send` (one write)
//! per delivery. Two choices are not the most naive, because a baseline that handicapped itself
//! would flatter chatroom: the channel carries `Utf8Bytes`, which axum's `Message::Text` takes as
//! is, so a relay clones a reference count, not the string (what axum 0.8's API leads to); and
//! accepted sockets get TCP_NODELAY, as axum's docs show and as chatroom does.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

/// How many relays a slow member may fall behind before it skips ahead (`RecvError::Lagged`).
/// The load generator counts what a skip loses, so this only has to be generous.
const ROOM_CAPACITY: usize = 1024;

/// The room: every member subscribes to this sender.
#[derive(Clone)]
struct Room {
    tx: broadcast::Sender<Utf8Bytes>,
}

/// A chat message as the page's htmx ws extension (or a JSON client) sends it.
#[derive(Deserialize)]
struct Inbound {
    message: String,
}

fn main() -> ExitCode {
    let bind: SocketAddr = match parse_args() {
        Ok(bind) => bind,
        Err(e) => {
            eprintln!("baseline: {e}");
            return ExitCode::from(2);
        }
    };
    raise_nofile_limit();
    // `#[tokio::main]`, spelled out so that flag errors exit before any runtime exists.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("baseline: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(serve(bind))
}

/// `--bind IP:PORT` is the only flag.
fn parse_args() -> Result<SocketAddr, String> {
    let mut bind: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--bind" => args.next().ok_or("--bind needs IP:PORT")?,
            other => match other.strip_prefix("--bind=") {
                Some(value) => value.to_string(),
                None => return Err(format!("unknown argument {other:?} (only --bind IP:PORT)")),
            },
        };
        bind = value.parse().map_err(|_| format!("--bind: {value:?} is not IP:PORT"))?;
    }
    Ok(bind)
}

/// Raises the soft open-files limit to the hard one, as chatroom does (and Go's runtime): each
/// member is a file descriptor, and the usual soft limit of 1024 would cap the room.
fn raise_nofile_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                eprintln!("baseline: could not raise the open-files limit");
            }
        }
    }
}

async fn serve(bind: SocketAddr) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("baseline: cannot listen on {bind}: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("baseline: {e}");
            return ExitCode::from(2);
        }
    };
    // The first stdout line carries the real port (the load generator reads it).
    println!("baseline listening on http://{addr}");

    // TCP_NODELAY, as chatroom sets and axum's docs show: without it, Nagle holds back a small
    // frame while the previous one is unacknowledged, and the client's delayed ACK turns that into
    // tens of milliseconds of latency (measured: p99 of 136-220 ms in S2).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (tx, _) = broadcast::channel(ROOM_CAPACITY);
    let app = Router::new().route("/connect", get(upgrade)).with_state(Room { tx });
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baseline: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn upgrade(ws: WebSocketUpgrade, State(room): State<Room>) -> Response {
    ws.on_upgrade(move |socket| member(socket, room))
}

/// One member: a writer task forwards the room's relays (and our own `pong`s) to the socket, while
/// this task reads. When either side ends, the other is stopped.
async fn member(socket: WebSocket, room: Room) {
    let (mut sink, mut stream) = socket.split();
    let mut relays = room.tx.subscribe();
    // Replies to this member only (`pong`); the writer owns the sink, so they go through it.
    let (reply_tx, mut replies) = mpsc::channel::<Utf8Bytes>(8);

    let mut writer = tokio::spawn(async move {
        loop {
            let text = tokio::select! {
                relay = relays.recv() => match relay {
                    Ok(text) => text,
                    // A slow member skips what it missed rather than stalling the room.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                reply = replies.recv() => match reply {
                    Some(text) => text,
                    None => break,
                },
            };
            if sink.send(Message::Text(text)).await.is_err() {
                break;
            }
        }
    });

    let mut reader = tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Text(text) if text.as_str() == "ping" => {
                    let sent = reply_tx.send(Utf8Bytes::from_static("pong")).await;
                    if sent.is_err() {
                        break;
                    }
                }
                Message::Text(text) => {
                    if let Some(fragment) = chat_fragment(text.as_str()) {
                        // Err only when nobody is subscribed, which cannot be while we are.
                        let _ = room.tx.send(Utf8Bytes::from(fragment));
                    }
                }
                Message::Close(_) => break,
                // axum answers Pings itself; binary frames are not chat.
                _ => {}
            }
        }
    });

    tokio::select! {
        _ = &mut writer => reader.abort(),
        _ = &mut reader => writer.abort(),
    }
}

/// The fragment to relay for one inbound text frame, or `None` when it is not a chat message
/// (bad JSON, no `message` string) or is blank after trimming.
fn chat_fragment(frame: &str) -> Option<String> {
    let inbound: Inbound = serde_json::from_str(frame).ok()?;
    let text = inbound.message.trim();
    if text.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 96);
    out.push_str(r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">"#);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out.push_str("</span></li></ul>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::chat_fragment;

    #[test]
    fn same_fragment_as_chatroom() {
        assert_eq!(
            chat_fragment(r#"{"message":"  <b>hi</b> & 'you' ","HEADERS":{"HX-Request":"true"}}"#).unwrap(),
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">&lt;b&gt;hi&lt;/b&gt; &amp; &#39;you&#39;</span></li></ul>"#
        );
    }

    #[test]
    fn ignores_blank_and_non_chat() {
        assert_eq!(chat_fragment(r#"{"message":"   "}"#), None);
        assert_eq!(chat_fragment("not json"), None);
        assert_eq!(chat_fragment(r#"{"text":"hi"}"#), None);
    }
}
