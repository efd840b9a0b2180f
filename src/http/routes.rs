//! What each request asks for: a response to send now, or a WebSocket to open.
//!
//! | path | answer |
//! |---|---|
//! | `GET /` | the chat page of the default room, `lobby`, with the list of rooms |
//! | `GET /connect` | the lobby's WebSocket |
//! | `GET /r/ROOM` | the chat page of ROOM (1–32 of `[a-z0-9_-]` after lower-casing; else 404) |
//! | `GET /r/ROOM/connect` | its WebSocket (`?name=` gives the member's name) |
//! | `GET /r/ROOM/history?before=SEQ&limit=N` | older messages as JSON (`&format=html` for the page) |
//! | `GET /new` | a new private room: a redirect to `/r/` + 26 random base32 characters |
//! | `GET /api/rooms` | the room list as JSON |
//! | `GET /assets/...` | the embedded files |
//! | `GET /healthz` | `200 ok`, or 503 with the reason (e.g. the history log cannot be written) |
//! | `GET /metrics` | counters in the Prometheus text format |
//! | `GET /echo` | with `--echo` only: a WebSocket that echoes (for the Autobahn suite) |
//! | anything else | 404; a method other than GET or HEAD is 405 |

use crate::chat::names::{self, DEFAULT_ROOM};
use crate::http::assets;
use crate::http::head::{pair_value, percent_decode, Request};
use crate::http::pages;
use crate::http::response::Response;
use crate::protocol::html::{self, url_encode};
use crate::protocol::json::{self, Entry, HistoryPage, Message, RoomList};
use crate::Shared;

/// The cookie in which the page remembers a person's name.
pub const NAME_COOKIE: &str = "chatroom_name";

/// Most messages one history request may ask for.
pub const MAX_HISTORY_PAGE: usize = 200;

/// What a request leads to.
#[derive(Debug)]
pub enum Route {
    /// Send this response; the connection may stay open for the next request.
    Respond(Response),
    /// Validate the upgrade and, if it is good, become a WebSocket for this endpoint.
    WebSocket(Endpoint),
}

/// The two kinds of WebSocket, served by the same connection code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A member of a chat room, with the name it asked for (unvalidated), if any.
    Chat {
        /// The room, its name already validated and lower-cased.
        room: String,
        /// The name from `?name=` or the name cookie, not yet validated.
        name: Option<String>,
    },
    /// Every message is sent back to its sender (`--echo`).
    Echo,
}

/// Routes one request.
pub fn route(request: &Request, shared: &Shared) -> Route {
    if let Err(response) = check_no_body(request) {
        return Route::Respond(response);
    }
    let method = request.method.as_str();
    if method != "GET" && method != "HEAD" {
        // Simplification: we never read request bodies, so we cannot stay in step with a client
        // that sent one. Close after answering.
        return Route::Respond(
            Response::text(405, format!("Method {} is not allowed here: use GET.", printable(method)))
                .with_header("Allow", "GET, HEAD")
                .closing(),
        );
    }
    if let Some(response) = access_check(request, shared) {
        return Route::Respond(response);
    }
    let path = request.path.as_str();
    let respond = Route::Respond;
    match path {
        "/" => respond(chat_page(request, shared, DEFAULT_ROOM)),
        "/connect" => {
            websocket(request, shared, Endpoint::Chat { room: DEFAULT_ROOM.to_string(), name: asked_name(request) })
        }
        "/echo" if shared.config.echo => websocket(request, shared, Endpoint::Echo),
        "/healthz" => respond(health(shared)),
        "/metrics" => respond(
            Response::new(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                crate::metrics::render(gauges(shared)).into_bytes(),
            )
            .with_header("Cache-Control", "no-store"),
        ),
        "/new" => respond(
            Response::text(303, "A new private room.")
                .with_header("Location", format!("/r/{}", names::private_room()))
                .with_header("Cache-Control", "no-store"),
        ),
        "/api/rooms" => {
            let body = json::to_text(&RoomList { rooms: shared.rooms.summaries() });
            respond(Response::new(200, "application/json", body.into_bytes()).with_header("Cache-Control", "no-store"))
        }
        "/r" | "/r/" => respond(go_to_room(request)),
        _ => match path.strip_prefix("/r/") {
            Some(rest) => room_route(request, shared, rest),
            None => respond(match assets::find(path) {
                Some((index, _)) => assets::respond(index, request.header_str("If-None-Match")),
                None => not_found(path),
            }),
        },
    }
}

/// `/r/ROOM` and what hangs off it: the room's page, its WebSocket and its history.
fn room_route(request: &Request, shared: &Shared, rest: &str) -> Route {
    let (raw_room, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let decoded = percent_decode(raw_room).unwrap_or_default();
    let Some(room) = names::room(&decoded) else {
        return Route::Respond(Response::html(404, pages::bad_room(&decoded).into_bytes()));
    };
    match tail {
        "" if room != raw_room => {
            // One canonical URL per room, so that links and bookmarks agree.
            let mut location = format!("/r/{room}");
            if !request.query.is_empty() {
                location = format!("{location}?{}", request.query);
            }
            Route::Respond(Response::text(308, "This room's name is lower-case.").with_header("Location", location))
        }
        "" => Route::Respond(chat_page(request, shared, &room)),
        "connect" => websocket(request, shared, Endpoint::Chat { room, name: asked_name(request) }),
        "history" => Route::Respond(history(request, shared, &room)),
        _ => Route::Respond(not_found(&request.path)),
    }
}

/// The page's "go to room" form (`/r/?room=NAME`): to the room, or a page saying why not.
fn go_to_room(request: &Request) -> Response {
    let raw = request.query_param("room").unwrap_or_default();
    match names::room(raw.trim()) {
        Some(room) => Response::text(303, "To the room.").with_header("Location", format!("/r/{room}")),
        None => Response::html(404, pages::bad_room(&raw).into_bytes()),
    }
}

/// A WebSocket endpoint: opened with GET only, and from an allowed origin.
fn websocket(request: &Request, shared: &Shared, endpoint: Endpoint) -> Route {
    if request.method != "GET" {
        return Route::Respond(Response::text(405, "A WebSocket is opened with GET.").with_header("Allow", "GET"));
    }
    match check_origin(request, &shared.config.allow_origins) {
        Ok(()) => Route::WebSocket(endpoint),
        Err(response) => Route::Respond(response),
    }
}

/// Cross-site WebSocket hijacking defence (RFC 6455 §10.2): browsers always send `Origin` with a
/// WebSocket handshake, and a page on another site must not be able to chat as our visitor (with
/// their cookies). Same-origin pages and clients that send no `Origin` (bots, the terminal client)
/// pass; `--allow-origin` adds origins, e.g. the public name of a reverse proxy.
fn check_origin(request: &Request, allowed: &[String]) -> Result<(), Response> {
    // Browsers send one Origin; more than one is not a browser we can reason about.
    if request.header_count("Origin") > 1 {
        return Err(Response::text(403, "Cross-origin WebSocket refused: more than one Origin header."));
    }
    let Some(origin) = request.header_str("Origin") else { return Ok(()) };
    let origin = origin.to_ascii_lowercase();
    let host = request.header_str("Host").unwrap_or("").to_ascii_lowercase();
    let same = !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"));
    if same || allowed.contains(&origin) {
        return Ok(());
    }
    Err(Response::text(
        403,
        format!(
            "Cross-origin WebSocket refused: pages from {} may not connect here (see --allow-origin).",
            printable(&origin)
        ),
    ))
}

/// With `--access-code`, everything but the form, its stylesheet and `/healthz` needs a session.
/// Returns the answer for a request that may not pass (or for `/login` itself).
fn access_check(request: &Request, shared: &Shared) -> Option<Response> {
    let access = &shared.access;
    let path = request.path.as_str();
    if path == "/login" {
        let next = request.query_param("next").unwrap_or_else(|| "/".into());
        return Some(if access.allows(request) {
            Response::text(303, "Already in.").with_header("Location", "/")
        } else {
            access.form(200, &next, None)
        });
    }
    if !access.required() || access.allows(request) || path == "/healthz" || path.starts_with("/assets/") {
        return None;
    }
    let wants_socket = path == "/connect" || path.ends_with("/connect") || path == "/echo";
    Some(if wants_socket || path.starts_with("/api/") || path.ends_with("/history") {
        Response::text(
            401,
            "This server needs an access code: open it in a browser first, or send Authorization: Bearer CODE.",
        )
    } else {
        let next =
            if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
        access.form(401, &next, None)
    })
}

fn not_found(path: &str) -> Response {
    Response::text(404, format!("Nothing at {}: the chat is at /.", printable(path)))
}

/// What `/metrics` reads off the server now.
fn gauges(shared: &Shared) -> crate::metrics::Gauges {
    let rooms = shared.rooms.all();
    crate::metrics::Gauges {
        connections: shared.gate.open_connections(),
        websockets: shared.member_count(),
        rooms: rooms.len(),
        members: rooms.iter().map(|room| room.summary().members).sum(),
    }
}

/// `/healthz`: 200 `ok`, or 503 with what is wrong (a history log that cannot be written).
fn health(shared: &Shared) -> Response {
    let response = match shared.rooms.disk.problem() {
        None => Response::text(200, "ok"),
        Some(problem) => Response::text(503, format!("degraded: {problem}")),
    };
    response.with_header("Cache-Control", "no-store")
}

/// The chat page for `room`, for the person named by `?name=`, their cookie, or a new guest name.
fn chat_page(request: &Request, shared: &Shared, room: &str) -> Response {
    let mut notice = None;
    let mut remember = false;
    let max_name = shared.config.max_name;
    let from_query = request.query_param("name").map(|raw| names::validate_within(&raw, max_name));
    let name = match from_query {
        Some(Ok(name)) => {
            remember = true;
            name
        }
        other => {
            if let Some(Err(bad)) = other {
                notice = Some(bad.explain());
            }
            match cookie(request, NAME_COOKIE).and_then(|raw| names::validate_within(&raw, max_name).ok()) {
                Some(name) => name,
                None => {
                    remember = true;
                    names::guest()
                }
            }
        }
    };
    let limits = pages::PageLimits { max_text: shared.config.max_text, max_name };
    let html = pages::chat(room, &name, notice.as_deref(), &shared.rooms.summaries(), limits);
    let mut response = Response::html(200, html.into_bytes());
    if remember {
        response = response.with_header(
            "Set-Cookie",
            format!("{NAME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", url_encode(&name)),
        );
    }
    response
}

/// The name a WebSocket asks for: `?name=`, else the page's name cookie. Validated on join.
fn asked_name(request: &Request) -> Option<String> {
    request.query_param("name").or_else(|| cookie(request, NAME_COOKIE))
}

/// The value of cookie `name`, percent-decoded.
pub fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Cookie"))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .find_map(|v| pair_value(v, ';', name))
        .and_then(|v| percent_decode(v.trim_end()))
}

/// `/r/ROOM/history?before=SEQ&limit=N[&format=html]`: older messages, oldest first.
fn history(request: &Request, shared: &Shared, room: &str) -> Response {
    let bad = |why: &str| Response::text(400, why.to_string());
    let before = match request.query_param("before") {
        None => u64::MAX,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => return bad("before must be a sequence number (a whole number from 1)."),
        },
    };
    let limit = match request.query_param("limit") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_HISTORY_PAGE).contains(&n) => n,
            _ => return bad("limit must be a whole number from 1 to 200."),
        },
    };
    let html = match request.query_param("format").as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return bad("format must be json or html."),
    };
    let (page, more) = match shared.rooms.get(room) {
        None => (Vec::new(), false),
        Some(room) => match room.page_before(before, limit) {
            Ok(found) => found,
            Err(e) => {
                crate::log::error(format_args!("reading history of {}: {e}", room.name));
                return Response::text(500, "Could not read the history log.");
            }
        },
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

/// GET and HEAD requests carry no body here (RFC 9110 §9.3.1: a body on GET has no meaning).
/// Refusing them, and refusing ambiguous framing outright, means we never have to guess where the
/// next request starts (the root of request smuggling).
fn check_no_body(request: &Request) -> Result<(), Response> {
    if request.header("Transfer-Encoding").is_some() {
        return Err(Response::text(400, "Transfer-Encoding is not accepted: requests here have no body.").closing());
    }
    match request.header_count("Content-Length") {
        0 => Ok(()),
        1 if request.header_str("Content-Length") == Some("0") => Ok(()),
        1 if request.method != "GET" && request.method != "HEAD" => Ok(()), // answered with 405 and closed
        1 => Err(Response::text(400, "A GET request must not have a body.").closing()),
        _ => Err(Response::text(400, "Duplicate Content-Length headers.").closing()),
    }
}

/// Text cut short and with anything but printable ASCII replaced, fit for a one-line answer.
fn printable(text: &str) -> String {
    text.chars().take(80).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}
