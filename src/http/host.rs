//! Which `Host` a request may name: exactly one, and one of this server's.
//!
//! **Exactly one.** RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without a `Host`
//! header, and to any request with more than one or with one that is not a host. HTTP/1.0 may
//! leave it out.
//!
//! **One of ours: the defence against DNS rebinding.** A page from `evil.example` can make its own
//! name resolve to this server's address a moment after it loaded. Its script then talks to the
//! server as `evil.example`, same-origin in the browser's eyes: it can read the history API, and
//! its WebSocket passes the Origin check, because `Origin` and `Host` agree. Without an access
//! code, any LAN visitor's browser would be the attacker's way in. Only the `Host` header gives it
//! away, as it names the attacker's site. So a request is answered only if its `Host` names this
//! server, and gets 421 Misdirected Request (RFC 9110 §15.5.20) otherwise:
//! - `localhost`, and loopback addresses;
//! - the address the server is bound to or, bound to `0.0.0.0` or `[::]`, any address of this
//!   machine's interfaces ([`lan::is_own_address`]);
//! - every name given with `--allow-host` (a reverse proxy's public name, a LAN or mDNS name).
//!
//! Names are compared without case, and a trailing dot (`localhost.`) is the same name without
//! it. The port is not compared: rebinding is about the name, and a port other than ours is what
//! port forwarding produces (`ssh -L 9000:localhost:8080`, a container published on another
//! port, a firewall redirecting port 80), as a reverse proxy sends its public port or none.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::http::head::Request;
use crate::http::response::Response;
use crate::lan;

/// What a `Host` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    /// An IP literal: `192.0.2.7`, `[::1]`.
    Ip(IpAddr),
    /// A registered name, lower-cased, without a trailing dot.
    Name(String),
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Named::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Named::Ip(ip) => ip.fmt(f),
            Named::Name(name) => f.write_str(name),
        }
    }
}

/// Refuses a request whose `Host` is missing, doubled or malformed (400), or names a host that is
/// not this server (421). `bound` is the address the server listens on, `allowed` the
/// `--allow-host` names.
pub(crate) fn check(request: &Request, bound: IpAddr, allowed: &[String]) -> Result<(), Response> {
    let value = match request.header_count("Host") {
        0 if request.minor_version == 0 => return Ok(()),
        1 => request.header_str("Host"),
        _ => return Err(Response::text(400, "A request needs exactly one Host header.").closing()),
    };
    let Some(named) = value.and_then(read) else {
        return Err(Response::text(400, "Malformed request: invalid Host header.").closing());
    };
    if ours(&named, bound, allowed, lan::is_own_address) {
        return Ok(());
    }
    let mut host = named.to_string();
    host.truncate(80); // a host is ASCII once read
    Err(Response::text(
        421,
        format!(
            "This server does not answer for {host}; to serve it under that name, start it with --allow-host {host}."
        ),
    ))
}

/// Reads a `Host` value, `uri-host [ ":" port ]` (RFC 9110 §7.2); `None` if it is not one.
fn read(value: &str) -> Option<Named> {
    let (named, port) = match value.strip_prefix('[') {
        Some(rest) => {
            // An IPv6 literal (RFC 3986 §3.2.2); zones and IPvFuture are not for us.
            let (literal, after) = rest.split_once(']')?;
            let port = if after.is_empty() { "" } else { after.strip_prefix(':')? };
            (Named::Ip(IpAddr::V6(literal.parse().ok()?)), port)
        }
        None => {
            let (name, port) = value.split_once(':').unwrap_or((value, ""));
            let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
            match name.parse::<Ipv4Addr>() {
                Ok(ip) => (Named::Ip(IpAddr::V4(ip)), port),
                Err(_) if is_reg_name(&name) => (Named::Name(name), port),
                Err(_) => return None,
            }
        }
    };
    // `port = *DIGIT` (RFC 3986 §3.2.3): empty means the scheme's default.
    let port_ok = port.bytes().all(|b| b.is_ascii_digit()) && (port.is_empty() || port.parse::<u16>().is_ok());
    port_ok.then_some(named)
}

/// RFC 3986 §3.2.2's `reg-name`, not empty: unreserved characters, `%` escapes and sub-delims.
fn is_reg_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b))
}

/// Whether `named` is this server: see the module's comment. `is_own` says whether an address
/// belongs to one of this machine's interfaces.
fn ours(named: &Named, bound: IpAddr, allowed: &[String], is_own: impl FnOnce(IpAddr) -> bool) -> bool {
    if allowed.iter().any(|name| read(name).as_ref() == Some(named)) {
        return true;
    }
    match named {
        Named::Name(name) => name == "localhost",
        Named::Ip(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip == bound.to_canonical() || (bound.is_unspecified() && is_own(ip))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Whether a server bound to `bound`, on a machine whose only other address is 192.0.2.7,
    /// answers for `host`; `None` if `host` is malformed.
    fn answers(host: &str, bound: &str, allowed: &[&str]) -> Option<bool> {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        read(host).map(|named| ours(&named, ip(bound), &allowed, |ip| ip == self::ip("192.0.2.7")))
    }

    #[test]
    fn hosts_are_read_with_or_without_a_port() {
        assert_eq!(read("LocalHost.:8080"), Some(Named::Name("localhost".into())));
        assert_eq!(read("127.0.0.1"), Some(Named::Ip(ip("127.0.0.1"))));
        assert_eq!(read("[::1]:80"), Some(Named::Ip(ip("::1"))));
        assert_eq!(read("chat.example.org:"), Some(Named::Name("chat.example.org".into())));
        for bad in
            ["", ":80", "a b", "a/b", "a@b", "x:port", "x:65536", "x:1:2", "::1", "[::1", "[::1]x", "[v1.x]", "é"]
        {
            assert_eq!(read(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn loopback_names_are_ours_on_any_port() {
        for host in [
            "localhost",
            "localhost:9000",
            "LOCALHOST.",
            "127.0.0.1:8080",
            "127.9.9.9",
            "[::1]:1",
            "[::ffff:127.0.0.1]",
        ] {
            assert_eq!(answers(host, "192.0.2.7", &[]), Some(true), "{host}");
        }
    }

    #[test]
    fn only_our_own_addresses_are_ours() {
        assert_eq!(answers("192.0.2.7:8080", "192.0.2.7", &[]), Some(true));
        assert_eq!(answers("198.51.100.1:8080", "192.0.2.7", &[]), Some(false));
        // Bound to every interface: every address of the machine, and no other.
        assert_eq!(answers("192.0.2.7", "0.0.0.0", &[]), Some(true));
        assert_eq!(answers("[::ffff:192.0.2.7]", "::", &[]), Some(true));
        assert_eq!(answers("198.51.100.1", "0.0.0.0", &[]), Some(false));
        // Bound to one address, another of the machine's is not where it listens.
        assert_eq!(answers("192.0.2.7", "198.51.100.9", &[]), Some(false));
    }

    #[test]
    fn other_names_only_when_allowed() {
        assert_eq!(answers("rebind.evil.example:8080", "0.0.0.0", &[]), Some(false));
        assert_eq!(answers("localhost.evil.example", "127.0.0.1", &[]), Some(false));
        let allowed = ["chat.example.org", "[2001:db8::1]"];
        for host in ["chat.example.org", "Chat.Example.Org.:443", "[2001:db8:0::1]:8080"] {
            assert_eq!(answers(host, "127.0.0.1", &allowed), Some(true), "{host}");
        }
        assert_eq!(answers("evil.chat.example.org", "127.0.0.1", &allowed), Some(false));
    }
}
