//! The answers that are data, not pages: the history API, the room list, health and metrics.

use crate::chat::names;
use crate::http::head::Request;
use crate::http::response::Response;
use crate::protocol::html;
use crate::protocol::json::{self, Entry, HistoryPage, Message, RoomList};
use crate::shared::Shared;

/// Most messages one history request may ask for.
pub const MAX_HISTORY_PAGE: usize = 200;

/// A page's place in a room's history, from `before=SEQ` (newest first from there; absent: from
/// the newest) and `limit=N` (1 to [`MAX_HISTORY_PAGE`]; absent: `default_limit`), or the 400
/// for a bad one. The history API and search page the same way.
pub fn paging(request: &Request, default_limit: usize) -> Result<(u64, usize), Response> {
    let bad = |why: &str| Err(Response::text(400, why.to_string()));
    let before = match request.query_param("before") {
        None => u64::MAX,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => return bad("before must be a sequence number (a whole number from 1)."),
        },
    };
    let limit = match request.query_param("limit") {
        None => default_limit,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_HISTORY_PAGE).contains(&n) => n,
            _ => return bad("limit must be a whole number from 1 to 200."),
        },
    };
    Ok((before, limit))
}

/// `GET /api/rooms`: the public rooms that have people or history.
pub fn rooms(shared: &Shared) -> Response {
    let body = json::to_text(&RoomList { rooms: shared.rooms.summaries() });
    Response::new(200, "application/json", body.into_bytes()).with_header("Cache-Control", "no-store")
}

/// `GET /metrics`: counters and gauges in the Prometheus text format.
pub fn metrics(shared: &Shared) -> Response {
    Response::new(200, "text/plain; version=0.0.4; charset=utf-8", crate::metrics::render(gauges(shared)).into_bytes())
        .with_header("Cache-Control", "no-store")
}

/// What `/metrics` reads off the server now. Anyone may scrape it, so private rooms, whose names
/// are their only secret, are not counted as rooms: how many exist, and when one appears, is theirs
/// to know. Their members are counted with everyone's.
fn gauges(shared: &Shared) -> crate::metrics::Gauges {
    let rooms = shared.rooms.all();
    crate::metrics::Gauges {
        connections: shared.gate.open_connections(),
        websockets: shared.member_count(),
        rooms: rooms.iter().filter(|room| !names::is_private_room(&room.name)).count(),
        members: rooms.iter().map(|room| room.summary().members).sum(),
    }
}

/// `GET /healthz`: 200 `ok`, or 503 with what is wrong (history logs that cannot be written),
/// said without a room's name or a path: see [`crate::chat::disk`].
pub fn health(shared: &Shared) -> Response {
    let response = match shared.rooms.disk.summary() {
        None => Response::text(200, "ok"),
        Some(problem) => Response::text(503, format!("degraded: {problem}")),
    };
    response.with_header("Cache-Control", "no-store")
}

/// `GET /r/ROOM/history?before=SEQ&limit=N[&format=html]`: older messages, oldest first.
pub fn history(request: &Request, shared: &Shared, room: &str) -> Response {
    let bad = |why: &str| Response::text(400, why.to_string());
    let (before, limit) = match paging(request, 50) {
        Ok(paging) => paging,
        Err(refused) => return refused,
    };
    let html = match request.query_param("format").as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return bad("format must be json or html."),
    };
    let (page, more) = match shared.rooms.page_before(room, before, limit) {
        Ok(found) => found,
        Err(e) => {
            crate::log::error(format_args!("reading history of {room}: {e}"));
            return Response::text(500, "Could not read the history log.");
        }
    };
    if html {
        let fragment = html::older_page(room, &page, more);
        return Response::new(200, "text/html; charset=utf-8", fragment.into_bytes())
            .with_header("Cache-Control", "no-store");
    }
    let messages = page.iter().map(|m| Entry::Message(Message::of(room, m))).collect();
    let body = json::to_text(&HistoryPage { room: room.into(), messages, more });
    Response::new(200, "application/json", body.into_bytes()).with_header("Cache-Control", "no-store")
}
