//! The system calls, each tried for real.

use super::*;
use std::io::Write;
use std::path::{Path, PathBuf};
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

/// Uses `depth` KiB of stack below the caller, so that there is something to release.
#[inline(never)]
fn use_stack(depth: usize) -> u8 {
    let page = std::hint::black_box([depth as u8; 1024]);
    if depth == 0 {
        page[0]
    } else {
        page[1].wrapping_add(use_stack(depth - 1))
    }
}

#[test]
fn releasing_the_stack_keeps_the_callers_frames() {
    let thread = std::thread::Builder::new().stack_size(128 * 1024).spawn(|| {
        let kept = std::hint::black_box([7u8; 2048]);
        let before = use_stack(32);
        release_stack_below_here();
        assert!(kept.iter().all(|&b| b == 7), "a caller's frame was zeroed");
        // The released pages come back, zeroed, when the stack grows into them again.
        assert_eq!(use_stack(32), before);
    });
    thread.unwrap().join().unwrap();
}

#[test]
fn the_other_calls_answer() {
    interface_addresses().unwrap();
    let (soft, hard) = open_files_limit().unwrap();
    assert!(soft <= hard);
    let (hour, minute) = local_hour_minute(1_700_000_000).unwrap();
    assert!(hour < 24 && minute < 60);
    let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
    fill_random(&mut a);
    fill_random(&mut b);
    assert_ne!(a, b);
    trim_heap();
    prefetch(&a);
}

/// The non-comment lines of `src/` outside this module that contain one of `words` as a
/// whole word (so `unsafe_code` is not `unsafe`, nor `glibc` `libc`).
fn uses_outside_sys(words: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found no sources under {}", src.display());
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for file in files {
        if file == src.join("sys.rs") || file.starts_with(src.join("sys")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let whole_word = |word: &str| {
                code.match_indices(word)
                    .any(|(at, _)| !code[..at].ends_with(is_ident) && !code[at + word.len()..].starts_with(is_ident))
            };
            if words.iter().any(|word| whole_word(word)) {
                found.push(format!("{}:{}: {code}", file.display(), number + 1));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The rule this module exists for. The compiler already refuses `unsafe` blocks in the
/// library outside `sys` (`#![deny(unsafe_code)]` in lib.rs); this also covers `main.rs`, a
/// crate of its own, and `libc` names used without `unsafe` (types, constants, imports).
#[test]
fn only_sys_has_unsafe_code_or_names_libc() {
    let found = uses_outside_sys(&["unsafe", "libc"]);
    assert!(found.is_empty(), "move these into src/sys.rs, behind a safe function:\n{}", found.join("\n"));
}

/// `local_hour_minute` is sound only while no thread changes the environment (the C library
/// reads `TZ` without std's lock). Rust 2024 makes these two functions `unsafe` for that reason.
#[test]
fn nothing_changes_the_environment() {
    let found = uses_outside_sys(&["set_var", "remove_var"]);
    assert!(found.is_empty(), "the environment must not change while threads run:\n{}", found.join("\n"));
}

#[test]
fn send_file_sends_a_slice_and_gives_up_on_a_peer_that_stops_reading() {
    let path = std::env::temp_dir().join(format!("chatroom-sendfile-{}", std::process::id()));
    std::fs::write(&path, b"0123456789").unwrap();
    let file = File::open(&path).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    assert_eq!(send_file(&server, &file, 2, 5).unwrap(), 5);
    assert_eq!(send_file(&server, &file, 10, 5).unwrap(), 0, "at the end of the file");
    let mut got = [0u8; 5];
    std::io::Read::read_exact(&mut client, &mut got).unwrap();
    assert_eq!(&got, b"23456");
    // A peer that reads nothing: the socket fills, and the write timeout ends the wait.
    std::fs::write(&path, vec![7u8; 8 << 20]).unwrap();
    let big = File::open(&path).unwrap();
    set_send_buffer(&server, 4096).unwrap();
    server.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
    let started = Instant::now();
    let mut offset = 0u64;
    let error = loop {
        match send_file(&server, &big, offset, 8 << 20) {
            Ok(n) => offset += n as u64,
            Err(e) => break e,
        }
        assert!(offset < 8 << 20, "8 MiB went into a socket nobody reads");
    };
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = std::fs::remove_file(&path);
}
