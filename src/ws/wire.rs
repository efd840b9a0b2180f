//! [`Wire`]: a member's socket as tungstenite sees it.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::chat::member::Member;

/// The member's socket as tungstenite sees it: reads take what the kernel already holds and never
/// wait (the read loop waits itself, see [`crate::ws::reader`]), writes (pong and close replies,
/// notices, echoes) go through the member's write lock, whole.
///
/// tungstenite hands its write buffer to `write` in one piece, and that buffer only ever holds
/// complete frames, so writing it all under the lock keeps frames whole.
pub(crate) struct Wire {
    member: Arc<Member>,
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
    /// The member's socket. Reads fail with `WouldBlock` when nothing has arrived, and once
    /// `most` bytes have come in without a whole message: tungstenite bounds a message's *size*, but a message of empty continuation frames has none, and it never
    /// returns to us while one goes on, so the bytes spent on it are counted here.
    pub(crate) fn new(member: Arc<Member>, most: usize) -> Wire {
        Wire { member, since_message: 0, most }
    }

    /// The most bytes a message may take on the wire.
    pub(crate) fn most(&self) -> usize {
        self.most
    }

    /// The reader got a whole message: what was read for it no longer counts.
    pub(crate) fn message_read(&mut self) {
        self.since_message = 0;
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_message > self.most {
            return Err(io::Error::new(io::ErrorKind::InvalidData, EndlessMessage));
        }
        // Only this read skips the wait: the socket stays blocking for the threads writing to it.
        let n = match crate::sys::recv_now(self.member.stream(), buf) {
            // A signal before any data: as good as "nothing yet".
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(io::ErrorKind::WouldBlock.into()),
            result => result?,
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
