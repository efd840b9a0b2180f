//! The server under test, as a child process: where its binary is, which flags lift chatroom's
//! limits, starting it (pinned to its CPU) and reading its port, and making sure it dies with us.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::proc;

/// The flags that lift chatroom's caps and rate limit, so the bench measures relaying and not
/// refusals. Each is passed only when `chatroom --help` mentions it (older builds lack them and
/// would refuse an unknown flag). `--max-connections` must exceed the largest scenario (10,000
/// clients) with room to spare.
pub const LIFTED_LIMITS: &[(&str, &str)] =
    &[("--max-per-ip", "0"), ("--rate-limit", "0"), ("--max-connections", "16384"), ("--upload-rate", "0")];

/// The release directory of a native build (`cargo build --release`, no `--target`).
const RELEASE_DIR: &str = "target/release";

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Chatroom,
    Baseline,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Chatroom => "chatroom",
            Kind::Baseline => "baseline",
        }
    }
}

/// How to start one server.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: Kind,
    pub binary: PathBuf,
    pub args: Vec<String>,
}

/// Finds a release binary of the workspace. Next to our own executable when we are the release
/// build (the usual case, via `bench/run.sh`); else in the workspace's release directory.
pub fn find_binary(name: &str) -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent().filter(|d| d.ends_with("release")) {
            candidates.push(dir.join(name));
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    candidates.push(workspace.join(RELEASE_DIR).join(name));
    candidates.push(Path::new(RELEASE_DIR).join(name));
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!(
            "no release build of `{name}` (looked in {}); build with `bench/run.sh` or \
             `cargo build --release -p chatroom -p chatroom-bench --bins`",
            candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The lifted-limit flags this chatroom build understands (from its `--help`), as arguments, and
/// the names of the ones it does not know.
pub fn lifted_limit_args(chatroom: &Path) -> Result<(Vec<String>, Vec<&'static str>), String> {
    let output = Command::new(chatroom)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} --help: {e}", chatroom.display()))?;
    let help = String::from_utf8_lossy(&output.stdout);
    let mut args = Vec::new();
    let mut absent = Vec::new();
    for &(flag, value) in LIFTED_LIMITS {
        if help.contains(flag) {
            args.push(flag.to_string());
            args.push(value.to_string());
        } else {
            absent.push(flag);
        }
    }
    Ok((args, absent))
}

/// The `files --side-load` helper (`bench/src/bin/files.rs`), started beside S1FILES: a 25 MiB
/// upload and download after another against `addr`, in a room of their own. Killed when dropped.
pub struct SideLoad(Child);

impl Drop for SideLoad {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the side load against `addr`. It needs a moment to join its room and start its first
/// upload, a small part of S1's six seconds.
pub fn side_load(addr: SocketAddr) -> Result<SideLoad, String> {
    let binary = find_binary("files")?;
    // The helper shares the load generator's CPU: it must not be what delays the measured
    // deliveries, so it runs at the lowest priority (`nice`, coreutils). What S1FILES shows is
    // then the server's part.
    let child = Command::new("nice")
        .args(["-n", "19"])
        .arg(&binary)
        .arg("--side-load")
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    Ok(SideLoad(child))
}

/// The pid of the server now running, for the signal handler (0 when none).
static LIVE_SERVER: AtomicI32 = AtomicI32::new(0);

/// On SIGINT/SIGTERM/SIGHUP, kills the running server and exits, so an interrupted bench never
/// leaves a server spinning on CPU 0. (Panics are covered by [`Running`]'s `Drop`.)
pub fn kill_server_on_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let pid = LIVE_SERVER.swap(0, Ordering::SeqCst);
            if pid > 0 {
                proc::kill_now(pid);
            }
            eprintln!("chatroom-bench: interrupted (signal {signal}); server stopped");
            std::process::exit(130);
        }
    })?;
    Ok(())
}

/// A started server. Dropping it kills the process and reaps it, whatever happened in between.
pub struct Running {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
}

impl Running {
    /// Whether the process is still alive (it may have crashed under load).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        LIVE_SERVER.store(0, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spec` on 127.0.0.1 with an OS-chosen port, in `workdir` (fresh, so nothing a previous
/// run left behind, such as chat history, is loaded), with its stdout after the first line and
/// its stderr appended to `log`. Pinned to `cpu` through `taskset` when given.
pub fn start(spec: &Spec, cpu: Option<usize>, workdir: &Path, log: &Path) -> Result<Running, String> {
    let log_file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let stderr = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(&spec.binary);
            c
        }
        None => Command::new(&spec.binary),
    };
    command
        .arg("--bind")
        .arg("127.0.0.1:0")
        .args(&spec.args)
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    // Settings must come from the flags above only, not from the caller's environment.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHATROOM_") {
            command.env_remove(key);
        }
    }
    proc::die_with_parent(&mut command);
    let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", spec.binary.display()))?;
    let pid = child.id();
    LIVE_SERVER.store(pid as i32, Ordering::SeqCst);
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    // Build the guard now, so every early return below still kills the child.
    let mut running = Running { child, pid, addr: SocketAddr::from(([127, 0, 0, 1], 0)) };

    // A thread reads the first line (std pipes have no read timeout) and then keeps draining
    // stdout into the log, so a chatty server can never block on a full pipe.
    let (first_line, got_line) = mpsc::channel();
    let mut log_rest = log_file;
    std::thread::Builder::new()
        .name(format!("{}-stdout", spec.kind.name()))
        .spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next());
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(log_rest, "{line}");
            }
        })
        .map_err(|e| e.to_string())?;

    let line = match got_line.recv_timeout(START_TIMEOUT) {
        Ok(Some(Ok(line))) => line,
        Ok(_) => return Err(format!("{} exited before printing its address; see {}", spec.kind.name(), log.display())),
        Err(_) => return Err(format!("{} printed no address within {START_TIMEOUT:?}", spec.kind.name())),
    };
    running.addr = parse_listening_line(&line)
        .ok_or_else(|| format!("unexpected first line from {}: {line:?}", spec.kind.name()))?;
    if !running.alive() {
        return Err(format!("{} exited right after starting; see {}", spec.kind.name(), log.display()));
    }
    Ok(running)
}

/// `NAME listening on http://IP:PORT` → the address (0.0.0.0 read as 127.0.0.1).
fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    let url = &line[line.find("http://")? + "http://".len()..];
    let mut addr: SocketAddr = url.trim().trim_end_matches('/').parse().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::parse_listening_line;

    #[test]
    fn reads_both_servers_first_lines() {
        assert_eq!(
            parse_listening_line("chatroom listening on http://127.0.0.1:4321").unwrap().to_string(),
            "127.0.0.1:4321"
        );
        assert_eq!(
            parse_listening_line("baseline listening on http://0.0.0.0:80/").unwrap().to_string(),
            "127.0.0.1:80"
        );
        assert!(parse_listening_line("hello").is_none());
    }
}
