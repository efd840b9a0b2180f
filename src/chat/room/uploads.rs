//! Who may share a file in a room, and posting the message that shares it (`http::upload`).

use std::net::IpAddr;
use std::sync::Arc;

use super::{Room, Said};
use crate::chat::member::Member;
use crate::lock;
use crate::protocol::attachment::SharedFile;

impl Room {
    /// Posts a message from `from` that shares `file` (already stored), and relays it: the room
    /// lock is taken only now, after the transfer, to number, log and relay it.
    pub fn post_file(&self, from: &Member, file: SharedFile) {
        let said = Said {
            from: from.id,
            name: from.name().to_string(),
            text: String::new(),
            by: from.who.author.clone(),
            host: from.who.host,
            action: false,
            file: Some(file),
        };
        lock::take(&self.inbox).push(said);
        self.relay_posted();
    }

    /// The member of this room with author `author` (the hash of a member id) that an upload
    /// speaks for: the one called `name` if given, else the first. `None` if there is none.
    pub fn member_with(&self, author: &str, name: Option<&str>) -> Option<Arc<Member>> {
        let state = lock::take(&self.state);
        let mut here = state.members.iter().filter(|m| m.who.author == author);
        match name {
            Some(name) => here.find(|m| *m.name() == *name).cloned(),
            None => here.next().cloned(),
        }
    }

    /// The member of this room connected from `ip` that an upload from there speaks for: the one
    /// called `name` if given, else the one that came first. `None` if there is no such member.
    ///
    /// For a request without a member id (a script): being connected from the same address
    /// right now is what makes an uploader a member of the room.
    pub fn member_at(&self, ip: IpAddr, name: Option<&str>) -> Option<Arc<Member>> {
        let state = lock::take(&self.state);
        let mut here = state.members.iter().filter(|m| m.peer.ip() == ip);
        match name {
            Some(name) => here.find(|m| *m.name() == *name).cloned(),
            None => here.next().cloned(),
        }
    }
}
