//! Randomness from the operating system (`getrandom(2)`), for what must not be guessable:
//! private room names, guest numbers, session tokens.

/// Fills `buf` with random bytes from the kernel's CSPRNG. Panics if the kernel refuses.
pub fn fill(buf: &mut [u8]) {
    crate::sys::fill_random(buf);
}

/// A random number below `bound` (bound > 0), without modulo bias worth mentioning for small
/// bounds (a 64-bit draw).
pub fn below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    fill(&mut bytes);
    u64::from_le_bytes(bytes) % bound
}

/// `bytes` in lower-case base32 (RFC 4648 alphabet, no padding): 16 bytes → 26 characters,
/// which are all valid in a room name and easy to read aloud.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        // RFC 4648 §10, lower-cased, without padding.
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(&[0u8; 16]).len(), 26);
    }

    #[test]
    fn random_bytes_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
        assert!(below(10) < 10);
    }
}
