//! Log lines, on stderr: one when a connection opens, one when it closes (with how: the close code
//! and reason), and one for each problem. `--log-format json` turns each line into one JSON object
//! (`ts`, `level`, `msg`, and `conn`/`peer` for connection lines) for log collectors.
//!
//! Every line is written with a single `write` on an unbuffered stderr, so lines from different
//! threads never mix.

use std::fmt::Display;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::OnceLock;

use serde::Serialize;

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `conn-7 192.168.1.20:51234: closed: websocket, 1000 bye`
    Text,
    /// `{"ts":"...","level":"info","conn":7,"peer":"192.168.1.20:51234","msg":"closed: websocket, 1000 bye"}`
    Json,
}

static FORMAT: OnceLock<Format> = OnceLock::new();

/// Chooses the format, once, at start (the default is text).
pub fn set_format(format: Format) {
    let _ = FORMAT.set(format);
}

#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    level: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    conn: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<String>,
    msg: String,
}

#[inline(never)] // one small frame for every caller, instead of this one merged into each
fn write(level: &str, conn: Option<(u64, SocketAddr)>, msg: &dyn Display) {
    let mut line = match FORMAT.get().copied().unwrap_or(Format::Text) {
        Format::Text => match (conn, level) {
            (Some((id, peer)), _) => format!("conn-{id} {peer}: {msg}"),
            (None, "info") => format!("chatroom: {msg}"),
            (None, level) => format!("chatroom: {level}: {msg}"),
        },
        Format::Json => serde_json::to_string(&Line {
            ts: crate::time::rfc3339(crate::time::now_ms()),
            level,
            conn: conn.map(|(id, _)| id),
            peer: conn.map(|(_, peer)| peer.to_string()),
            msg: msg.to_string(),
        })
        .expect("a log line always serialises"),
    };
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Something about one connection.
pub fn conn(id: u64, peer: SocketAddr, msg: impl Display) {
    write("info", Some((id, peer)), &msg);
}

/// Something about the server.
pub fn info(msg: impl Display) {
    write("info", None, &msg);
}

/// Something odd that the server copes with.
pub fn warn(msg: impl Display) {
    write("warning", None, &msg);
}

/// Something failed.
pub fn error(msg: impl Display) {
    write("error", None, &msg);
}
