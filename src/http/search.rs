//! `GET /r/ROOM/search?q=TEXT&limit=N&before=SEQ`: the messages whose text or name holds `q`,
//! case ignored, newest first, found in the room's whole history (see
//! [`crate::chat::history::search`] for the matching rules and how a long log is read).

use crate::chat::history::search::Query;
use crate::http::api::paging;
use crate::http::head::Request;
use crate::http::response::Response;
use crate::protocol::json::{self, Entry, Message, SearchResults};
use crate::shared::Shared;

/// The longest query, in characters.
pub const MAX_QUERY: usize = 200;

/// Results per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 50;

/// `GET /r/ROOM/search`.
pub fn search(request: &Request, shared: &Shared, room: &str) -> Response {
    let bad = |why: &str| Response::text(400, why.to_string());
    let raw = request.query_param("q").unwrap_or_default();
    let q = raw.trim();
    if q.is_empty() {
        return bad("q must say what to look for.");
    }
    if q.chars().count() > MAX_QUERY {
        return bad("q must be at most 200 characters.");
    }
    let (before, limit) = match paging(request, DEFAULT_LIMIT) {
        Ok(paging) => paging,
        Err(refused) => return refused,
    };
    let found = match shared.rooms.archive(room).and_then(|archive| archive.search(&Query::new(q), before, limit)) {
        Ok(found) => found,
        Err(e) => {
            crate::log::error(format_args!("searching the history of {room}: {e}"));
            return Response::text(500, "Could not read the history log.");
        }
    };
    let before = found.messages.last().filter(|_| found.more).map(|m| m.seq);
    let messages = found.messages.iter().map(|m| Entry::Message(Message::of(room, m))).collect();
    let body = json::to_text(&SearchResults { room: room.into(), q: q.into(), messages, more: found.more, before });
    Response::new(200, "application/json", body.into_bytes()).with_header("Cache-Control", "no-store")
}
