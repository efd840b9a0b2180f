//! `chatroom-bench search`: searching and exporting a room's long log, against `grep`.
//!
//! It writes a log of realistic chat (default 100 MB) into a fresh data dir, starts chatroom on
//! it (127.0.0.1, pinned to its CPU, like every scenario), warms the page cache, and then:
//! - times `grep -ci WORD LOG` and `GET /r/ROOM/search?q=WORD` for a word that is not in the log,
//!   N times each (5 by default), and gives the medians and their ratio (target: at most 2);
//! - samples the server's RSS (`/proc/PID/status`, every millisecond) while it searches and while
//!   it exports the log as text, JSON lines and HTML, and gives the peak growth over the RSS just
//!   before (target: at most 4 MB), with `VmHWM` as a check that no peak fell between samples;
//! - checks the answers: a word planted in exactly [`PLANTED`] messages is found by both, as
//!   often; the JSON-lines export is the log byte for byte, the text export has a line per
//!   message (none has a newline), and the HTML export is a whole page with no script.
//!
//! `grep` runs with `LC_ALL=C` (its fastest: no multibyte case folding), on the server's CPU.
//! `--smoke` runs the same on a 4 MB log, once each, checking the answers only: a few seconds.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::proc;
use crate::server::{self, Kind, Spec};

/// The word searched for, in no message.
const ABSENT: &str = "zyzzyva";

/// A word planted in exactly [`PLANTED`] messages, spread over the log.
const RARE: &str = "quokka";
const PLANTED: usize = 37;

/// The room whose log is written.
const ROOM: &str = "archive";

/// What to run.
pub struct Options {
    pub megabytes: u64,
    pub runs: usize,
    pub smoke: bool,
    pub chatroom: PathBuf,
    pub out: PathBuf,
    pub server_cpu: Option<usize>,
}

/// The figures of one search benchmark.
pub struct Figures {
    pub log_bytes: u64,
    pub messages: u64,
    pub grep_ms: Vec<f64>,
    pub search_ms: Vec<f64>,
    pub export_ms: Vec<(&'static str, f64)>,
    /// (what, sampled peak growth KiB, VmHWM after − VmRSS before KiB)
    pub rss: Vec<(&'static str, u64, u64)>,
}

pub fn run(options: &Options) -> Result<Figures, String> {
    let work = options.out.join("work").join("search");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let work = std::fs::canonicalize(&work).map_err(|e| e.to_string())?;
    let log = work.join(format!("{ROOM}.jsonl"));
    let (log_bytes, messages) = write_log(&log, options.megabytes << 20)?;
    eprintln!("chatroom-bench: search: wrote {log_bytes} bytes, {messages} messages, to {}", log.display());

    let spec = Spec {
        kind: Kind::Chatroom,
        binary: options.chatroom.clone(),
        args: vec!["--data-dir".into(), work.display().to_string()],
    };
    let server_log = options.out.join("logs").join("SEARCH-chatroom.log");
    let running = server::start(&spec, options.server_cpu, &work, &server_log)?;
    let (pid, addr) = (running.pid, running.addr);

    // A warm page cache for both: read the file once, and run grep once.
    std::fs::read(&log).map_err(|e| e.to_string())?;
    let planted_by_grep = grep_count(RARE, &log, options.server_cpu)?.1;
    if planted_by_grep != PLANTED as u64 {
        return Err(format!("grep -ci {RARE} counted {planted_by_grep}, not {PLANTED}"));
    }
    let planted = get(addr, &format!("/r/{ROOM}/search?q={RARE}&limit=200"))?;
    let found = String::from_utf8_lossy(&planted).matches("\"type\":\"message\"").count();
    if found != PLANTED {
        return Err(format!("search for {RARE} found {found} messages, not {PLANTED}"));
    }

    let mut figures = Figures {
        log_bytes,
        messages,
        grep_ms: Vec::new(),
        search_ms: Vec::new(),
        export_ms: Vec::new(),
        rss: Vec::new(),
    };
    let runs = if options.smoke { 1 } else { options.runs };
    let mut search_growth = (0, 0);
    for _ in 0..runs {
        let (ms, count) = grep_count(ABSENT, &log, options.server_cpu)?;
        if count != 0 {
            return Err(format!("grep found {ABSENT} {count} times"));
        }
        figures.grep_ms.push(ms);
        let (ms, body, growth) = measured(pid, || get(addr, &format!("/r/{ROOM}/search?q={ABSENT}")))?;
        if !String::from_utf8_lossy(&body).contains("\"messages\":[]") {
            return Err(format!("search for {ABSENT} answered {}", String::from_utf8_lossy(&body)));
        }
        figures.search_ms.push(ms);
        search_growth = (search_growth.0.max(growth.0), search_growth.1.max(growth.1));
    }
    figures.rss.push(("search", search_growth.0, search_growth.1));
    for (format, what) in [("txt", "export txt"), ("jsonl", "export jsonl"), ("html", "export html")] {
        let (ms, body, growth) = measured(pid, || get(addr, &format!("/r/{ROOM}/export?format={format}")))?;
        let right = match format {
            "jsonl" => body == std::fs::read(&log).map_err(|e| e.to_string())?,
            "txt" => body.iter().filter(|&&b| b == b'\n').count() as u64 == messages,
            _ => body.ends_with(b"</html>\n") && !body.windows(7).any(|w| w == b"<script"),
        };
        if !right {
            return Err(format!("the {format} export is not what the log holds"));
        }
        figures.export_ms.push((format, ms));
        figures.rss.push((what, growth.0, growth.1));
    }
    drop(running);
    let _ = std::fs::remove_dir_all(&work);
    Ok(figures)
}

/// Runs `work` while a thread samples `pid`'s RSS every millisecond: its time in ms, its result,
/// and (peak sampled RSS − RSS before, VmHWM after − RSS before) in KiB.
fn measured<T>(pid: u32, work: impl FnOnce() -> Result<T, String>) -> Result<(f64, T, (u64, u64)), String> {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)), so the high-water mark
    // after is this work's own peak; a kernel without it leaves an earlier, higher mark (an
    // overestimate, never an underestimate).
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = proc::status(pid).map_err(|e| e.to_string())?.rss_kib;
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Ok(status) = proc::status(pid) {
                    peak.fetch_max(status.rss_kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let start = Instant::now();
    let result = work();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let hwm = high_water_kib(pid).unwrap_or(0);
    Ok((ms, result?, (peak.load(Ordering::Relaxed) - before, hwm.saturating_sub(before))))
}

fn high_water_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `grep -ci word log` on `cpu` (with `LC_ALL=C`): its wall time in ms and the count it printed.
fn grep_count(word: &str, log: &Path, cpu: Option<usize>) -> Result<(f64, u64), String> {
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg("grep");
            c
        }
        None => Command::new("grep"),
    };
    command.arg("-ci").arg(word).arg(log).env("LC_ALL", "C").stdin(Stdio::null()).stderr(Stdio::inherit());
    let start = Instant::now();
    let output = command.output().map_err(|e| format!("cannot run grep: {e}"))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let count = String::from_utf8_lossy(&output.stdout).trim().parse().map_err(|_| "grep printed no count")?;
    Ok((ms, count))
}

/// `GET path` over a fresh connection, read to its end: the body (dechunked if need be).
fn get(addr: SocketAddr, path: &str) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    stream.read_to_end(&mut all).map_err(|e| format!("GET {path}: {e}"))?;
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").ok_or(format!("GET {path}: no head"))?;
    let head = String::from_utf8_lossy(&all[..split]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")));
    }
    let body = &all[split + 4..];
    Ok(if head.contains("transfer-encoding: chunked") { dechunk(body)? } else { body.to_vec() })
}

/// A chunked body's data (RFC 9112 §7.1).
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n").ok_or("a chunk without its size line")?;
        let size = usize::from_str_radix(std::str::from_utf8(&body[..end]).map_err(|e| e.to_string())?, 16)
            .map_err(|e| format!("chunk size: {e}"))?;
        if size == 0 {
            return Ok(out);
        }
        let data = body.get(end + 2..end + 2 + size).ok_or("a chunk cut short")?;
        out.extend_from_slice(data);
        body = &body[end + 2 + size + 2..];
    }
}

/// Writes about `bytes` of chat to `log`, one message per line as chatroom stores it; returns
/// the bytes and messages written. Deterministic: the same every run.
fn write_log(log: &Path, bytes: u64) -> Result<(u64, u64), String> {
    const WORDS: &[&str] = &[
        "the",
        "a",
        "to",
        "and",
        "of",
        "in",
        "is",
        "it",
        "you",
        "that",
        "for",
        "on",
        "with",
        "this",
        "was",
        "are",
        "be",
        "at",
        "have",
        "but",
        "not",
        "we",
        "what",
        "so",
        "can",
        "just",
        "like",
        "do",
        "if",
        "all",
        "my",
        "your",
        "get",
        "there",
        "about",
        "out",
        "up",
        "one",
        "they",
        "no",
        "know",
        "go",
        "time",
        "see",
        "when",
        "think",
        "how",
        "yeah",
        "lunch",
        "meeting",
        "tomorrow",
        "code",
        "deploy",
        "server",
        "bug",
        "fix",
        "test",
        "build",
        "review",
        "coffee",
        "later",
        "okay",
        "sure",
        "thanks",
        "great",
        "nice",
        "café",
        "naïve",
        "😀",
        "https://example.org/a/b?c=1",
        "\"quoted\"",
        "C:\\temp",
        "@ann",
    ];
    const NAMES: &[&str] = &["ann", "bob", "carol", "dave", "erin", "Émile", "zoë", "guest-4821", "Ann (2)", "李雷"];
    let file = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        (random % n as u64) as usize
    };
    let (mut written, mut seq, mut ts) = (0u64, 0u64, 1_764_190_800_000u64);
    let every = (bytes / 150 / PLANTED as u64).max(1); // about one planted word per this many messages
    let mut planted = 0;
    let mut line = String::new();
    while written < bytes || planted < PLANTED {
        seq += 1;
        ts += 100 + next(60_000) as u64;
        let length = [2, 3, 5, 8, 12, 20, 40][next(7)];
        let mut text: Vec<&str> = (0..length).map(|_| WORDS[next(WORDS.len())]).collect();
        if planted < PLANTED && seq % every == 0 {
            text.push(if planted % 2 == 0 { "Quokka" } else { RARE });
            planted += 1;
        }
        let text = text.join(" ");
        let message = Line { seq, ts, name: NAMES[next(NAMES.len())], text: &text };
        line.clear();
        line.push_str(&serde_json::to_string(&message).map_err(|e| e.to_string())?);
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        written += line.len() as u64;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok((written, seq))
}

/// One line of a room's log, its fields in the order chatroom writes them.
#[derive(serde::Serialize)]
struct Line<'a> {
    seq: u64,
    ts: u64,
    name: &'a str,
    text: &'a str,
}

/// The median of some timings.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The figures as a Markdown table, with the targets.
pub fn report(figures: &Figures, options: &Options) -> String {
    let (grep, search) = (median(&figures.grep_ms), median(&figures.search_ms));
    let ratio = search / grep;
    let mut out = format!(
        "## SEARCH: a {:.1} MB room log ({} messages), warm page cache, median of {}\n\n\
         | figure | value | target |\n|---|---:|---|\n\
         | `grep -ci {ABSENT} LOG` (LC_ALL=C) | {grep:.1} ms | |\n\
         | `GET /r/{ROOM}/search?q={ABSENT}` | {search:.1} ms | |\n\
         | **search ÷ grep** | **{ratio:.2}** | ≤ 2 ({}) |\n",
        figures.log_bytes as f64 / (1 << 20) as f64,
        figures.messages,
        figures.grep_ms.len(),
        if ratio <= 2.0 { "met" } else { "NOT met" },
    );
    for (format, ms) in &figures.export_ms {
        out.push_str(&format!("| `GET /r/{ROOM}/export?format={format}` (informative) | {ms:.0} ms | |\n"));
    }
    for (what, sampled, hwm) in &figures.rss {
        let most = (*sampled).max(*hwm) as f64 / 1024.0;
        out.push_str(&format!(
            "| RSS growth while {what}: sampled peak / VmHWM | {:.2} / {:.2} MB | ≤ 4 MB ({}) |\n",
            *sampled as f64 / 1024.0,
            *hwm as f64 / 1024.0,
            if most <= 4.0 { "met" } else { "NOT met" },
        ));
    }
    out.push_str(&format!(
        "\nEvery run (ms): grep {:?}, search {:?}. Answers checked: `{RARE}`, planted in {PLANTED} messages, \
         found {PLANTED} times by both; the jsonl export is the log byte for byte, the txt export \
         has one line per message, the html export is whole.\n",
        figures.grep_ms.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>(),
        figures.search_ms.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>(),
    ));
    if options.smoke {
        out.push_str("(Smoke run: one run on a small log; the figures are not the benchmark's.)\n");
    }
    out
}

#[cfg(test)]
mod tests;
