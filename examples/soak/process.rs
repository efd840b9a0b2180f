//! The server under soak as a process: starting it, and reading its threads, descriptors and RSS
//! from `/proc`, and its heap from `/metrics`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Threads, file descriptors and RSS of a process, and its heap as the server reports it.
pub struct Figures {
    pub threads: u64,
    pub fds: u64,
    pub rss_kib: u64,
    /// `chatroom_heap_in_use_bytes` and `chatroom_heap_held_bytes`, in KiB.
    pub heap_in_use_kib: u64,
    pub heap_held_kib: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} threads, {} fds, {} KiB RSS; heap {} KiB in use, {} KiB held",
            self.threads, self.fds, self.rss_kib, self.heap_in_use_kib, self.heap_held_kib
        )
    }
}

fn figures(pid: u32, addr: SocketAddr) -> Figures {
    let (threads, fds, rss_kib) = figures_of_process(pid);
    let metrics = metrics(addr);
    let sample = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
            / 1024
    };
    Figures {
        threads,
        fds,
        rss_kib,
        heap_in_use_kib: sample("chatroom_heap_in_use_bytes"),
        heap_held_kib: sample("chatroom_heap_held_bytes"),
    }
}

/// Threads, file descriptors and RSS (KiB), from `/proc`.
fn figures_of_process(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("server status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0);
    (field("Threads:"), fds, field("VmRSS:"))
}

/// `GET /metrics`, the whole answer (the server closes after it: `Connection: close`).
fn metrics(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect for /metrics");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send /metrics request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read /metrics");
    answer
}

/// Waits (at most 30 s) until the server is down to its own few threads, then a little longer
/// for its housekeeping to hand freed memory back (it does every 5 s), then reads the figures.
pub fn settle(pid: u32, addr: SocketAddr) -> Figures {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if figures_of_process(pid).0 <= 5 || Instant::now() > until {
            thread::sleep(Duration::from_secs(6));
            return figures(pid, addr);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

pub fn start_server(binary: &str, data: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = Command::new(binary)
        .args(["--bind", "127.0.0.1:0", "--max-per-ip", "0", "--data-dir"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.with_extension("log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e} (build it with cargo build --release)"));
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("listening line");
    let addr =
        first.trim().strip_prefix("chatroom listening on http://").expect("listening line").parse().expect("address");
    (child, addr)
}
