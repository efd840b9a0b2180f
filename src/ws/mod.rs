//! The WebSocket side of a connection, RFC 6455: the opening handshake, done by hand
//! ([`handshake`], §4.2), and a member's read loop ([`reader`]), which reads frames with
//! tungstenite over the member's socket ([`wire`]). The frames the server writes to many members
//! at once are encoded in [`crate::protocol::frame`].

pub mod handshake;
pub(crate) mod reader;
pub(crate) mod wire;

use std::io;

/// How a WebSocket ended, from the reader's side (RFC 6455 §7.1.5, §7.4.1).
#[derive(Debug)]
pub(crate) enum Ended {
    /// The peer closed with a Close frame: its code and reason, or neither (no status: 1005).
    PeerClosed(Option<(u16, String)>),
    /// The closing handshake that we started (at shutdown) completed.
    Closed,
    /// The connection broke without a closing handshake (the peer sees 1006).
    Abnormal(Broken),
    /// We failed the connection with a Close frame (§7.1.7): the code and reason we sent.
    WeClosed {
        /// The close code.
        code: u16,
        /// The reason, for the log and the peer.
        reason: String,
    },
}

/// How a WebSocket broke without a closing handshake.
#[derive(Debug)]
pub(crate) enum Broken {
    /// A read or write failed (a reset, a timeout, a socket shut down by a relay).
    Io(io::Error),
    /// The peer vanished (a FIN) without sending a Close frame.
    NoCloseFrame,
    /// A Ping to a silent peer could not be written.
    PingNotSent,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::PeerClosed(Some((code, reason))) => write!(f, "{code} {reason}"),
            Ended::PeerClosed(None) => write!(f, "1005 (no status)"),
            Ended::Closed => write!(f, "closed"),
            Ended::Abnormal(Broken::Io(e)) => write!(f, "1006 ({e})"),
            Ended::Abnormal(Broken::NoCloseFrame) => write!(f, "1006 (closed without a Close frame)"),
            Ended::Abnormal(Broken::PingNotSent) => write!(f, "1006 (ping not sent)"),
            Ended::WeClosed { code, reason } => write!(f, "we closed {code} {reason}"),
        }
    }
}
