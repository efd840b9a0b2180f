//! What each request asks for: a response to send now, or a WebSocket to open.
//!
//! | path | answer |
//! |---|---|
//! | `GET /` | the chat page of the default room, `lobby` |
//! | `GET /connect` | the lobby's WebSocket |
//! | `GET /assets/...` | the embedded files |
//! | `GET /healthz` | `200 ok` |
//! | `GET /echo` | with `--echo` only: a WebSocket that echoes (for the Autobahn suite) |
//! | anything else | 404; a method other than GET or HEAD is 405 |

use crate::assets;
use crate::config::Config;
use crate::http::head::Request;
use crate::http::response::Response;
use crate::render;

/// The room behind `/` and `/connect`.
pub const DEFAULT_ROOM: &str = "lobby";

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
    /// A member of a chat room.
    Chat { room: String },
    /// Every message is sent back to its sender (`--echo`).
    Echo,
}

/// Routes one request.
pub fn route(request: &Request, config: &Config) -> Route {
    if let Err(response) = check_no_body(request) {
        return Route::Respond(response);
    }
    let method = request.method.as_str();
    if method != "GET" && method != "HEAD" {
        // Simplification: we never read request bodies, so we cannot stay in step with a client
        // that sent one. Close after answering.
        return Route::Respond(
            Response::text(405, format!("Method {method} is not allowed here: use GET."))
                .with_header("Allow", "GET, HEAD")
                .closing(),
        );
    }
    let websocket = |endpoint| {
        if method == "GET" {
            Route::WebSocket(endpoint)
        } else {
            Route::Respond(Response::text(405, "A WebSocket is opened with GET.").with_header("Allow", "GET"))
        }
    };
    match request.path.as_str() {
        "/" => Route::Respond(Response::html(200, render::page(DEFAULT_ROOM, "/connect").into_bytes())),
        "/connect" => websocket(Endpoint::Chat { room: DEFAULT_ROOM.to_string() }),
        "/echo" if config.echo => websocket(Endpoint::Echo),
        "/healthz" => Route::Respond(Response::text(200, "ok").with_header("Cache-Control", "no-store")),
        path => match assets::find(path) {
            Some((index, _)) => Route::Respond(assets::respond(index, request.header_str("If-None-Match"))),
            None => Route::Respond(Response::text(404, format!("Nothing at {}: the chat is at /.", printable(path)))),
        },
    }
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

/// A path, cut short and with anything but printable ASCII replaced, fit for a one-line answer.
fn printable(path: &str) -> String {
    path.chars().take(80).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(method: &str, path: &str, headers: &[(&str, &str)]) -> Route {
        let request = Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            minor_version: 1,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect(),
        };
        route(&request, &Config::default())
    }

    fn status(route: Route) -> u16 {
        match route {
            Route::Respond(r) => r.status,
            Route::WebSocket(_) => 101,
        }
    }

    #[test]
    fn routes_the_known_paths() {
        assert_eq!(status(get("GET", "/", &[])), 200);
        assert_eq!(status(get("HEAD", "/", &[])), 200);
        assert_eq!(status(get("GET", "/healthz", &[])), 200);
        assert_eq!(status(get("GET", "/assets/app.js", &[])), 200);
        assert!(matches!(get("GET", "/connect", &[]), Route::WebSocket(Endpoint::Chat { .. })));
        assert_eq!(status(get("GET", "/echo", &[])), 404, "echo is off by default");
        assert_eq!(status(get("GET", "/nope", &[])), 404);
        assert_eq!(status(get("POST", "/", &[])), 405);
        assert_eq!(status(get("DELETE", "/connect", &[])), 405);
    }

    #[test]
    fn refuses_bodies_and_ambiguous_lengths() {
        assert_eq!(status(get("GET", "/", &[("Content-Length", "5")])), 400);
        assert_eq!(status(get("GET", "/", &[("Content-Length", "0")])), 200);
        assert_eq!(status(get("GET", "/", &[("Content-Length", "0"), ("Content-Length", "0")])), 400);
        assert_eq!(status(get("GET", "/", &[("Transfer-Encoding", "chunked")])), 400);
    }
}
