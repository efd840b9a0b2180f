//! The soak test: a long, hostile, changing crowd against one real server, then a leak check.
//!
//! ```sh
//! cargo run --release --example soak                  # 10 minutes (the documented run)
//! cargo run --release --example soak -- --minutes 1   # a shorter look
//! ```
//!
//! It starts the release binary on 127.0.0.1 (own data dir, `--max-per-ip 0` because every client
//! comes from loopback; everything else at its defaults, the rate limit included), and runs, all at
//! once, for the whole duration:
//! - **500 churners** in 5 rooms: each connects, says a few things at a polite pace, leaves,
//!   pauses, and comes back as someone else, over and over;
//! - **5 listeners**, one per room, connected throughout: the loss oracle. Every message a
//!   churner sent while its room's listener was there must reach that listener, exactly once;
//! - **50 slowloris connections** dribbling a request head a byte at a time (the server's 10 s
//!   head deadline must cut each off; they reconnect);
//! - **5 flooders** sending far over the rate limit (the server must drop their excess and the
//!   rooms must not notice);
//! - **20 stuck members**, 4 per room, with a small receive buffer, that never read: the server
//!   must drop each once it is far behind, without the room waiting for it; they come back;
//! - **5 bad framers**, each opening connection after connection and sending something a server
//!   must refuse (invalid UTF-8, a binary message, an oversized frame, endless empty fragments, a
//!   forbidden close code): each must get its Close with the right code.
//!
//! Before the soak a one-minute warm-up of the same load runs and ends; the server's threads, file
//! descriptors and RSS are read once everyone has gone (the start), and again after the soak once
//! everyone has gone (the end). It fails (exit 1) if any message was lost or doubled, or if a
//! figure at the end is more than 5% above the start. Every loop is bounded by the deadline, and
//! only 127.0.0.1 is ever contacted.

mod bad_frames;
mod crowd;
mod load;
mod process;
mod sys;

use std::time::Duration;

use load::run_load;
use process::{settle, start_server};

const ROOMS: usize = 5;
const CHURNERS: usize = 500;
const SLOWLORIS: usize = 50;
const FLOODERS: usize = 5;
const STUCK: usize = 20;
const BAD_FRAMERS: usize = 5;

fn main() {
    let mut minutes = 10.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => minutes = args.next().and_then(|v| v.parse().ok()).expect("--minutes N"),
            other => panic!("unknown argument {other} (use --minutes N)"),
        }
    }
    sys::raise_open_files_limit();
    let binary = std::env::var("CHATROOM_BIN").unwrap_or_else(|_| "target/release/chatroom".into());
    let data = std::env::temp_dir().join(format!("chatroom-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (mut server, addr) = start_server(&binary, &data);
    let pid = server.id();
    println!(
        "soak: server pid {pid} on {addr}; {CHURNERS} churners in {ROOMS} rooms, {SLOWLORIS} slowloris, \
         {FLOODERS} flooders, {STUCK} stuck members, {BAD_FRAMERS} bad framers"
    );

    // Warm-up, so that the start figures include what a server keeps once it has been busy:
    // glibc's cache of thread stacks (up to 40 MiB of them, each keeping a page or two) and its
    // arenas reach their working size in the first minute.
    run_load(addr, Duration::from_secs(60));
    let start = settle(pid);
    println!("soak: start (after a 60 s warm-up, everyone gone): {start}");

    let duration = Duration::from_secs_f64(minutes * 60.0);
    println!("soak: running for {minutes} minutes");
    let report = run_load(addr, duration);
    let end = settle(pid);
    println!("soak: end (everyone gone): {end}");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
    let _ = std::fs::remove_file(data.with_extension("log"));

    println!("soak: {report}");
    println!(
        "soak: server log: {} members dropped for not reading, {} panics, {} connections refused",
        log.matches("dropped: stopped reading").count(),
        log.matches("panicked").count(),
        log.matches("refused: 503").count()
    );
    if log.contains("panicked") {
        println!("soak: FAIL: the server panicked");
        std::process::exit(1);
    }
    let mut failed = Vec::new();
    if report.lost > 0 || report.duplicated > 0 {
        failed.push(format!("{} lost, {} duplicated", report.lost, report.duplicated));
    }
    if report.bad_unexpected > 0 {
        failed.push(format!("{} bad frames not answered with their close code", report.bad_unexpected));
    }
    for (what, a, b) in
        [("threads", start.threads, end.threads), ("fds", start.fds, end.fds), ("RSS KiB", start.rss_kib, end.rss_kib)]
    {
        let limit = (a as f64 * 1.05).ceil() as u64;
        let ok = b <= limit;
        println!(
            "soak: {what:8} start {a:>8}  end {b:>8}  ({:+.1}%) {}",
            (b as f64 - a as f64) * 100.0 / a.max(1) as f64,
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            failed.push(format!("{what} grew from {a} to {b}"));
        }
    }
    if failed.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", failed.join("; "));
        std::process::exit(1);
    }
}
