//! `files`: the file-sharing benchmark (issue 15), on loopback, in plain blocking Rust.
//!
//! - **Download**: one 25 MiB file, `GET` whole over loopback from chatroom (`sendfile(2)`) and
//!   from nginx (Debian's package, `sendfile on`, started here as an unprivileged foreground
//!   process with its own temporary config on a free loopback port, and stopped here).
//!   Figure: nginx's time ÷ chatroom's (chatroom's speed as a share of nginx's; goal ≥ 0.8).
//! - **Upload**: 25 MiB `POST /r/ROOM/files`, each run with different bytes (no dedupe), against
//!   the work it cannot avoid: `sha256sum` of the same file plus `cp` of it on the same disk.
//!   chatroom runs `--fsync never` here, as `cp` does not sync either. Goal ≤ 1.5.
//!
//! Runs alternate between the two sides, after one warm-up each; figures are medians.
//! `--side-load ADDR` is the third part's helper: `chatroom-bench --scenarios S1,S1FILES` starts
//! it beside S1 to keep one upload and one download running against the server under test.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite;

const MIB: usize = 1 << 20;
/// Every wait for a server or a transfer gives up after this.
const LIMIT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--side-load") => args.get(1).ok_or("--side-load needs ADDR".to_string()).and_then(|a| side_load(a)),
        Some("--help" | "-h") => {
            println!("files [--runs N] [--chatroom PATH]   |   files --side-load ADDR");
            Ok(())
        }
        _ => compare(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("files: {e}");
            ExitCode::from(1)
        }
    }
}

/// A process killed when dropped, whatever way the bench ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn compare(args: &[String]) -> Result<(), String> {
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = flag("--runs").map_or(Ok(7), |n| n.parse()).map_err(|_| "--runs: not a number")?;
    let chatroom = PathBuf::from(flag("--chatroom").unwrap_or_else(|| "target/release/chatroom".into()));
    let size = 25 * MIB;
    let dir = std::env::temp_dir().join(format!("chatroom-files-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["www", "data", "src", "nginx"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    let result = measure(&dir, &chatroom, size, runs.clamp(1, 50));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(dir: &Path, chatroom: &Path, size: usize, runs: usize) -> Result<(), String> {
    let (_server, addr) = start_chatroom(chatroom, &dir.join("data"), size)?;
    let _member = join(addr, "bench")?;
    let bytes = variant(size, 0);
    let url = upload(addr, "bench", "film.bin", &bytes)?;
    std::fs::write(dir.join("www/film.bin"), &bytes).map_err(|e| e.to_string())?;
    let (_nginx, nginx) = start_nginx(&dir.join("nginx"), &dir.join("www"))?;

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let a = time(|| download(addr, &url, size))?;
        let b = time(|| download(nginx, "/film.bin", size))?;
        if run > 0 {
            ours.push(a);
            theirs.push(b);
        }
    }
    let (down_ours, down_nginx) = (median(&mut ours), median(&mut theirs));

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let bytes = variant(size, run as u64 + 1);
        let source = dir.join("src/upload.bin");
        std::fs::write(&source, &bytes).map_err(|e| e.to_string())?;
        let a = time(|| upload(addr, "bench", &format!("up{run}.bin"), &bytes).map(drop))?;
        let copy = dir.join("data/copy.bin");
        let b = time(|| sha256sum_and_cp(&source, &copy))?;
        let _ = std::fs::remove_file(&copy);
        if run > 0 {
            ours.push(a);
            theirs.push(b);
        }
    }
    let (up_ours, up_floor) = (median(&mut ours), median(&mut theirs));

    let mib_s = |secs: f64| size as f64 / MIB as f64 / secs;
    println!("| 25 MiB over loopback, median of {runs} | chatroom | reference | ratio | goal |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| download (reference: nginx, sendfile on) | {:.1} ms ({:.0} MiB/s) | {:.1} ms ({:.0} MiB/s) | **{:.2}** of nginx's speed | ≥ 0.8 |",
        down_ours * 1e3,
        mib_s(down_ours),
        down_nginx * 1e3,
        mib_s(down_nginx),
        down_nginx / down_ours
    );
    println!(
        "| upload (reference: sha256sum + cp) | {:.1} ms | {:.1} ms | **{:.2}** × the time | ≤ 1.5 |",
        up_ours * 1e3,
        up_floor * 1e3,
        up_ours / up_floor
    );
    Ok(())
}

/// `size` bytes that differ for each `seed`: no two runs' uploads are the same file.
fn variant(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(size);
    while bytes.len() < size {
        // xorshift64: fast, and nothing a file system could compress or share.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

fn time(f: impl FnOnce() -> Result<(), String>) -> Result<f64, String> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn start_chatroom(bin: &Path, data: &Path, size: usize) -> Result<(Guard, SocketAddr), String> {
    let mut child = Command::new(bin)
        .args(["--bind", "127.0.0.1:0", "--max-per-ip", "0", "--upload-rate", "0", "--fsync", "never"])
        .args(["--max-upload", &size.to_string(), "--files-quota", &(1u64 << 40).to_string()])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e} (build it: cargo build --release)", bin.display()))?;
    let mut out = child.stdout.take().expect("piped");
    let guard = Guard(child);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") && line.len() < 200 {
        if out.read(&mut byte).map_err(|e| e.to_string())? == 0 {
            return Err("chatroom exited before it was listening".into());
        }
        line.push(byte[0]);
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let text = String::from_utf8_lossy(&line);
    let addr = text.trim().strip_prefix("chatroom listening on http://").ok_or(format!("unexpected line {text:?}"))?;
    Ok((guard, addr.parse().map_err(|_| format!("unexpected line {text:?}"))?))
}

fn start_nginx(dir: &Path, root: &Path) -> Result<(Guard, SocketAddr), String> {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let d = dir.display();
    let config = format!(
        "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{ access_log off; sendfile on; default_type application/octet-stream;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
           uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           server {{ listen 127.0.0.1:{port}; root {}; }} }}\n",
        root.display()
    );
    std::fs::write(dir.join("nginx.conf"), config).map_err(|e| e.to_string())?;
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists());
    let nginx = nginx.ok_or("no nginx: apt-get install nginx (Debian's package), or run without the download part")?;
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nginx: {e}"))?;
    let guard = Guard(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let until = Instant::now() + LIMIT;
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > until {
            return Err(format!("nginx did not listen on {addr} (see {d}/error.log)"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok((guard, addr))
}

/// A member of `room` from this address, which uploads need; kept open by the caller.
fn join(addr: SocketAddr, room: &str) -> Result<tungstenite::WebSocket<TcpStream>, String> {
    let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let url = format!("ws://{addr}/r/{room}/connect?name=bench");
    let (mut ws, _) = tungstenite::client(url, stream).map_err(|e| format!("joining {room}: {e}"))?;
    ws.read().map_err(|e| format!("the welcome: {e}"))?;
    Ok(ws)
}

fn upload(addr: SocketAddr, room: &str, name: &str, bytes: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
    let head = format!(
        "POST /r/{room}/files?name={name} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(bytes)).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    if !answer.starts_with("HTTP/1.1 201") {
        return Err(format!("upload refused: {answer}"));
    }
    let url = answer.split("\"url\":\"").nth(1).and_then(|rest| rest.split('"').next());
    url.map(str::to_string).ok_or(format!("no url in {answer}"))
}

/// Downloads `path` whole and checks its length; the body is read and dropped.
fn download(addr: SocketAddr, path: &str, size: usize) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 256 * 1024];
    let (mut total, mut head_end) = (0usize, None);
    loop {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if head_end.is_none() {
            head_end = buf[..n].windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
            total += n - head_end.unwrap_or(n);
        } else {
            total += n;
        }
    }
    if total != size {
        return Err(format!("{path}: {total} bytes of body, not {size}"));
    }
    Ok(())
}

fn sha256sum_and_cp(source: &Path, copy: &Path) -> Result<(), String> {
    let sum = Command::new("sha256sum").arg(source).stdout(Stdio::null()).status().map_err(|e| e.to_string())?;
    let cp = Command::new("cp").arg(source).arg(copy).status().map_err(|e| e.to_string())?;
    (sum.success() && cp.success()).then_some(()).ok_or("sha256sum or cp failed".into())
}

/// Keeps one upload and one download of 25 MiB going against `addr`, one after the other, until
/// killed (at most 10 minutes, or 2,000 rounds). `SIDE_LOAD=up` (or `down`) in the environment
/// keeps only uploads (or only downloads of one file uploaded first) going, to tell their costs
/// apart.
fn side_load(addr: &str) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|_| format!("{addr:?} is not IP:PORT"))?;
    let only = std::env::var("SIDE_LOAD").unwrap_or_default();
    let (up, down) = (only != "down", only != "up");
    let files: Vec<Vec<u8>> = (0..4).map(|i| variant(25 * MIB, 1_000 + i)).collect();
    let _member = join(addr, "transfers")?;
    let until = Instant::now() + Duration::from_secs(600);
    let mut url = None;
    for round in 0..2_000usize {
        if Instant::now() > until {
            break;
        }
        let which = if up { round % 4 } else { 0 };
        let started = Instant::now();
        if up || url.is_none() {
            url = Some(upload(addr, "transfers", &format!("side{which}.bin"), &files[which])?);
        }
        let uploaded = Instant::now();
        if down {
            download(addr, url.as_deref().unwrap_or_default(), files[which].len())?;
        }
        // How long each took beside the chat, for the bench's log.
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        eprintln!("side load: upload {:.0} ms, download {:.0} ms", ms(uploaded - started), ms(uploaded.elapsed()));
    }
    Ok(())
}
