//! The people of the host's tests: JSON members of the lobby with member ids of their own, and
//! the host, by its key.

use super::Client;
use super::TestServer;

/// The host key the tests' servers are started with (`--host-key`).
pub const HOST_KEY: &str = "teacher-key-0123456789";

/// A member id made of letters (base32 has them all): `member_id("ann")` is `annaaaa…`, 26 long.
pub fn member_id(tag: &str) -> String {
    format!("{tag:a<26}")
}

/// A JSON member of the lobby called `name`, with member id `member_id(id_tag)`.
pub fn member_as(server: &TestServer, name: &str, id_tag: &str) -> Client {
    let cookie = format!("chatroom_id={}", member_id(id_tag));
    Client::join_json_with(&server.ws_url(&format!("/connect?name={name}")), &[("Cookie", &cookie)]).0
}

/// A JSON member of the lobby called `name`, with member id `member_id(name)`.
pub fn member(server: &TestServer, name: &str) -> Client {
    member_as(server, name, name)
}

/// A JSON member of the lobby called `name` that is the host (`Authorization: Bearer HOST_KEY`).
pub fn host(server: &TestServer, name: &str) -> Client {
    let auth = format!("Bearer {HOST_KEY}");
    Client::join_json_with(&server.ws_url(&format!("/connect?name={name}")), &[("Authorization", &auth)]).0
}
