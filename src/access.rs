//! The optional access code (`--access-code`): one shared secret for the whole server, the
//! sessions it opens, and the per-address limit on wrong guesses.
//!
//! This module decides; it knows nothing of HTTP. How a code or a session arrives (a form, a
//! cookie, an `Authorization` header) and what the answer looks like is `http::login`'s
//! business. Every way of presenting the code goes through [`Access::try_code`], so every guess
//! counts against the same limit: after [`MAX_FAILURES`] wrong codes from one address within
//! [`FAILURE_WINDOW`], that address is refused until the window has passed, right code or not.
//!
//! Simplification: sessions live in memory and last until the server restarts (then everyone
//! types the code once more).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock;
use crate::random;

/// Wrong codes allowed per address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window over which wrong codes are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Sessions kept at most; past it, the oldest is forgotten (its browser types the code again).
/// Without a cap, anyone who knows the code could grow the server's memory by logging in again
/// and again.
pub const MAX_SESSIONS: usize = 10_000;

/// The access code, the sessions it has opened, and recent wrong guesses.
pub struct Access {
    code: Option<String>,
    sessions: Mutex<Sessions>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Why a code was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// It is not the code.
    Wrong,
    /// This address has guessed wrong too often: it may try again after this long.
    TooMany(Duration),
}

/// Open sessions, and the order they were opened in (to forget the oldest past the cap).
#[derive(Default)]
struct Sessions {
    tokens: HashSet<String>,
    order: VecDeque<String>,
}

impl Sessions {
    fn open(&mut self, token: String) {
        if self.order.len() >= MAX_SESSIONS {
            if let Some(oldest) = self.order.pop_front() {
                self.tokens.remove(&oldest);
            }
        }
        self.tokens.insert(token.clone());
        self.order.push_back(token);
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell a guesser
/// how many leading characters were right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    /// The access rules for `code` (`--access-code`); `None` lets everyone in.
    pub fn new(code: Option<String>) -> Access {
        Access { code, sessions: Mutex::new(Sessions::default()), failures: Mutex::new(HashMap::new()) }
    }

    /// Whether an access code is configured at all.
    pub fn required(&self) -> bool {
        self.code.is_some()
    }

    /// Whether `token` is a session this server opened.
    pub fn has_session(&self, token: &str) -> bool {
        lock::take(&self.sessions).tokens.contains(token)
    }

    /// Checks a code presented by `ip`, in any way. A wrong one counts against `ip` and is
    /// logged; an address over the limit is refused whatever it presents.
    pub fn try_code(&self, ip: IpAddr, given: &str) -> Result<(), Refused> {
        let Some(code) = &self.code else { return Ok(()) };
        if let Some(wait) = self.blocked_for(ip) {
            return Err(Refused::TooMany(wait));
        }
        if same(given.trim().as_bytes(), code.as_bytes()) {
            lock::take(&self.failures).remove(&ip);
            return Ok(());
        }
        self.record_failure(ip);
        crate::log::info(format_args!("wrong access code from {ip}"));
        Err(Refused::Wrong)
    }

    /// Opens a session (after a right code) and returns its token: 128 random bits, in hex.
    pub fn open_session(&self) -> String {
        let mut bytes = [0u8; 16];
        random::fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        lock::take(&self.sessions).open(token.clone());
        token
    }

    /// How long `ip` must still wait, if it has used up its wrong guesses.
    fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let failures = lock::take(&self.failures);
        let (count, since) = failures.get(&ip)?;
        let left = FAILURE_WINDOW.saturating_sub(since.elapsed());
        (*count >= MAX_FAILURES && !left.is_zero()).then_some(left)
    }

    fn record_failure(&self, ip: IpAddr) {
        let mut failures = lock::take(&self.failures);
        // Forget old windows now and then, so the map cannot grow without bound.
        failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        let entry = failures.entry(ip).or_insert((0, Instant::now()));
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_is_exact() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
    }

    #[test]
    fn sessions_are_capped() {
        let mut sessions = Sessions::default();
        for i in 0..MAX_SESSIONS + 5 {
            sessions.open(format!("t{i}"));
        }
        assert_eq!(sessions.tokens.len(), MAX_SESSIONS);
        assert!(!sessions.tokens.contains("t0") && sessions.tokens.contains(&format!("t{}", MAX_SESSIONS + 4)));
    }

    #[test]
    fn wrong_codes_are_limited_per_address() {
        let access = Access::new(Some("letmein".into()));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(access.try_code(ip, "nope"), Err(Refused::Wrong));
        }
        assert!(matches!(access.try_code(ip, "letmein"), Err(Refused::TooMany(_))), "even the right code waits");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(access.try_code(other, " letmein "), Ok(()));
        let token = access.open_session();
        assert!(access.has_session(&token) && token.len() == 32);
        assert!(!access.has_session("0123"));
    }
}
