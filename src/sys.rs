//! The few things the server needs from the C library, the kernel or the CPU that std does not
//! offer, each behind a small safe function.
//!
//! Why gather them here: an `unsafe` block is a promise the compiler cannot check (that a
//! pointer is valid, a size right, a call allowed at this moment). Kept in one file, every promise
//! sits next to its reason, in a `// SAFETY:` comment, and can be reviewed in one sitting; the
//! rest of the server calls plain functions that take `&TcpStream`, `&mut [u8]` and return
//! `io::Result`, and cannot get a pointer wrong.
//!
//! Each function does one call's worth of work and no policy: whether a failure matters, and why
//! the server makes the call at all, is said where it is called.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

/// A C call's "0 on success, -1 and `errno` on failure" as an `io::Result`.
fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

// --- Sockets -------------------------------------------------------------------------------------

/// Sets the accept backlog of a listening socket: how many connections the kernel may hold
/// ready for `accept` at once. std's `TcpListener::bind` always asks for 128 and has no setter.
/// Calling `listen(2)` again on a listening socket only changes the backlog; Linux caps it at
/// `net.core.somaxconn`.
pub(crate) fn listen_backlog(listener: &TcpListener, backlog: i32) -> io::Result<()> {
    // SAFETY: listen(2) takes a descriptor and a number, no pointers. The descriptor is the
    // listener's own, open for as long as we borrow the listener.
    check(unsafe { libc::listen(listener.as_raw_fd(), backlog) })
}

/// Sets the socket's kernel send buffer (`SO_SNDBUF`) to `bytes` (at most `c_int::MAX`). std has
/// no setter for it. Linux doubles the value for its own bookkeeping.
pub(crate) fn set_send_buffer(stream: &TcpStream, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads exactly as many bytes as we say (the size of a c_int) from the
    // pointer we give, which points at `value`, a c_int that lives until after the call. The
    // descriptor is the stream's own, open for as long as we borrow the stream.
    check(unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            std::ptr::from_ref(&value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
}

/// Reads what has already arrived on `stream`, without waiting (`recv(2)` with `MSG_DONTWAIT`):
/// with nothing there, it fails at once with `WouldBlock`. Like `read`, `Ok(0)` is the end of the
/// stream, and a signal may interrupt it (`Interrupted`).
///
/// std can only make the whole socket non-blocking (`set_nonblocking`), which would also change
/// it for the other threads writing to the same socket; the flag applies to this one read.
pub(crate) fn recv_now(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: recv writes at most `buf.len()` bytes starting at `buf`'s first byte, all of which
    // we hold a mutable borrow of for the whole call. The descriptor is the stream's own.
    let n = unsafe { libc::recv(stream.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

// --- Memory and cache ----------------------------------------------------------------------------

/// Gives the heap's free memory back to the operating system (`malloc_trim(3)`, glibc). glibc
/// keeps freed memory in its arenas for reuse, and std has no way to ask it to let go.
pub(crate) fn trim_heap() {
    // SAFETY: malloc_trim takes no pointers; it walks the allocator's own free lists under the
    // allocator's own locks, so any thread may call it at any time.
    unsafe { libc::malloc_trim(0) };
}

/// Asks the CPU to start loading the cache line that holds the start of `value`, so that a use
/// a little later finds it in the cache. Only a hint: it never faults and changes nothing the
/// program can see. std offers it only as an `unsafe` intrinsic; here it is a no-op on CPUs
/// other than x86-64.
#[inline]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE, which `prefetcht0` belongs to, is part of the x86-64 baseline; and a
        // prefetch reads nothing the program sees: it cannot fault, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    #[test]
    fn recv_now_takes_only_what_has_arrived() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listen_backlog(&listener, 16).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        set_send_buffer(&server, 4096).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(recv_now(&server, &mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        client.write_all(b"hello").unwrap();
        // Loopback delivers at once, but nothing promises it: ask again for a little while.
        let until = Instant::now() + Duration::from_secs(5);
        let n = loop {
            match recv_now(&server, &mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other.unwrap(),
            }
        };
        assert_eq!(&buf[..n], b"hello");
    }
}
