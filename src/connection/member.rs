//! Becoming a member: joining the room, the welcome, and leaving again on every way out.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use super::Ending;
use crate::chat::member::{Member, Who};
use crate::chat::names;
use crate::chat::room::Room;
use crate::http::routes::Endpoint;
use crate::identity::MemberId;
use crate::limits::TokenBucket;
use crate::protocol::frame::EncodedFrame;
use crate::protocol::{Dialect, Roster, ServerEvent, Welcome};
use crate::shared::Shared;
use crate::ws::reader::read_loop;
use crate::ws::Ended;
use tungstenite::protocol::frame::coding::CloseCode;

/// The WebSocket part: become a member, run the read loop, leave.
///
/// An idle member's thread sleeps under this frame for as long as it stays, so the work of
/// becoming a member is in [`enter`], whose frame (and whatever it inlines) is gone by then.
#[inline(never)] // a frame of its own, not merged into the thread's outermost one
pub(super) fn websocket(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    leftover: Vec<u8>,
    endpoint: Endpoint,
    dialect: Dialect,
    shared: &Arc<Shared>,
) -> Ending {
    let membership = match enter(stream, peer, id, endpoint, dialect, shared) {
        Ok(membership) => membership,
        Err(ending) => return ending,
    };
    let member = &membership.member;
    let ended = match &membership.room {
        // No rate limit on the echo endpoint, which exists for conformance tests.
        None => read_loop(member, leftover, None, &shared.config, &mut TokenBucket::new(0, 1)),
        Some(room) => {
            let mut bucket = shared.rates.open(peer.ip());
            let ended = read_loop(member, leftover, Some(room), &shared.config, &mut bucket);
            shared.rates.close(peer.ip(), &bucket);
            ended
        }
    };
    Ending::WebSocket(ended)
}

/// Becomes a member: of the echo endpoint, or of a room under a name (the welcome written and
/// the member live). `Err` says how the connection ended instead.
#[inline(never)] // see `websocket`
fn enter(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    endpoint: Endpoint,
    dialect: Dialect,
    shared: &Arc<Shared>,
) -> Result<Membership<'_>, Ending> {
    let config = &shared.config;
    // Only the echo endpoint's own writes may wait: nobody relays to it.
    let echo = endpoint == Endpoint::Echo;
    let who = match &endpoint {
        Endpoint::Chat { member, host, .. } => {
            // No id, or a malformed one: a fresh id for this connection.
            let member = member.clone().unwrap_or_else(MemberId::fresh);
            Who { author: shared.identities.author(&member), host: *host }
        }
        Endpoint::Echo => Who::default(),
    };
    let member = match Member::new(id, peer, dialect, stream, config.send_buffer, config.tcp_nodelay, echo) {
        Ok(member) => Arc::new(member.with_who(who)),
        Err(e) => return Err(Ending::NotStarted(e)),
    };
    shared.register(&member);
    let mut membership = Membership { shared, member: member.clone(), room: None };
    match endpoint {
        Endpoint::Echo => member.go_live(&[]).map_err(Ending::NotStarted)?,
        Endpoint::Chat { room, name, .. } => {
            let room = match shared.rooms.get_or_create(&room) {
                Ok(room) => room,
                // RFC 6455 §7.4.1: 1013, try again later; the page reconnects by itself.
                Err(why) => return Err(refuse(&member, CloseCode::Again, &why.to_string())),
            };
            membership.room = Some(room.clone());
            join(&member, &room, name.as_deref(), config.max_name)?;
        }
    }
    Ok(membership)
}

/// Closes a WebSocket that may not join after all, before its welcome: a Close frame, then the
/// end of the connection.
fn refuse(member: &Member, code: CloseCode, reason: &str) -> Ending {
    let _ = member.go_live(EncodedFrame::close(code, reason).as_bytes());
    member.shutdown();
    Ending::WebSocket(Ended::WeClosed { code: u16::from(code), reason: reason.to_string() })
}

/// A member's place in the server: in its room, and in the list of open WebSockets. Dropping it
/// leaves the room (telling the others), forgets the member and shuts its socket, on every way
/// out of [`websocket`] and [`enter`], a panic included.
struct Membership<'a> {
    shared: &'a Shared,
    member: Arc<Member>,
    room: Option<Arc<Room>>,
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        if let Some(room) = self.room.take() {
            room.leave(&self.member);
            let name = room.name.clone();
            drop(room);
            self.shared.rooms.forget_if_empty(&name);
        }
        self.shared.unregister(self.member.id);
        self.member.shutdown();
    }
}

/// Joins `room` under the name asked for (or a guest name), then writes the welcome (history,
/// roster, who you are) on the member's own thread, outside the room lock, and goes live.
#[inline(never)] // its frame (rendering the welcome) must be gone before the member idles
fn join(member: &Arc<Member>, room: &Room, asked: Option<&str>, max_name: usize) -> Result<(), Ending> {
    let (wanted, problem) = match asked.map(|raw| names::validate(raw, max_name)) {
        Some(Ok(name)) => (name, None),
        Some(Err(bad)) => (names::guest(), Some(bad.explain())),
        None => (names::guest(), None),
    };
    let welcome = match room.join(member, &wanted, max_name) {
        Ok(welcome) => welcome,
        // Kicked, or the room is locked: closed right after the upgrade, with the reason.
        Err(refusal) => return Err(refuse(member, CloseCode::from(refusal.code), &refusal.reason)),
    };
    let you = welcome.name.as_str();
    let notice = match (&problem, &welcome.taken) {
        (Some(problem), _) => format!("{problem} You are {you}."),
        (None, Some(taken)) => format!("The name {taken} is taken here, so you are {you}."),
        (None, None) => format!("You joined #{} as {you}.", room.name),
    };
    let names: Vec<&str> = welcome.roster.iter().map(|name| &**name).collect();
    let event = ServerEvent::Welcome(Welcome {
        you,
        history: &welcome.history,
        more: welcome.more,
        roster: Roster { names: &names, count: welcome.count },
        notice: &notice,
        alert: problem.is_some() || welcome.taken.is_some(),
        announce: &welcome.announce,
        tag: crate::protocol::author_tag(&member.who.author),
        host: member.who.host,
    });
    member.go_live(member.dialect.frames(&room.name, &event).as_bytes()).map_err(Ending::NotStarted)
}
