//! WebSockets, RFC 6455, at the level of the protocol itself: the opening handshake, done by hand
//! ([`handshake`], §4.2), and the server's frames, encoded once for any number of sockets
//! ([`frame`], §5). Reading frames is tungstenite's job.

pub mod frame;
pub mod handshake;
