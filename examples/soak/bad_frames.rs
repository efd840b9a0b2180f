//! Bad framers: connections that each send one thing a server must refuse, and check the close
//! code that comes back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use crate::load::Shared;
use crate::ROOMS;

/// One masked client frame (RFC 6455 §5.2): `byte0` (FIN and opcode) and `payload`; `len` may
/// claim more than the payload (a header-only oversized frame).
fn client_frame(byte0: u8, payload: &[u8], len: u64) -> Vec<u8> {
    let mut frame = vec![byte0];
    match len {
        0..=125 => frame.push(0x80 | len as u8),
        126..=65_535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&len.to_be_bytes());
        }
    }
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Opens connection after connection, each sending one thing a server must refuse, and checks
/// that the server's Close carries the code RFC 6455 §7.4.1 gives for it.
pub fn bad_framer(shared: &Shared, i: usize) {
    let endless = [client_frame(0x01, b"a", 1), client_frame(0x00, b"", 0).repeat(40_000)].concat();
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("invalid UTF-8", client_frame(0x81, b"hi\xff", 3), 1007),
        ("binary", client_frame(0x82, b"\x01\x02", 2), 1003),
        ("oversized", client_frame(0x81, b"", 1 << 20), 1009),
        ("endless fragments", endless, 1009),
        ("close code 999", client_frame(0x88, &999u16.to_be_bytes(), 2), 1002),
    ];
    let mut n = i;
    while !shared.stop.load(Ordering::Acquire) {
        n += 1;
        let (what, bytes, code) = &cases[n % cases.len()];
        match refused_with(shared.addr, &format!("/r/soak{}/connect?name=bad{i}", n % ROOMS), bytes) {
            Some(got) if got == *code => {
                shared.bad_closed.fetch_add(1, Ordering::Relaxed);
            }
            Some(got) => {
                eprintln!("soak: bad framer {i}: {what} got close {got}, not {code}");
                shared.bad_unexpected.fetch_add(1, Ordering::Relaxed);
            }
            // No answer at all: the machine may be starved, or the connection refused; not a
            // wrong answer, but not a right one either.
            None => {}
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Upgrades by hand, sends `bytes`, and returns the code of the first Close frame the server
/// sends back (skipping the welcome and the room's traffic), if one comes within 10 s.
fn refused_with(addr: SocketAddr, path: &str, bytes: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return None;
    }
    let _ = stream.write_all(bytes);
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).ok()?;
        let len = match header[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).ok()?;
                u16::from_be_bytes(ext) as usize
            }
            127 => {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).ok()?;
                u64::from_be_bytes(ext) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).ok()?;
        if header[0] & 0x0f == 0x8 {
            return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
        }
    }
    None
}
