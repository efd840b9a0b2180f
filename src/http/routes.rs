//! What each request asks for: a response to send now, or a WebSocket to open.
//!
//! | path | answer |
//! |---|---|
//! | `GET /` | the chat page of the default room, `lobby`, with the list of rooms |
//! | `GET /connect` | the lobby's WebSocket |
//! | `GET /r/ROOM` | the chat page of ROOM (1–32 of `[a-z0-9_-]` after lower-casing; else 404) |
//! | `GET /r/ROOM/connect` | its WebSocket (`?name=` gives the member's name) |
//! | `GET /r/ROOM/history?before=SEQ&limit=N` | older messages as JSON (`&format=html` for the page) |
//! | `GET /r/ROOM/search?q=TEXT&limit=N&before=SEQ` | the messages that hold TEXT, newest first, as JSON |
//! | `GET /r/ROOM/export?format=txt\|jsonl\|html` | the whole history as a file to download, streamed |
//! | `GET /new` | a new private room: a redirect to `/r/` + 26 random base32 characters |
//! | `POST /r/ROOM/files?name=NAME` | share a file in ROOM: the body is the file ([`upload`]) |
//! | `GET /files/HASH/NAME` | a shared file, by `sendfile(2)`, one `Range` honoured ([`download`]) |
//! | `GET /api/rooms` | the room list as JSON |
//! | `GET /assets/...` | the embedded files |
//! | `GET /healthz` | `200 ok`, or 503 saying what is wrong (how many history logs cannot be written) |
//! | `GET /metrics` | counters in the Prometheus text format |
//! | `GET /echo` | with `--echo` only: a WebSocket that echoes (for the Autobahn suite) |
//! | `GET /login`, `POST /login` | with `--access-code`: the form, and the code sent with it |
//! | `GET /host?key=KEY` | the host link: the host cookie and a redirect to `/`; a wrong key 403 |
//! | anything else | 404; another method is 405 |
//!
//! Before any of them, the `Host` header is checked ([`host`]): a request without exactly one gets
//! 400, one for a host that is not this server 421.
//!
//! Every route is here, and each is one arm of [`route`]; the JSON and text answers that are
//! not pages are built in [`api`], the pages in [`pages`].

use std::net::IpAddr;

use crate::chat::names::{self, DEFAULT_ROOM};
use crate::http::body::Body;
use crate::http::head::{percent_decode, Request};
use crate::http::origin::check_origin;
use crate::http::response::{printable, Response};
use crate::http::{api, assets, download, export, host, hosting, login, pages, search, upload};
use crate::identity::MemberId;
use crate::protocol::html::url_encode;
use crate::shared::Shared;

/// The cookie in which the page remembers a person's name.
pub const NAME_COOKIE: &str = "chatroom_name";

/// Largest login form body we read.
pub const MAX_LOGIN_BODY: usize = 1024;

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
        /// The member id from the `chatroom_id` cookie, if it is well formed (else a fresh one
        /// is made for the connection).
        member: Option<MemberId>,
        /// Whether it presented the host key (cookie or bearer).
        host: bool,
    },
    /// Every message is sent back to its sender (`--echo`).
    Echo,
}

/// Routes one request from `peer`. `body` is the request's body, which only the routes that
/// take one read (see [`Body`]).
pub fn route(request: &Request, peer: IpAddr, body: &mut Body<'_>, shared: &Shared) -> Route {
    if let Err(refused) = host::check(request, shared.config.bind.ip(), &shared.config.allow_hosts) {
        return Route::Respond(refused);
    }
    let method = request.method.as_str();
    let path = request.path.as_str();
    match method {
        "POST" if path == "/login" => return Route::Respond(login(request, peer, body, shared)),
        // An upload: answered below, once the access code has been checked.
        "POST" if upload_room(path).is_some() => {}
        "GET" | "HEAD" if !body.is_empty() => {
            // RFC 9110 §9.3.1: a body on GET has no meaning; refusing it keeps us in step.
            return Route::Respond(Response::text(400, "A GET request must not have a body.").closing());
        }
        "GET" | "HEAD" => {}
        _ => {
            let allow = match path {
                "/login" => "GET, HEAD, POST",
                _ if upload_room(path).is_some() => "POST",
                _ => "GET, HEAD",
            };
            return Route::Respond(
                Response::text(405, format!("Method {} is not allowed here.", printable(method)))
                    .with_header("Allow", allow)
                    .closing(),
            );
        }
    }
    // The host link comes before the access code: its key is the stronger secret.
    if path == "/host" {
        return Route::Respond(hosting::host_link(request, peer, shared));
    }
    if let Some(response) = access_check(request, peer, shared) {
        return Route::Respond(response);
    }
    if let Some(response) = files_route(request, peer, body, shared) {
        return Route::Respond(response);
    }
    let respond = Route::Respond;
    match path {
        "/" => respond(chat_page(request, shared, DEFAULT_ROOM)),
        "/connect" => chat_socket(request, peer, shared, DEFAULT_ROOM.to_string()),
        "/echo" if shared.config.echo => websocket(request, shared, Endpoint::Echo),
        "/healthz" => respond(api::health(shared)),
        "/metrics" => respond(api::metrics(shared)),
        "/new" => respond(
            Response::text(303, "A new private room.")
                .with_header("Location", format!("/r/{}", names::private_room()))
                .with_header("Cache-Control", "no-store"),
        ),
        "/api/rooms" => respond(api::rooms(shared)),
        "/r" | "/r/" => respond(go_to_room(request)),
        _ => match path.strip_prefix("/r/") {
            Some(rest) => room_route(request, peer, shared, rest),
            None => respond(match assets::find(path) {
                Some((index, _)) => assets::respond(index, request.header_str("If-None-Match")),
                None => not_found(path),
            }),
        },
    }
}

/// `POST /login`: the access-code form, `code=...&next=...` (`application/x-www-form-urlencoded`).
fn login(request: &Request, peer: IpAddr, body: &mut Body<'_>, shared: &Shared) -> Response {
    let content_type = request.header_str("Content-Type").unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Response::text(415, "Send the form as application/x-www-form-urlencoded.").closing();
    }
    if request.header_count("Content-Length") == 0 {
        return Response::text(411, "A form needs a Content-Length.").closing();
    }
    match body.read_all(MAX_LOGIN_BODY) {
        Ok(form) => login::login(&shared.access, peer, &form),
        Err(refused) => refused,
    }
}

/// The shared files' routes: an upload (`POST /r/ROOM/files`) and a download (`/files/...`);
/// `None` for any other path.
fn files_route(request: &Request, peer: IpAddr, body: &mut Body<'_>, shared: &Shared) -> Option<Response> {
    if let Some(rest) = request.path.strip_prefix("/files/") {
        return Some(download::download(request, shared, rest));
    }
    let raw_room = upload_room(&request.path)?;
    if request.method != "POST" {
        return Some(Response::text(405, "Share a file with POST.").with_header("Allow", "POST"));
    }
    let decoded = percent_decode(raw_room).unwrap_or_default();
    Some(match names::room(&decoded) {
        Some(room) => upload::upload(request, peer, body, shared, &room),
        None => Response::html(404, pages::bad_room(&decoded).into_bytes()),
    })
}

/// The room part of an upload's path, `/r/ROOM/files`.
fn upload_room(path: &str) -> Option<&str> {
    path.strip_prefix("/r/")?.strip_suffix("/files").filter(|room| !room.contains('/'))
}

/// `/r/ROOM` and what hangs off it: the room's page, its WebSocket and its history.
fn room_route(request: &Request, peer: IpAddr, shared: &Shared, rest: &str) -> Route {
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
        "connect" => chat_socket(request, peer, shared, room),
        "history" => Route::Respond(api::history(request, shared, &room)),
        "search" => Route::Respond(search::search(request, shared, &room)),
        "export" => Route::Respond(export::export(request, shared, &room)),
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

/// A room's WebSocket: who is asking (name, member id, host) is read from the request here.
fn chat_socket(request: &Request, peer: IpAddr, shared: &Shared, room: String) -> Route {
    let host = if hosting::is_host(request, shared) {
        true
    } else if shared.access.required() {
        // A bearer here was the access code (access_check let it through).
        false
    } else {
        match hosting::host_bearer(request, peer, shared) {
            Ok(host) => host,
            Err(refused) => return Route::Respond(refused),
        }
    };
    let member = hosting::member_id(request);
    websocket(request, shared, Endpoint::Chat { room, name: asked_name(request), member, host })
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

/// With `--access-code`, everything but the form, its stylesheet and `/healthz` needs a session
/// (or the code as a bearer token). Returns the answer for a request that may not pass (or for
/// `GET /login` itself).
fn access_check(request: &Request, peer: IpAddr, shared: &Shared) -> Option<Response> {
    let path = request.path.as_str();
    if path == "/healthz" || path.starts_with("/assets/") || hosting::is_host(request, shared) {
        return None;
    }
    let allowed = match login::check(&shared.access, request, peer) {
        Ok(allowed) => allowed,
        Err(too_many) => return Some(too_many),
    };
    if path == "/login" {
        let next = request.query_param("next").unwrap_or_else(|| "/".into());
        return Some(if allowed {
            Response::text(303, "Already in.").with_header("Location", "/")
        } else {
            login::form_page(200, &next, None)
        });
    }
    if allowed {
        return None;
    }
    let wants_socket = path == "/connect" || path.ends_with("/connect") || path == "/echo";
    // The data answers get a plain 401, not the form: a script asked, not a person. So do shared
    // files: the page's script or an <img> asked.
    let wants_data = ["/history", "/search", "/export"].iter().any(|tail| path.ends_with(tail));
    let wants_file = path.starts_with("/files/") || upload_room(path).is_some();
    Some(if wants_socket || path.starts_with("/api/") || wants_data || wants_file {
        Response::text(
            401,
            "This server needs an access code: open it in a browser first, or send Authorization: Bearer CODE.",
        )
    } else {
        let next =
            if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
        login::form_page(401, &next, None)
    })
}

fn not_found(path: &str) -> Response {
    Response::text(404, format!("Nothing at {}: the chat is at /.", printable(path)))
}

/// The chat page for `room`, for the person named by `?name=`, their cookie, or a new guest name.
fn chat_page(request: &Request, shared: &Shared, room: &str) -> Response {
    let mut notice = None;
    let mut remember = false;
    let max_name = shared.config.max_name;
    let from_query = request.query_param("name").map(|raw| names::validate(&raw, max_name));
    let name = match from_query {
        Some(Ok(name)) => {
            remember = true;
            name
        }
        other => {
            if let Some(Err(bad)) = other {
                notice = Some(bad.explain());
            }
            match request.cookie(NAME_COOKIE).and_then(|raw| names::validate(&raw, max_name).ok()) {
                Some(name) => name,
                None => {
                    remember = true;
                    names::guest()
                }
            }
        }
    };
    let max_upload = shared.files.as_ref().map(|_| shared.config.max_upload);
    let limits = pages::PageLimits { max_text: shared.config.max_text, max_name, max_upload };
    let html = pages::chat(room, &name, notice.as_deref(), &shared.rooms.summaries(), limits);
    let mut response = Response::html(200, html.into_bytes());
    if remember {
        response = response.with_header(
            "Set-Cookie",
            format!("{NAME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", url_encode(&name)),
        );
    }
    if hosting::member_id(request).is_none() {
        response = response.with_header("Set-Cookie", hosting::id_cookie(&MemberId::fresh()));
    }
    response
}

/// The name a WebSocket asks for: `?name=`, else the page's name cookie. Validated on join.
fn asked_name(request: &Request) -> Option<String> {
    request.query_param("name").or_else(|| request.cookie(NAME_COOKIE))
}
