//! The limits that protect everyone from anyone: how many connections, and how fast a member
//! may send.
//!
//! - [`Gate`]: a total cap and a per-IP cap on open connections, checked in the accept loop
//!   *before* a thread is spawned, so a flood of connections costs a counter increment and a
//!   short 503 each, not a thread each.
//! - [`TokenBucket`]: per-connection rate limit. A member may send `burst` frames at once, then
//!   `rate` per second on average. Excess frames are dropped, not relayed. The burst belongs to the
//!   address ([`Rates`]): reconnecting does not refill it.
//! - [`raise_open_files_limit`]: each connection is a file descriptor, and the default soft
//!   limit (often 1024) is far below what the machine can carry.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Counts open connections, in total and per peer address.
pub struct Gate {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
    /// Refused connections are handed to a small thread that lets them close gracefully.
    refusals: SyncSender<TcpStream>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Proof of admission: holds a place in the counts, given back when dropped (also on panic).
pub struct Ticket {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.gate.lock();
        open.total -= 1;
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
    }
}

/// Seconds a refused client is told to wait (`Retry-After`).
const RETRY_AFTER_SECS: u32 = 5;

impl Gate {
    /// A gate with these caps (0 = no cap).
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Gate> {
        let (refusals, queue) = mpsc::sync_channel(1024);
        let spawned =
            thread::Builder::new().name("refusals".into()).stack_size(64 * 1024).spawn(move || close_gently(queue));
        if let Err(e) = spawned {
            crate::log::warn(format_args!("no refusals thread ({e}); refused connections are closed at once"));
        }
        Arc::new(Gate { max_total, max_per_ip, open: Mutex::new(Open::default()), refusals })
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        crate::lock::take(&self.open)
    }

    /// Admits a connection from `ip`, or refuses it: then `stream` gets a 503 with
    /// `Retry-After` right here, in the accept loop, and no thread is spawned for it.
    pub fn admit(self: &Arc<Gate>, ip: IpAddr, stream: TcpStream) -> Option<(Ticket, TcpStream)> {
        let refusal = {
            let mut open = self.lock();
            let from_ip = open.per_ip.get(&ip).copied().unwrap_or(0);
            if self.max_total > 0 && open.total >= self.max_total {
                Some(format!("The server is full ({} connections); try again shortly.", self.max_total))
            } else if self.max_per_ip > 0 && from_ip >= self.max_per_ip {
                Some(format!("Too many connections from your address (limit {}); try again shortly.", self.max_per_ip))
            } else {
                open.total += 1;
                *open.per_ip.entry(ip).or_insert(0) += 1;
                None
            }
        };
        match refusal {
            None => Some((Ticket { gate: self.clone(), ip }, stream)),
            Some(why) => {
                self.refuse(stream, &why);
                None
            }
        }
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        self.lock().total
    }

    /// Writes the 503 without blocking the accept loop (a fresh socket's send buffer always has
    /// room for it), then hands the socket over to be closed gently.
    fn refuse(&self, stream: TcpStream, why: &str) {
        let body = format!("{why}\n");
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
             Retry-After: {RETRY_AFTER_SECS}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let _ = (&stream).write(response.as_bytes());
        let _ = stream.shutdown(Shutdown::Write);
        // If the closer is busy, just drop: the client may see a reset instead of the 503.
        let _ = self.refusals.try_send(stream);
    }
}

/// Keeps refused sockets for a moment, reading and discarding what the client sends, and closes
/// each once the client has closed or half a second has passed. Closing a socket with unread
/// request bytes would send a TCP reset, which can destroy the 503 before the client reads it.
fn close_gently(queue: Receiver<TcpStream>) {
    const GRACE: Duration = Duration::from_millis(500);
    let mut waiting: Vec<(TcpStream, Instant)> = Vec::new();
    let mut sink = [0u8; 2048];
    loop {
        let next = if waiting.is_empty() {
            queue.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            queue.recv_timeout(Duration::from_millis(20))
        };
        match next {
            Ok(stream) => waiting.push((stream, Instant::now() + GRACE)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        waiting.retain(|(stream, until)| {
            if now >= *until {
                return false;
            }
            loop {
                match (&*stream).read(&mut sink) {
                    Ok(0) => return false,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            }
        });
    }
}

/// A token bucket: `burst` tokens at most, refilled at `rate` per second; each frame takes one.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate` 0 means no limit.
    pub fn new(rate: u32, burst: u32) -> TokenBucket {
        TokenBucket { rate: rate as f64, burst: burst.max(1) as f64, tokens: burst.max(1) as f64, last: Instant::now() }
    }

    /// Takes a token if there is one. Always true without a limit.
    pub fn take(&mut self, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl TokenBucket {
    /// The tokens in the bucket at `now` (refilled for the time since its last use).
    fn level(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * self.rate).min(self.burst)
    }
}

/// The rate limit's memory of each address: what a connection from it gets to start with.
///
/// Each connection has a bucket of its own, so several people behind one address (a NAT, a
/// reverse proxy) each get the sustained rate. But the *burst* is remembered per address: a new
/// connection starts with what the address had left when its last connection closed (refilled
/// since, at the rate), not with a full bucket. Without this, reconnecting reset the limit:
/// 16 threads doing connect, send 20 (the burst), close, relayed 225,780 messages in 10 s from
/// one address.
pub struct Rates {
    rate: u32,
    burst: u32,
    /// Per address, the least that one of its connections had left when it closed, as a bucket
    /// last used then. An address missing here has a full one.
    left: Mutex<HashMap<IpAddr, TokenBucket>>,
}

impl Rates {
    /// Rate limits of `rate` frames per second and a burst of `burst` (`rate` 0: no limit).
    pub fn new(rate: u32, burst: u32) -> Rates {
        Rates { rate, burst, left: Mutex::new(HashMap::new()) }
    }

    /// The bucket of a new connection from `ip`: what the address has left.
    pub fn open(&self, ip: IpAddr) -> TokenBucket {
        let mut bucket = TokenBucket::new(self.rate, self.burst);
        if self.rate > 0 {
            let now = Instant::now();
            if let Some(saved) = crate::lock::take(&self.left).get(&ip) {
                bucket.tokens = saved.level(now);
            }
            bucket.last = now;
        }
        bucket
    }

    /// Remembers what a closing connection from `ip` had left, if that is less than what the
    /// address had: a connection that spent its burst leaves none for the next one.
    pub fn close(&self, ip: IpAddr, bucket: &TokenBucket) {
        if self.rate == 0 {
            return;
        }
        let now = Instant::now();
        let mut left = crate::lock::take(&self.left);
        let had = left.get(&ip).map_or(bucket.burst, |saved| saved.level(now));
        let mut back = bucket.clone();
        back.tokens = had.min(bucket.level(now));
        back.last = now;
        left.insert(ip, back);
        // Addresses whose burst has refilled are as good as absent: forget them, so the map
        // holds only addresses that spent some within the last few seconds.
        if left.len() > 64 {
            left.retain(|_, saved| saved.level(now) < saved.burst);
        }
    }
}

/// Raises the soft limit on open files to the hard limit, as Go's runtime does at start, and
/// returns the limit now in force. Every connection is one file descriptor.
pub fn raise_open_files_limit() -> io::Result<u64> {
    let (soft, hard) = crate::sys::open_files_limit()?;
    if soft < hard && crate::sys::set_open_files_limit(hard, hard).is_ok() {
        return Ok(hard);
    }
    Ok(soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(5, 20);
        assert_eq!((0..25).filter(|_| bucket.take(start)).count(), 20);
        // One second later: five more.
        let later = start + Duration::from_secs(1);
        assert_eq!((0..10).filter(|_| bucket.take(later)).count(), 5);
        // Never more than the burst, however long the pause.
        let much_later = later + Duration::from_secs(3600);
        assert_eq!((0..100).filter(|_| bucket.take(much_later)).count(), 20);
    }

    #[test]
    fn a_new_connection_gets_what_its_address_has_left() {
        let rates = Rates::new(5, 20);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        // Two tabs: each has the burst, the second not taken from the first.
        let mut tab = rates.open(ip);
        let mut flooder = rates.open(ip);
        assert_eq!((0..25).filter(|_| flooder.take(now)).count(), 20, "a fresh address has its burst");
        // The flooder closes and comes back: no new burst, though the idle tab still has its own.
        rates.close(ip, &flooder);
        let mut again = rates.open(ip);
        assert!((0..20).filter(|_| again.take(now)).count() <= 1);
        assert_eq!((0..25).filter(|_| tab.take(now)).count(), 20);
        // Another address is not affected, and no limit is no limit.
        let mut other = rates.open("192.0.2.2".parse().unwrap());
        assert_eq!((0..25).filter(|_| other.take(now)).count(), 20);
        let mut free = Rates::new(0, 20).open(ip);
        assert!((0..1000).all(|_| free.take(now)));
    }

    #[test]
    fn no_limit_means_no_limit() {
        let mut bucket = TokenBucket::new(0, 20);
        let now = Instant::now();
        assert!((0..10_000).all(|_| bucket.take(now)));
    }

    #[test]
    fn open_files_limit_is_readable() {
        assert!(raise_open_files_limit().unwrap() >= 64);
    }
}
