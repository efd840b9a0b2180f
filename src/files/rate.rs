//! `--upload-rate`: how many uploads one address may start in a window of ten minutes.
//!
//! A sliding window: each address keeps the times of its last uploads (at most the limit's
//! worth), and one more is allowed when the oldest of them is older than the window. A refusal
//! says when the next one will be (`Retry-After`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::from_secs(600);

/// The uploads each address started within the window.
pub struct UploadRate {
    per_window: u32,
    started: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl UploadRate {
    /// `per_window` uploads per address per [`WINDOW`]; 0 is no limit.
    pub fn new(per_window: u32) -> UploadRate {
        UploadRate { per_window, started: Mutex::new(HashMap::new()) }
    }

    /// Counts an upload from `ip` at `now`, or refuses it with the time until one is allowed.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_window == 0 {
            return Ok(());
        }
        let mut started = lock::take(&self.started);
        // Forget addresses whose uploads are all out of the window, now and then, so that the
        // map holds only addresses that uploaded lately.
        if started.len() > 1024 {
            started.retain(|_, times| times.back().is_some_and(|last| now.duration_since(*last) < WINDOW));
        }
        let times = started.entry(ip).or_default();
        while times.front().is_some_and(|first| now.saturating_duration_since(*first) >= WINDOW) {
            times.pop_front();
        }
        if times.len() >= self.per_window as usize {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.saturating_duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides() {
        let rate = UploadRate::new(2);
        let (ip, other): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        assert!(rate.admit(ip, start).is_ok());
        assert!(rate.admit(ip, start + Duration::from_secs(100)).is_ok());
        assert_eq!(rate.admit(ip, start + Duration::from_secs(200)), Err(Duration::from_secs(400)));
        assert!(rate.admit(other, start).is_ok(), "each address has its own");
        assert!(rate.admit(ip, start + WINDOW).is_ok(), "the first one left the window");
        assert!(rate.admit(ip, start + WINDOW).is_err());
        let free = UploadRate::new(0);
        assert!((0..1000).all(|_| free.admit(ip, start).is_ok()));
    }
}
