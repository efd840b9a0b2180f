//! The tests' only `unsafe`: the few system calls std has no safe form of, each behind a safe
//! function (as the server keeps its own in `src/sys`).

use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::Command;

/// Makes `command`'s child start with both open-files limits (soft and hard) at `files`.
pub fn limit_open_files(command: &mut Command, files: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: files, rlim_max: files };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// Sends `signal` to process `pid` (one of the test's own children).
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) takes two integers; the pid is a child of this test, not yet reaped.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

/// Sets a connected socket's receive buffer (SO_RCVBUF) to `bytes`, so that a client that does
/// not read fills up quickly.
pub fn set_receive_buffer(stream: &TcpStream, bytes: i32) {
    let size: libc::c_int = bytes;
    // SAFETY: a valid socket, a pointer to a c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt SO_RCVBUF");
}

/// A TCP connection whose receive buffer is set to `bytes` *before* connecting, so that the window
/// it offers is small from the start (set afterwards, the kernel has already offered a larger one).
pub fn connect_with_receive_buffer(addr: SocketAddr, bytes: i32) -> TcpStream {
    let SocketAddr::V4(v4) = addr else { panic!("tests bind 127.0.0.1") };
    // SAFETY: a socket we create and at once hand to TcpStream, which owns (and closes) it from
    // there on.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        TcpStream::from_raw_fd(fd)
    };
    set_receive_buffer(&stream, bytes);
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() },
        sin_zero: [0; 8],
    };
    // SAFETY: the socket is ours and open; the sockaddr_in is fully initialised and its size is
    // passed.
    let rc = unsafe {
        libc::connect(
            stream.as_raw_fd(),
            &sin as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "connect to {addr}");
    stream
}
