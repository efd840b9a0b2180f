//! The server under soak as a process: starting it, and reading its threads, descriptors and RSS
//! from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Threads, file descriptors and RSS of a process.
pub struct Figures {
    pub threads: u64,
    pub fds: u64,
    pub rss_kib: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} threads, {} fds, {} KiB RSS", self.threads, self.fds, self.rss_kib)
    }
}

fn figures(pid: u32) -> Figures {
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
    Figures { threads: field("Threads:"), fds, rss_kib: field("VmRSS:") }
}

/// Waits (at most 30 s) until the server is down to its own few threads, then a little longer
/// for its housekeeping to hand freed memory back (it does every 5 s), then reads the figures.
pub fn settle(pid: u32) -> Figures {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let now = figures(pid);
        if now.threads <= 5 || Instant::now() > until {
            thread::sleep(Duration::from_secs(6));
            return figures(pid);
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
