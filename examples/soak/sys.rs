//! The soak's only `unsafe`: two socket and limit calls std has no safe form of.

use std::net::{SocketAddr, TcpStream};

/// A TCP connection whose receive buffer is small from the start (set before connecting).
pub fn connect_small(addr: SocketAddr) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(v4) = addr else { return None };
    // SAFETY: a socket we create and hand to TcpStream, which owns it from there on; the
    // sockaddr_in is fully initialised and its size is passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return None;
        }
        let stream = TcpStream::from_raw_fd(fd);
        let size: libc::c_int = 4096;
        let size_ptr = &size as *const libc::c_int as *const libc::c_void;
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size_ptr, std::mem::size_of::<libc::c_int>() as _);
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() },
            sin_zero: [0; 8],
        };
        let sin_ptr = &sin as *const libc::sockaddr_in as *const libc::sockaddr;
        (libc::connect(fd, sin_ptr, std::mem::size_of::<libc::sockaddr_in>() as _) == 0).then_some(stream)
    }
}

/// Raises the soak's own open-files limit to its hard limit: the crowd opens hundreds of sockets.
pub fn raise_open_files_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
