//! The optional access code (`--access-code`): one shared secret for the whole server.
//!
//! Without the code nothing is served but a small form (and `/healthz`, and the stylesheet the
//! form uses). The right code gets the browser a session cookie: a random 128-bit token,
//! `HttpOnly` (no script can read it) and `SameSite=Strict` (no other site can make the browser
//! send it), which every page and every WebSocket upgrade then needs. Clients that are not
//! browsers may instead send `Authorization: Bearer CODE` with each request.
//!
//! Guessing is slowed down per IP address: after [`MAX_FAILURES`] wrong codes within
//! [`FAILURE_WINDOW`], that address gets 429 until the window has passed.
//!
//! Simplification: sessions live in memory and last until the server restarts (then everyone
//! types the code once more). A LAN chat does not need more.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::http::head::{pair_value, percent_decode, Request};
use crate::http::pages;
use crate::http::response::Response;
use crate::http::routes::cookie;
use crate::lock;
use crate::random;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "chatroom_session";
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

    /// Whether `request` may pass: no code configured, a valid session cookie, or the code itself
    /// as a bearer token.
    pub fn allows(&self, request: &Request) -> bool {
        let Some(code) = &self.code else { return true };
        if let Some(token) = cookie(request, SESSION_COOKIE) {
            if lock::take(&self.sessions).tokens.contains(&token) {
                return true;
            }
        }
        request
            .header_str("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| same(given.trim().as_bytes(), code.as_bytes()))
    }

    /// Handles `POST /login` with a form body `code=...&next=...`.
    pub fn login(&self, ip: IpAddr, body: &[u8]) -> Response {
        let Some(code) = &self.code else {
            return Response::text(303, "No access code is needed here.").with_header("Location", "/");
        };
        if let Some(wait) = self.blocked_for(ip) {
            return Response::text(429, format!("Too many wrong codes; try again in {} s.", wait.as_secs().max(1)))
                .with_header("Retry-After", wait.as_secs().max(1).to_string());
        }
        let form = std::str::from_utf8(body).unwrap_or("");
        let field = |name: &str| pair_value(form, '&', name).and_then(percent_decode).unwrap_or_default();
        let next = safe_next(&field("next"));
        if !same(field("code").trim().as_bytes(), code.as_bytes()) {
            self.record_failure(ip);
            crate::log::info(format_args!("wrong access code from {ip}"));
            return self.form(401, &next, Some("That code is not right."));
        }
        lock::take(&self.failures).remove(&ip);
        let mut bytes = [0u8; 16];
        random::fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        lock::take(&self.sessions).open(token.clone());
        Response::text(303, "Welcome.")
            .with_header("Location", next)
            .with_header(
                "Set-Cookie",
                format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"),
            )
            .with_header("Cache-Control", "no-store")
    }

    /// The code form, with `status` (401 for "you need the code").
    pub fn form(&self, status: u16, next: &str, error: Option<&str>) -> Response {
        Response::html(status, pages::access(next, error).into_bytes()).with_header("Cache-Control", "no-store")
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

/// Where to go after logging in: a local path only (not `//host`, not a URL), else `/`.
fn safe_next(next: &str) -> String {
    let local =
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    if local {
        next.to_string()
    } else {
        "/".to_string()
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
    fn next_is_local_only() {
        assert_eq!(safe_next("/r/kitchen?name=a"), "/r/kitchen?name=a");
        for bad in ["//evil.example", "https://evil.example", "\\\\evil", "/\\evil", "", "r/x"] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    #[test]
    fn wrong_codes_are_limited_per_address() {
        let access = Access::new(Some("letmein".into()));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(access.login(ip, b"code=nope").status, 401);
        }
        assert_eq!(access.login(ip, b"code=letmein").status, 429, "even the right code waits");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let ok = access.login(other, b"code=letmein&next=%2Fr%2Fx");
        assert_eq!(ok.status, 303);
        assert!(ok.headers.iter().any(|(n, v)| *n == "Location" && v == "/r/x"));
        let cookie = ok.headers.iter().find(|(n, _)| *n == "Set-Cookie").unwrap().1.to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert_eq!(cookie.split(';').next().unwrap().len(), SESSION_COOKIE.len() + 1 + 32);
    }
}
