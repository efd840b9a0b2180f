//! The soak's crowd: listeners (the loss oracle), churners, slowloris heads, flooders and stuck
//! members.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::Message;

use crate::load::{connect, token_of, Shared};
use crate::sys::connect_small;
use crate::ROOMS;

pub fn listener(shared: &Shared, room: usize, until: &AtomicBool) {
    let mut ws = connect(shared, &format!("/r/soak{room}/connect?name=listener")).expect("listener connects");
    shared.listening[room].store(true, Ordering::Release);
    let mut quiet_since = Instant::now();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                quiet_since = Instant::now();
                if let Some(token) = token_of(text.as_str()) {
                    *shared.ledger.lock().unwrap().received[room].entry(token.to_string()).or_insert(0) += 1;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Done once told to stop and nothing has come for a while.
                if until.load(Ordering::Acquire) && quiet_since.elapsed() > Duration::from_secs(2) {
                    break;
                }
            }
            Err(e) => panic!("listener {room} lost its connection: {e}"),
        }
    }
    shared.listening[room].store(false, Ordering::Release);
    let _ = ws.close(None);
    let _ = ws.flush();
}

/// Connect, say 2–5 things a second apart, leave, pause, repeat: as someone new each time.
pub fn churner(shared: &Shared, i: usize) {
    let mut round = 0u64;
    while !shared.stop.load(Ordering::Acquire) {
        round += 1;
        let room = (i + round as usize) % ROOMS;
        let Some(mut ws) = connect(shared, &format!("/r/soak{room}/connect?name=c{i}-{round}")) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let says = 2 + (i + round as usize) % 4;
        let mut cut_off = false;
        for _ in 0..says {
            if shared.stop.load(Ordering::Acquire) {
                break;
            }
            let token = format!("soak:{}:{}", shared.run, shared.next_token.fetch_add(1, Ordering::Relaxed));
            let observed = shared.listening[room].load(Ordering::Acquire);
            let json = format!(r#"{{"message":"{token}"}}"#);
            if ws.send(Message::text(json)).is_err() {
                shared.unconfirmed.fetch_add(1, Ordering::Relaxed);
                cut_off = true;
                break;
            }
            // Read (and so keep up with the room) for about a second, watching for our own echo.
            let mut confirmed = false;
            let until = Instant::now() + Duration::from_millis(1000);
            while Instant::now() < until || !confirmed {
                match ws.read() {
                    Ok(Message::Text(text)) => {
                        if token_of(text.as_str()) == Some(token.as_str()) {
                            confirmed = true;
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
                if Instant::now() > until + Duration::from_secs(10) {
                    break;
                }
            }
            if !confirmed {
                shared.unconfirmed.fetch_add(1, Ordering::Relaxed);
                cut_off = true;
                break;
            }
            if observed && shared.listening[room].load(Ordering::Acquire) {
                shared.ledger.lock().unwrap().sent[room].insert(token);
            }
        }
        if cut_off {
            shared.cut_off.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let _ = ws.close(None);
        // Read until the server's Close comes back (bounded).
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        thread::sleep(Duration::from_millis(100 + (i as u64 * 37 + round * 11) % 900));
    }
}

/// A request head, one byte every 500 ms, for ever (the server must cut it off).
pub fn slowloris(shared: &Shared, i: usize) {
    let head = b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    while !shared.stop.load(Ordering::Acquire) {
        let Ok(mut stream) = TcpStream::connect(shared.addr) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut answer = Vec::new();
        for (n, byte) in head.iter().cycle().enumerate() {
            if shared.stop.load(Ordering::Acquire) || n > 10_000 {
                break;
            }
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            let mut buf = [0u8; 512];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => answer.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if answer.starts_with(b"HTTP/1.1 408") {
                shared.slowloris_cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        let _ = i;
    }
}

/// Sends far over the rate limit (bounded to 200 a second), reading what comes back.
pub fn flooder(shared: &Shared, i: usize) {
    let Some(mut ws) = connect(shared, &format!("/r/soak{}/connect?name=flood{i}", i % ROOMS)) else {
        eprintln!("soak: flooder {i} could not connect");
        return;
    };
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        let _ = s.set_read_timeout(Some(Duration::from_millis(1)));
    }
    let mut n = 0u64;
    while !shared.stop.load(Ordering::Acquire) {
        n += 1;
        if ws.send(Message::text(format!(r#"{{"message":"flood {i} {n}"}}"#))).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(5));
        // Read what has come (the room is busy: bounded, so that flooding goes on).
        for _ in 0..100 {
            match ws.read() {
                Ok(Message::Text(text)) if text.contains("sending too fast") => {
                    shared.flood_notices.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    eprintln!("soak: flooder {i}: {e}");
                    return;
                }
            }
        }
    }
    let _ = ws.close(None);
    let _ = ws.flush();
}

/// Joins a room over a connection with a small receive buffer and never reads: the room's traffic
/// piles up until the server drops it. Then it comes back, until the soak ends.
pub fn stuck(shared: &Shared, i: usize) {
    while !shared.stop.load(Ordering::Acquire) {
        let Some(stream) = connect_small(shared.addr) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        let url = format!("ws://{}/r/soak{}/connect?name=stuck{i}", shared.addr, i % ROOMS);
        let Ok((mut ws, _)) = tungstenite::client(url.as_str(), stream) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        shared.joins.fetch_add(1, Ordering::Relaxed);
        // Write now and then, never read: once the server has cut the connection, a write fails.
        loop {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            thread::sleep(Duration::from_millis(500));
            if ws.send(Message::Ping(Vec::new().into())).is_err() {
                shared.stuck_cut.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}
