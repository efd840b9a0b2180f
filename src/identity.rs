//! Who is who: the member id each browser keeps, the hash of it the logs store, and the host key.
//!
//! **The member id** is 128 random bits, written as 26 base32 characters, kept by a browser in
//! the `HttpOnly`, `SameSite=Lax` cookie [`ID_COOKIE`] (set by the first page it gets) and by the
//! terminal client in its config directory. Knowing an id is the proof of being it: a JSON client
//! may present its own on the upgrade; one that presents none (or a malformed one) gets a fresh id
//! for that connection. A name proves nothing: anyone can take any free name.
//!
//! **The author** ([`Identities::author`]) is what the room's log stores with each message: a
//! keyed hash (HMAC-SHA-256 under the data directory's secret, the one access sessions use) of
//! the id, never the id itself, so that reading a log, an export or a backup does not hand out
//! the ids that would let someone edit or delete as another. `/edit` and `/delete` compare
//! authors. The relay never sends an author, nor an id: a page learns which messages are its own
//! from a per-room *tag* ([`Identities::tag`]), a shorter hash of the author that cannot be
//! turned back into it.
//!
//! **The host key** ([`HostKey`]) is 128 random bits too, new at each start unless `--host-key`
//! gives one. Whoever presents it is the host of every room, for that connection (a JSON client,
//! `Authorization: Bearer KEY`) or that browser (the cookie [`HOST_COOKIE`], set by
//! `GET /host?key=KEY`). Being the host is never a matter of name.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::random;

/// The cookie that holds a browser's member id.
pub const ID_COOKIE: &str = "chatroom_id";

/// The cookie that makes a browser the host (see [`HostKey::cookie_value`]).
pub const HOST_COOKIE: &str = "chatroom_host";

/// How many characters a member id has: 128 bits in base32.
pub const ID_CHARS: usize = 26;

/// A member id: 26 lower-case base32 characters (RFC 4648 alphabet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberId(String);

impl MemberId {
    /// A fresh random id.
    pub fn fresh() -> MemberId {
        let mut bytes = [0u8; 16];
        random::fill(&mut bytes);
        MemberId(random::base32(&bytes))
    }

    /// `text` as an id, if it is one: exactly [`ID_CHARS`] of `a-z2-7` (upper case is read as
    /// lower). Anything else is not an id, and is replaced rather than refused.
    pub fn parse(text: &str) -> Option<MemberId> {
        let well_formed =
            text.len() == ID_CHARS && text.bytes().all(|b| matches!(b.to_ascii_lowercase(), b'a'..=b'z' | b'2'..=b'7'));
        // The last character carries 2 bits of padding (128 = 25 × 5 + 3): only 8 of the 32 values
        // are what base32 of 16 bytes can end with. Others still name a unique id; accept them.
        well_formed.then(|| MemberId(text.to_ascii_lowercase()))
    }

    /// The id as text, for its cookie.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keyed hashes that stand for member ids in logs and on the page.
pub struct Identities {
    key: Vec<u8>,
}

impl Identities {
    /// Hashes under `secret` (the data directory's, so that authors survive a restart).
    pub fn new(secret: &[u8]) -> Identities {
        Identities { key: secret.to_vec() }
    }

    /// The author a message by `id` is stored with: 24 hex characters (96 bits) of
    /// HMAC-SHA-256(secret, id). Enough that two ids never meet; not enough to give the id back.
    pub fn author(&self, id: &MemberId) -> String {
        hex(&self.mac(&[b"chatroom author v1", id.as_str().as_bytes()])[..12])
    }

    /// The tag that marks an author's messages on the page of `room`: 12 hex characters of a hash
    /// of the author and the room. A page is told its own tag in its welcome, and each message
    /// item carries its author's, so that the page can offer edit and delete on its own messages
    /// while the same bytes go to everyone. A tag differs from room to room, so it does not follow
    /// a browser around the server.
    pub fn tag(&self, room: &str, author: &str) -> String {
        if author.is_empty() {
            return String::new();
        }
        hex(&self.mac(&[b"chatroom tag v1", room.as_bytes(), b"\0", author.as_bytes()])[..6])
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// The host key, and the cookie value that stands for it in a browser.
pub struct HostKey {
    key: String,
    cookie: String,
}

impl HostKey {
    /// `given` (`--host-key`), or a fresh random one; `secret` signs its cookie.
    pub fn new(given: Option<&str>, secret: &[u8]) -> HostKey {
        let key = given.map_or_else(|| MemberId::fresh().0, str::to_string);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(b"chatroom host v1");
        mac.update(key.as_bytes());
        let cookie = hex(&mac.finalize().into_bytes()[..16]);
        HostKey { key, cookie }
    }

    /// The key, for the host link printed at start.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether `given` is the key (compared in constant time).
    pub fn is_key(&self, given: &str) -> bool {
        crate::access::same(given.as_bytes(), self.key.as_bytes())
    }

    /// The host cookie's value: a MAC of the key, so that the cookie never holds the key itself,
    /// and a new key (a restart without `--host-key`) ends every host cookie at once.
    pub fn cookie_value(&self) -> &str {
        &self.cookie
    }

    /// Whether `value` is the host cookie of this key.
    pub fn is_cookie(&self, value: &str) -> bool {
        crate::access::same(value.as_bytes(), self.cookie.as_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_base32_characters_and_anything_else_is_not_one() {
        let id = MemberId::fresh();
        assert_eq!(id.as_str().len(), ID_CHARS);
        assert_eq!(MemberId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(MemberId::parse(&id.as_str().to_uppercase()), Some(id));
        for bad in ["", "abc", &"a".repeat(25), &"a".repeat(27), &"1".repeat(26), &"a".repeat(25).replace('a', "é")] {
            assert_eq!(MemberId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn authors_and_tags_are_stable_and_keyed() {
        let id = MemberId::fresh();
        let one = Identities::new(b"secret one");
        assert_eq!(one.author(&id), one.author(&id));
        assert_eq!(one.author(&id).len(), 24);
        assert!(!one.author(&id).contains(id.as_str()));
        assert_ne!(one.author(&id), Identities::new(b"secret two").author(&id));
        assert_ne!(one.author(&id), one.author(&MemberId::fresh()));
        let author = one.author(&id);
        assert_eq!(one.tag("lobby", &author).len(), 12);
        assert_ne!(one.tag("lobby", &author), one.tag("kitchen", &author));
        assert_eq!(one.tag("lobby", ""), "", "old messages have no author, and no tag");
    }

    #[test]
    fn the_host_cookie_stands_for_the_key_without_holding_it() {
        let host = HostKey::new(None, b"secret");
        assert_eq!(host.key().len(), ID_CHARS);
        assert!(host.is_key(host.key()) && !host.is_key("nope"));
        assert!(host.is_cookie(host.cookie_value()) && !host.cookie_value().contains(host.key()));
        let given = HostKey::new(Some("teacher-key-0123456789"), b"secret");
        assert_eq!(given.key(), "teacher-key-0123456789");
        assert!(!given.is_cookie(host.cookie_value()), "a new key ends old host cookies");
    }
}
