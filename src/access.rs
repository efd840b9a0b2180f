//! The optional access code (`--access-code`): one shared secret for the whole server, the
//! sessions it opens, and the per-address limit on wrong guesses.
//!
//! This module decides; it knows nothing of HTTP. How a code or a session arrives (a form, a
//! cookie, an `Authorization` header) and what the answer looks like is `http::login`'s
//! business. Every way of presenting the code goes through [`Access::try_code`], so every guess
//! counts against the same limit: after [`MAX_FAILURES`] wrong codes from one address within
//! [`FAILURE_WINDOW`], that address is refused until the window has passed, right code or not.
//!
//! **Sessions need no list, and survive a restart.** A session token is its opening time and a
//! random nonce, signed with HMAC-SHA-256 under a key made of a secret and the access code:
//! the server checks a token by signing it again. The secret is 32 random bytes kept in
//! `DATA_DIR/session.key` (mode 0600, made on first start), so an upgrade does not make every
//! browser type the code again; changing `--access-code` changes the key, and so ends every
//! session at once. Tokens expire after [`SESSION_LIFE`]. With `--memory` the secret lives in
//! memory, and sessions end with the process.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::lock;
use crate::random;
use crate::time::now_ms;

/// Wrong codes allowed per address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window over which wrong codes are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// How long a session lasts (the cookie's `Max-Age` says the same).
pub const SESSION_LIFE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The secret's file, in the data directory.
pub const SECRET_FILE: &str = "session.key";

/// The access code, the key its sessions are signed with, and recent wrong guesses.
pub struct Access {
    code: Option<String>,
    /// HMAC key: the secret, then the code (so that a new code ends old sessions).
    key: Vec<u8>,
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

/// Compares without stopping at the first difference, so the time taken does not tell a guesser
/// how many leading characters were right.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    /// The access rules for `code` (`--access-code`; `None` lets everyone in), signing sessions
    /// with the secret kept in `data_dir` (made if missing), or a fresh one with `--memory`.
    pub fn new(code: Option<String>, data_dir: Option<&Path>) -> io::Result<Access> {
        let secret = match (&code, data_dir) {
            (Some(_), Some(dir)) => load_or_make_secret(&dir.join(SECRET_FILE))?,
            _ => {
                let mut secret = vec![0u8; 32];
                random::fill(&mut secret);
                secret
            }
        };
        let mut key = secret;
        key.extend_from_slice(code.as_deref().unwrap_or("").as_bytes());
        Ok(Access { code, key, failures: Mutex::new(HashMap::new()) })
    }

    /// Whether an access code is configured at all.
    pub fn required(&self) -> bool {
        self.code.is_some()
    }

    /// Whether `token` is a live session of this server under the current code.
    pub fn has_session(&self, token: &str) -> bool {
        let Some(bytes) = from_hex(token).filter(|b| b.len() == 32) else { return false };
        let (body, mac) = bytes.split_at(16);
        let opened = u64::from_be_bytes(body[..8].try_into().expect("8 bytes"));
        let age = now_ms().saturating_sub(opened);
        same(&self.sign(body), mac) && age <= SESSION_LIFE.as_millis() as u64 && opened <= now_ms() + 60_000
    }

    /// Checks a code presented by `ip`, in any way. A wrong one counts against `ip` and is
    /// logged; an address over the limit is refused whatever it presents.
    pub fn try_code(&self, ip: IpAddr, given: &str) -> Result<(), Refused> {
        let Some(code) = &self.code else { return Ok(()) };
        self.guess(ip, "access code", || same(given.trim().as_bytes(), code.as_bytes()))
    }

    /// Checks a guess at any of the server's secrets (the access code, the host key) from `ip`:
    /// `right` says whether it is right. All of them count against the same limit per address,
    /// so that guessing one cannot go faster by alternating with the other. A wrong guess is
    /// logged, naming `what` was guessed.
    pub fn guess(&self, ip: IpAddr, what: &str, right: impl FnOnce() -> bool) -> Result<(), Refused> {
        if let Some(wait) = self.blocked_for(ip) {
            return Err(Refused::TooMany(wait));
        }
        if right() {
            lock::take(&self.failures).remove(&ip);
            return Ok(());
        }
        self.record_failure(ip);
        crate::log::info(format_args!("wrong {what} from {ip}"));
        Err(Refused::Wrong)
    }

    /// Opens a session (after a right code) and returns its token: when it was opened (8 bytes),
    /// a random nonce (8), and the first 16 bytes of their HMAC, in hex (64 characters).
    pub fn open_session(&self) -> String {
        let mut body = [0u8; 16];
        body[..8].copy_from_slice(&now_ms().to_be_bytes());
        random::fill(&mut body[8..]);
        let mut token = body.to_vec();
        token.extend_from_slice(&self.sign(&body));
        token.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The first 16 bytes of HMAC-SHA-256(key, `body`).
    fn sign(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(b"chatroom session v1");
        mac.update(body);
        mac.finalize().into_bytes()[..16].to_vec()
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

/// The server's secret: the one kept in `data_dir` (made if missing), or a fresh one with
/// `--memory`. Access sessions, member authors (`crate::identity`) and the host cookie are all
/// keyed by it, so that they survive a restart.
pub(crate) fn server_secret(data_dir: Option<&Path>) -> io::Result<Vec<u8>> {
    match data_dir {
        Some(dir) => load_or_make_secret(&dir.join(SECRET_FILE)),
        None => {
            let mut secret = vec![0u8; 32];
            random::fill(&mut secret);
            Ok(secret)
        }
    }
}

/// The secret at `path`, or a new one written there (created with mode 0600: only the server's
/// user may read it; a secret that anyone could read would let them forge sessions).
fn load_or_make_secret(path: &Path) -> io::Result<Vec<u8>> {
    match std::fs::File::open(path) {
        Ok(mut file) => {
            let mut secret = Vec::new();
            file.read_to_end(&mut secret)?;
            if secret.len() >= 32 {
                return Ok(secret);
            }
            crate::log::warn(format_args!("{}: too short to be a secret; making a new one", path.display()));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut secret = vec![0u8; 32];
    random::fill(&mut secret);
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(&secret)?;
    file.sync_all()?;
    Ok(secret)
}

/// Bytes from lower- or upper-case hex; `None` if it is not hex.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_code(code: &str) -> Access {
        Access::new(Some(code.into()), None).unwrap()
    }

    #[test]
    fn comparison_is_exact() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
    }

    #[test]
    fn wrong_codes_are_limited_per_address() {
        let access = with_code("letmein");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(access.try_code(ip, "nope"), Err(Refused::Wrong));
        }
        assert!(matches!(access.try_code(ip, "letmein"), Err(Refused::TooMany(_))), "even the right code waits");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(access.try_code(other, " letmein "), Ok(()));
    }

    #[test]
    fn sessions_are_signed_not_listed() {
        let access = with_code("letmein");
        let token = access.open_session();
        assert_eq!(token.len(), 64);
        assert!(access.has_session(&token));
        // Any change to a token breaks its signature.
        for i in 0..64 {
            let mut forged = token.clone().into_bytes();
            forged[i] = if forged[i] == b'0' { b'1' } else { b'0' };
            assert!(!access.has_session(std::str::from_utf8(&forged).unwrap()), "changed at {i}");
        }
        assert!(!access.has_session("0123") && !access.has_session(&"zz".repeat(32)));
        // Another server (another secret) does not accept it.
        assert!(!with_code("letmein").has_session(&token));
    }

    #[test]
    fn the_secret_is_kept_and_a_new_code_ends_every_session() {
        let dir = std::env::temp_dir().join(format!("chatroom-access-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let token = Access::new(Some("one".into()), Some(&dir)).unwrap().open_session();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(SECRET_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A restart: the same secret, the same code: the session holds.
        assert!(Access::new(Some("one".into()), Some(&dir)).unwrap().has_session(&token));
        // A new code: it does not.
        assert!(!Access::new(Some("two".into()), Some(&dir)).unwrap().has_session(&token));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
