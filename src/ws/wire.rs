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
}

impl Wire {
    /// The member's socket, with reads that wait for data (up to the socket's read timeout).
    pub(crate) fn new(member: Arc<Member>) -> Wire {
        Wire { member, waits: true }
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
        if self.waits {
            return (self.member.stream()).read(buf);
        }
        // Only this read skips the wait: the socket stays blocking for the threads relaying to it.
        match crate::sys::recv_now(self.member.stream(), buf) {
            // A signal before any data: as good as "nothing yet".
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(io::ErrorKind::WouldBlock.into()),
            result => result,
        }
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
