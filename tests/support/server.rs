//! The server under test: the real `chatroom` binary, started on 127.0.0.1:0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use super::{sys, wait_until, TempDir, TIMEOUT};

/// A running server process. Killed when dropped.
pub struct TestServer {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    /// The data dir made for this server, unless the test gave `--data-dir` or `--memory`.
    data: Option<TempDir>,
}

impl TestServer {
    /// Starts `chatroom --bind 127.0.0.1:0 ARGS...` and waits for its listening line.
    pub fn start(args: &[&str]) -> TestServer {
        Self::start_with_env(args, &[])
    }

    /// Like [`TestServer::start`], with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> TestServer {
        Self::start_full(args, env, None)
    }

    /// Like [`TestServer::start`], with both open-files limits (soft and hard) set to `files`, so
    /// that the server cannot raise them.
    pub fn start_with_open_files(args: &[&str], files: u64) -> TestServer {
        Self::start_full(args, &[], Some(files))
    }

    fn start_full(args: &[&str], env: &[(&str, &str)], open_files: Option<u64>) -> TestServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatroom"));
        if let Some(files) = open_files {
            sys::limit_open_files(&mut command, files);
        }
        if !args.contains(&"--bind") {
            command.args(["--bind", "127.0.0.1:0"]);
        }
        // Every server gets its own fresh data dir, so tests never share history.
        let data = (!args.contains(&"--data-dir") && !args.contains(&"--memory")).then(|| TempDir::new("data"));
        if let Some(dir) = &data {
            command.arg("--data-dir").arg(dir.path());
        }
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start chatroom");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = stderr.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {} // keep the pipe drained
        });
        let first = match rx.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not print its listening line; stderr:\n{}", stderr.lock().unwrap());
            }
        };
        let addr = first
            .strip_prefix("chatroom listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .expect("address in the first line");
        TestServer { child, addr, stderr, data }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many file descriptors the server has open now (sockets, logs, the standard streams).
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|dir| dir.count()).unwrap_or(0)
    }

    /// The data dir this server was given by [`TestServer::start`], if it made one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_ref().map(TempDir::path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the server's stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str) -> String {
        wait_until(&format!("log line containing {needle:?}"), || {
            let log = self.log();
            log.contains(needle).then_some(log)
        })
    }

    /// Sends the server process `signal` (`libc::SIGTERM` and the like).
    pub fn signal(&self, signal: i32) {
        sys::send_signal(self.child.id(), signal);
    }

    /// Waits for the process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_for_exit(&mut self.child, timeout)
    }
}

/// Waits for `child` to exit, up to `timeout`; `None` if it is still running.
pub fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server stderr ---\n{}", self.log());
        }
    }
}
