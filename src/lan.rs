//! The URLs under which other machines on the LAN can reach the server, and a QR code of one.
//!
//! We ask the operating system for its interface addresses (`getifaddrs(3)`): no packet is sent,
//! no outside address is probed, no DNS is asked. A server bound to one address is reachable only
//! there; one bound to `0.0.0.0` (or `[::]`) is reachable on every non-loopback address.
//!
//! The same list tells which addresses a request's `Host` may name ([`is_own_address`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock;

/// Every non-loopback address of this machine's interfaces that are up, IPv4 first.
pub fn interface_addresses() -> Vec<IpAddr> {
    // If the system cannot list them, there are no LAN URLs to print: nothing else depends on them.
    let mut found = crate::sys::interface_addresses().unwrap_or_default();
    found.retain(|ip| !ip.is_loopback() && !is_ipv6_link_local(ip));
    found.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    found.dedup();
    found
}

/// How long the list of this machine's addresses is trusted when an address not in it shows up.
/// DHCP may have given the machine a new one since; but no stream of requests naming unknown
/// addresses may make us ask the system more often than this.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// Whether `ip` is an address of one of this machine's interfaces (as [`interface_addresses`]
/// lists them). The list is kept, and asked for again only when an unknown address shows up and
/// it is more than [`FRESH_FOR`] old.
pub(crate) fn is_own_address(ip: IpAddr) -> bool {
    static KNOWN: Mutex<Known> = Mutex::new(Known { asked: None, ips: Vec::new() });
    lock::take(&KNOWN).contains(ip, Instant::now(), interface_addresses)
}

/// The addresses last listed, and when.
struct Known {
    asked: Option<Instant>,
    ips: Vec<IpAddr>,
}

impl Known {
    /// Whether `ip` is in the list, listing again with `list` first if `ip` is not and the list
    /// is more than [`FRESH_FOR`] old at `now`.
    fn contains(&mut self, ip: IpAddr, now: Instant, list: impl FnOnce() -> Vec<IpAddr>) -> bool {
        let ip = ip.to_canonical();
        if self.ips.contains(&ip) {
            return true;
        }
        if self.asked.is_none_or(|asked| now.saturating_duration_since(asked) >= FRESH_FOR) {
            self.ips = list();
            self.asked = Some(now);
        }
        self.ips.contains(&ip)
    }
}

/// fe80::/10 addresses need a zone (`%eth0`) to be usable in a URL, and browsers do not accept
/// zones; leave them out.
fn is_ipv6_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// The URLs for LAN peers, given the address the server is listening on.
pub fn peer_urls(listening: SocketAddr) -> Vec<String> {
    let port = listening.port();
    let ips: Vec<IpAddr> = if listening.ip().is_unspecified() {
        // `[::]` also accepts IPv4 on Linux by default; `0.0.0.0` only IPv4.
        interface_addresses().into_iter().filter(|ip| listening.is_ipv6() || ip.is_ipv4()).collect()
    } else if listening.ip().is_loopback() {
        Vec::new()
    } else {
        vec![listening.ip()]
    };
    ips.into_iter().map(|ip| format!("http://{}/", SocketAddr::new(ip, port))).collect()
}

/// `url` as a QR code drawn with Unicode half blocks (two modules per character cell), with the
/// quiet zone the standard asks for, so a phone camera can read it off the terminal. Light
/// modules are drawn as blocks: most terminals are dark, and scanners want dark on light.
pub fn qr_code(url: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(url, QrCodeEcc::Low) else { return String::new() };
    let border = 2;
    let size = qr.size();
    let dark = |x: i32, y: i32| qr.get_module(x, y); // false outside the symbol
    let mut out = String::new();
    let mut y = -border;
    while y < size + border {
        out.push_str("  ");
        for x in -border..size + border {
            // Each cell shows module (x, y) on top and (x, y + 1) below; a drawn half is light.
            out.push(match (!dark(x, y), !dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_have_no_lan_urls() {
        assert!(peer_urls("127.0.0.1:8080".parse().unwrap()).is_empty());
    }

    #[test]
    fn a_specific_bind_is_its_own_url() {
        assert_eq!(peer_urls("192.0.2.7:80".parse().unwrap()), vec!["http://192.0.2.7:80/".to_string()]);
        assert_eq!(peer_urls("[2001:db8::1]:8080".parse().unwrap()), vec!["http://[2001:db8::1]:8080/".to_string()]);
    }

    #[test]
    fn qr_codes_are_square_blocks() {
        let code = qr_code("http://192.168.1.5:8080/");
        let lines: Vec<&str> = code.lines().collect();
        let width = lines[0].chars().count();
        assert!(lines.len() >= 12 && lines.iter().all(|l| l.chars().count() == width));
        assert!(code.contains('█') && code.contains(' '));
    }

    #[test]
    fn interface_listing_excludes_loopback() {
        assert!(interface_addresses().iter().all(|ip| !ip.is_loopback()));
        assert!(interface_addresses().into_iter().all(is_own_address));
    }

    #[test]
    fn unknown_addresses_ask_again_at_most_every_few_seconds() {
        let (old, new): (IpAddr, IpAddr) = ("192.0.2.7".parse().unwrap(), "192.0.2.8".parse().unwrap());
        let mut known = Known { asked: None, ips: Vec::new() };
        let start = Instant::now();
        let mut asked = 0;
        let mut ask = |now: Instant, ips: &[IpAddr], known: &mut Known, ip: IpAddr| {
            known.contains(ip, now, || {
                asked += 1;
                ips.to_vec()
            })
        };
        assert!(ask(start, &[old], &mut known, old));
        assert!(!ask(start, &[old], &mut known, new), "unknown");
        // The machine gets the new address: not asked again within FRESH_FOR, then asked.
        assert!(!ask(start + FRESH_FOR / 2, &[old, new], &mut known, new));
        assert!(ask(start + FRESH_FOR, &[old, new], &mut known, new));
        assert!(ask(start + FRESH_FOR * 9, &[], &mut known, old), "known addresses never ask");
        assert_eq!(asked, 2);
    }
}
