//! [`Wire`]: a member's socket as tungstenite sees it.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::chat::member::Member;

/// The member's socket as tungstenite sees it: reads go straight to the socket, writes (pong and
/// close replies, notices, echoes) go through the member's write lock, whole.
///
/// tungstenite hands its write buffer to `write` in one piece, and that buffer only ever holds
/// complete frames, so writing it all under the lock keeps frames whole.
pub(crate) struct Wire {
    member: Arc<Member>,
    /// Whether reads wait for data; when not, they take only what has already arrived (see
    /// [`Wire::set_waiting`]).
    waits: bool,
    /// Bytes read since the reader last got a whole message ([`Wire::message_read`]).
    since_message: usize,
    /// The most `since_message` may reach: see [`Wire::new`].
    most: usize,
}

/// Why a read was refused: the peer sent more than [`Wire::new`]'s `most` bytes of frames
/// without completing a message.
#[derive(Debug)]
pub(crate) struct EndlessMessage;

impl std::fmt::Display for EndlessMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("frames without end for one message")
    }
}

impl std::error::Error for EndlessMessage {}

impl Wire {
    /// The member's socket, with reads that wait for data (up to the socket's read timeout).
    /// Reads fail once `most` bytes have come in without a whole message: tungstenite bounds a
    /// message's *size*, but a message of empty continuation frames has none, and it never
    /// returns to us while one goes on, so the bytes spent on it are counted here.
    pub(crate) fn new(member: Arc<Member>, most: usize) -> Wire {
        Wire { member, waits: true, since_message: 0, most }
    }

    /// The most bytes a message may take on the wire.
    pub(crate) fn most(&self) -> usize {
        self.most
    }

    /// The reader got a whole message: what was read for it no longer counts.
    pub(crate) fn message_read(&mut self) {
        self.since_message = 0;
    }

    /// Whether reads wait for data. With `false`, a read takes what the kernel already holds and
    /// fails with `WouldBlock` when that is nothing, so the reader can tell "more frames are
    /// already here" from "the peer is quiet" in one system call, without a `poll` first.
    pub(crate) fn set_waiting(&mut self, wait: bool) {
        self.waits = wait;
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_message > self.most {
            return Err(io::Error::new(io::ErrorKind::InvalidData, EndlessMessage));
        }
        let n = if self.waits {
            (self.member.stream()).read(buf)?
        } else {
            // Only this read skips the wait: the socket stays blocking for the threads relaying to it.
            match crate::sys::recv_now(self.member.stream(), buf) {
                // A signal before any data: as good as "nothing yet".
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(io::ErrorKind::WouldBlock.into()),
                result => result?,
            }
        };
        self.since_message += n;
        Ok(n)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.member.write_own(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
