//! The few things the server needs from the C library, the kernel or the CPU that std does not
//! offer, each behind a small safe function. This is the only module with `unsafe` code, and the
//! only one that names `libc`: the crate root denies `unsafe_code` everywhere else, and the tests
//! at the bottom check that no other file in `src/` uses either.
//!
//! Why gather them here: an `unsafe` block is a promise the compiler cannot check (that a
//! pointer is valid, a size right, a call allowed at this moment). Kept in one file, every promise
//! sits next to its reason, in a `// SAFETY:` comment, and can be reviewed in one sitting; the
//! rest of the server calls plain functions that take `&TcpStream`, `&mut [u8]` and return
//! `io::Result`, and cannot get a pointer wrong.
//!
//! Each function does one call's worth of work and no policy: whether a failure matters, and why
//! the server makes the call at all, is said where it is called.

// Clippy holds every `unsafe` block here to having its `// SAFETY:` comment.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

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

/// Waits until `stream` has something to read (data, the peer's FIN or an error) or `timeout`
/// passes (`poll(2)`): `Ok(true)` when a read will not wait, `Ok(false)` on timeout. A signal
/// counts as "ready": the caller's next [`recv_now`] then says there is nothing, and it waits
/// again. The member's read loop waits here rather than in a blocking `recv` several calls deep
/// inside tungstenite, so an idle member's thread touches fewer stack pages.
pub(crate) fn wait_readable(stream: &TcpStream, timeout: Duration) -> io::Result<bool> {
    // Round up, so that a wait never ends before `timeout` and the caller never spins.
    let ms = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as libc::c_int;
    let mut fds = libc::pollfd { fd: stream.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: poll reads and writes exactly the one `pollfd` we pass (nfds = 1), which lives on
    // our stack for the whole call. The descriptor is the stream's own.
    let n = unsafe { libc::poll(&mut fds, 1, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(true) } else { Err(e) };
    }
    Ok(n > 0)
}

/// Writes what fits of `buf` into `stream`'s send buffer now, without waiting (`send(2)` with
/// `MSG_DONTWAIT`): `Ok(n)` may be less than `buf.len()`, and a full buffer fails at once with
/// `WouldBlock`. `MSG_NOSIGNAL`: a peer that has gone is an `Err`, never a SIGPIPE. Like
/// [`recv_now`], the flag applies to this one call and not to the socket, which the member's own
/// thread keeps using with blocking reads.
pub(crate) fn send_now(stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: send reads at most `buf.len()` bytes starting at `buf`'s first byte, all of which we
    // hold a borrow of for the whole call. The descriptor is the stream's own.
    let n = unsafe {
        libc::send(stream.as_raw_fd(), buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Sends up to `count` bytes of `file`, from byte `offset` on, to `stream`, in the kernel
/// (`sendfile(2)`): the bytes go from the page cache to the socket without passing through this
/// process. Returns how many were sent (fewer than `count` when the socket's write timeout ran
/// out part-way, or the file is shorter); `offset` is not changed, the caller adds the count.
/// The socket's write timeout (`SO_SNDTIMEO`) bounds the wait for a client that stops reading,
/// as it does a `write`: with nothing sent in time, the error is `WouldBlock`. std has no
/// zero-copy send.
pub(crate) fn send_file(stream: &TcpStream, file: &File, offset: u64, count: usize) -> io::Result<usize> {
    let mut at = libc::off_t::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: sendfile reads and updates the one off_t we point at (`at`, ours for the call) and
    // otherwise takes two descriptors and a count; both descriptors are open for as long as we
    // borrow the stream and the file.
    let n = unsafe { libc::sendfile(stream.as_raw_fd(), file.as_raw_fd(), &mut at, count) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// The IPv4 and IPv6 addresses of this machine's network interfaces that are up, in the order
/// the kernel lists them, loopback and repeats included (`getifaddrs(3)`: it asks the kernel and
/// sends nothing on the network). std cannot list interfaces at all.
pub(crate) fn interface_addresses() -> io::Result<Vec<IpAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs only stores the address of the list it allocates into `list`.
    check(unsafe { libc::getifaddrs(&mut list) })?;
    let mut found = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs gave us, which stays allocated until
        // freeifaddrs below; each node's `ifa_next` is the next node or null.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        let up = entry.ifa_flags & (libc::IFF_UP as libc::c_uint) != 0;
        if !up || entry.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: a non-null `ifa_addr` points at a socket address whose `sa_family` field says
        // which struct it really is, and we read it only as that struct: `sockaddr_in` for IPv4,
        // `sockaddr_in6` for IPv6.
        let ip = unsafe {
            match i32::from((*entry.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*entry.ifa_addr.cast::<libc::sockaddr_in>();
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))))
                }
                libc::AF_INET6 => {
                    let sin6 = &*entry.ifa_addr.cast::<libc::sockaddr_in6>();
                    Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                }
                _ => None,
            }
        };
        found.extend(ip);
    }
    // SAFETY: `list` is what getifaddrs allocated, freed exactly once; the addresses were copied
    // out, so nothing refers into the list any more.
    unsafe { libc::freeifaddrs(list) };
    Ok(found)
}

/// Lowers the calling thread's CPU priority to `nice` (`setpriority(2)` on its own thread id; on
/// Linux a nice value belongs to a thread). An unprivileged process may lower a priority but not
/// raise it again, so a thread that calls this stays lower until it ends. std has no priorities.
pub(crate) fn lower_thread_priority(nice: i32) -> io::Result<()> {
    // SAFETY: gettid takes nothing and returns this thread's id; setpriority takes three integers,
    // no pointers, and changes only that thread's scheduling weight.
    check(unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) })
}

/// Starts writing `len` bytes of `file` from `offset` to the disk, and, when `wait` is given, first
/// waits until the bytes of that earlier range are on it (`sync_file_range(2)`). Metadata is not
/// written: an `fdatasync` at the end is still what makes a file durable.
pub(crate) fn write_behind(file: &File, offset: u64, len: u64, wait: Option<(u64, u64)>) -> io::Result<()> {
    let fd = file.as_raw_fd();
    if let Some((earlier, earlier_len)) = wait {
        let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
        // SAFETY: sync_file_range takes a descriptor that `file` keeps open and three integers; it
        // only schedules and waits for the writing of pages already in that file's cache.
        check(unsafe { libc::sync_file_range(fd, earlier as i64, earlier_len as i64, flags) })?;
    }
    // SAFETY: as above.
    check(unsafe { libc::sync_file_range(fd, offset as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE) })
}

// --- Memory and cache ----------------------------------------------------------------------------

/// Lets glibc's allocator keep at most `arenas` heaps (`mallopt(M_ARENA_MAX)`). By default it
/// makes up to eight per core as threads contend, and with a thread per connection it soon has
/// them all: each keeps the memory its threads freed, in pages pinned by the few long-lived
/// allocations (history, names) that landed among short-lived ones. Measured in the soak, 16
/// arenas held 8.5 MiB of RSS for 0.4 MiB in use. Threads allocate little while relaying (a
/// relay's frames are encoded once, and each thread's own cache serves small allocations without
/// the arena's lock), so fewer arenas cost no measurable time. Returns whether glibc accepted it.
pub(crate) fn limit_heap_arenas(arenas: i32) -> bool {
    // SAFETY: mallopt takes two integers and changes the allocator's own settings, under its own
    // lock; called at startup, before the connection threads exist.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
}

/// What the allocator holds: bytes in live allocations, and bytes it has from the kernel for
/// them (its arenas and its separately mapped large blocks). Their difference is freed memory the
/// allocator keeps for reuse, which RSS counts too: a leak grows `in_use`, fragmentation only
/// `held`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeapUsage {
    pub(crate) in_use: u64,
    pub(crate) held: u64,
}

/// Reads [`HeapUsage`] (`mallinfo2(3)`, glibc 2.33 and later), summed over every arena.
pub(crate) fn heap_usage() -> HeapUsage {
    // SAFETY: mallinfo2 takes no arguments and returns a struct by value; it reads the
    // allocator's own statistics under the allocator's locks.
    let info = unsafe { libc::mallinfo2() };
    let mapped = info.hblkhd as u64;
    HeapUsage { in_use: info.uordblks as u64 + mapped, held: info.arena as u64 + mapped }
}

/// Gives the heap's free memory back to the operating system (`malloc_trim(3)`, glibc). glibc
/// keeps freed memory in its arenas for reuse, and std has no way to ask it to let go.
pub(crate) fn trim_heap() {
    // SAFETY: malloc_trim takes no pointers; it walks the allocator's own free lists under the
    // allocator's own locks, so any thread may call it at any time.
    unsafe { libc::malloc_trim(0) };
}

/// Room left below `release_stack_below_here`'s marker for the madvise call.
const STACK_MARGIN: usize = 256;

/// Gives back to the kernel the pages of the calling thread's stack that lie below this
/// function's frame (`madvise(MADV_DONTNEED)`): nothing below the frame of a running function
/// is live, and if those pages are needed again the kernel hands out fresh zero pages. std cannot
/// ask where a thread's stack is, nor release memory.
///
/// How much: only whole pages, and only those entirely below this frame's `marker` minus
/// [`STACK_MARGIN`], because the call to madvise itself still runs below the marker. In the
/// machine code (`objdump -d`), madvise's return address lands 23 bytes below the marker in a
/// release build, 79 in a debug build, and glibc's madvise is one system call that uses no stack
/// of its own.
///
/// Never inlined: its frame must be its own, so that every caller's frame, with all of its
/// live locals, lies above the marker. Inlined into a caller, the marker could sit above some of
/// that caller's locals, and they would be zeroed.
#[inline(never)]
pub(crate) fn release_stack_below_here() {
    const PAGE: usize = 4096;
    let marker = 0u8;
    // black_box: the marker must really be on this frame, at an address we can read.
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    let Some((base, size)) = thread_stack() else { return };
    let low = base.next_multiple_of(PAGE);
    let high = (here - STACK_MARGIN) & !(PAGE - 1);
    // The second test: `here` must be on the stack we were told about (not, say, on a signal
    // handler's own stack), or `low..high` would not be this thread's unused stack.
    if high > low && here < base + size {
        // SAFETY: `low..high` is whole pages of this thread's own stack, all below this frame
        // minus STACK_MARGIN. No frame lives there: every caller is above this frame (which is
        // never inlined), thread_stack's frame is gone, and madvise's return address and its
        // red zone (128 bytes below it) lie within the margin. Zeroing unused stack is harmless:
        // a function never reads stack it has not written.
        unsafe { libc::madvise(low as *mut libc::c_void, high - low, libc::MADV_DONTNEED) };
    }
}

/// The lowest address and the size of the calling thread's stack.
fn thread_stack() -> Option<(usize, usize)> {
    // SAFETY: an all-zero pthread_attr_t is a valid value to hand to pthread_getattr_np, which
    // initialises it whole before filling it in.
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    // SAFETY: asks about our own thread, which is running, into the attr we own.
    if unsafe { libc::pthread_getattr_np(libc::pthread_self(), &mut attr) } != 0 {
        return None;
    }
    let mut base: *mut libc::c_void = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `attr` was filled by pthread_getattr_np; getstack writes into our two locals, and
    // the attr is destroyed exactly once, after its last use.
    let got = unsafe {
        let got = libc::pthread_attr_getstack(&attr, &mut base, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        got
    };
    (got == 0).then_some((base as usize, size))
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

// --- Limits, randomness, time --------------------------------------------------------------------

/// This process's limit on open files (`RLIMIT_NOFILE`), as `(soft, hard)`: the soft limit is
/// the one enforced, the hard one the most an unprivileged process may raise it to. std does
/// not expose resource limits.
pub(crate) fn open_files_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) })?;
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets this process's limit on open files (`RLIMIT_NOFILE`); see [`open_files_limit`].
pub(crate) fn set_open_files_limit(soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: setrlimit reads one rlimit from the struct we own.
    check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) })
}

// --- Files ---------------------------------------------------------------------------------------

/// Takes an exclusive advisory lock on `file` without waiting (`flock(2)` with `LOCK_EX |
/// LOCK_NB`): `Ok(true)` when taken, `Ok(false)` when another open file description holds it (in
/// this process or another). The lock lasts until the file is closed, and the kernel drops it
/// when the process dies, however it dies: no stale lock survives a `kill -9`. std's
/// `File::try_lock` needs Rust 1.89; the crate builds with 1.85.
pub(crate) fn try_lock_exclusive(file: &std::fs::File) -> io::Result<bool> {
    // SAFETY: flock(2) takes a descriptor and flags, no pointers. The descriptor is the file's
    // own, open for as long as we borrow the file.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    if error.kind() == io::ErrorKind::WouldBlock {
        return Ok(false);
    }
    Err(error)
}

/// Fills `buf` with random bytes from the kernel's CSPRNG (`getrandom(2)`), retrying the short
/// reads and interruptions the call allows. std has no public source of secure randomness.
///
/// Panics if the kernel refuses: without randomness, room names and session tokens could be
/// guessed, and no answer is better than a guessable one.
pub(crate) fn fill_random(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: getrandom writes at most `rest.len()` bytes at the start of `rest`, which we
        // hold a mutable borrow of for the whole call.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            assert!(err.kind() == io::ErrorKind::Interrupted, "getrandom failed: {err}");
            continue;
        }
        done += n as usize;
    }
}

/// The hour and minute in the local time zone (from `TZ` or `/etc/localtime`) of a moment given
/// in seconds since the Unix epoch, by `localtime_r(3)`. std knows no time zones. `None` if the
/// C library cannot convert it.
pub(crate) fn local_hour_minute(unix_secs: i64) -> Option<(u8, u8)> {
    let t = unix_secs as libc::time_t;
    // SAFETY: `tm` is all integers and one pointer, for which all zeroes (null) is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r reads `t` and writes only into `tm`, both ours for the call. It also
    // reads the environment (`TZ`), which is sound only while no thread changes the environment:
    // nothing in this program does (checked by `nothing_changes_the_environment` below).
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    Some((u8::try_from(tm.tm_hour).ok()?, u8::try_from(tm.tm_min).ok()?))
}

#[cfg(test)]
mod tests;
