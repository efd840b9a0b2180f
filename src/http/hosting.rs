//! The host over HTTP: the host link (`GET /host?key=KEY`), its cookie, and
//! `Authorization: Bearer KEY` on a WebSocket upgrade. What the key is and what the host may do
//! are `crate::identity`'s and the room's business.
//!
//! **Bearer tokens, the access code and the host key side by side.** Both secrets may come as
//! `Authorization: Bearer ...` (RFC 6750 §2.1), and a request carries one such header. The host
//! key is the stronger of the two (the host runs the server), so a request that presents it
//! passes the access code's check too: a host's client needs only its key. A bearer that is the
//! access code makes an ordinary member. Every wrong guess at either counts against the same
//! per-address limit ([`crate::access::Access::guess`]).

use std::net::IpAddr;

use crate::access::Refused;
use crate::http::head::Request;
use crate::http::login;
use crate::http::response::Response;
use crate::identity::{MemberId, HOST_COOKIE, ID_COOKIE};
use crate::shared::Shared;

/// `GET /host?key=KEY`: with the right key, the host cookie and a redirect to the lobby; a wrong
/// or missing key is 403, and too many wrong guesses from one address 429.
pub fn host_link(request: &Request, peer: IpAddr, shared: &Shared) -> Response {
    let Some(given) = request.query_param("key") else {
        return Response::text(403, "The host link needs its key: /host?key=KEY, as printed when the server started.");
    };
    match shared.access.guess(peer, "host key", || shared.host.is_key(&given)) {
        // Strict: no other site can make the browser send it, even with a link to us.
        Ok(()) => Response::text(303, "You are the host.")
            .with_header("Location", "/")
            .with_header(
                "Set-Cookie",
                format!("{HOST_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", shared.host.cookie_value()),
            )
            .with_header("Cache-Control", "no-store"),
        Err(Refused::Wrong) => {
            Response::text(403, "That is not the host key: use the host link the server printed when it started.")
        }
        Err(Refused::TooMany(wait)) => login::too_many(wait),
    }
}

/// Whether `request` comes from the host: it carries the host cookie, or the host key as a bearer
/// token. Neither is a guess; a bearer that is not the key is judged by [`host_bearer`].
pub fn is_host(request: &Request, shared: &Shared) -> bool {
    request.cookie(HOST_COOKIE).is_some_and(|value| shared.host.is_cookie(&value))
        || bearer(request).is_some_and(|token| shared.host.is_key(token))
}

/// On a WebSocket upgrade without an access code: a bearer token that is not the host key is a
/// wrong guess at it (counted, then 403); `Ok(true)` for the host, `Ok(false)` without a bearer.
pub fn host_bearer(request: &Request, peer: IpAddr, shared: &Shared) -> Result<bool, Response> {
    let Some(token) = bearer(request) else { return Ok(false) };
    match shared.access.guess(peer, "host key", || shared.host.is_key(token)) {
        Ok(()) => Ok(true),
        Err(Refused::Wrong) => Err(Response::text(403, "That bearer token is not the host key.")),
        Err(Refused::TooMany(wait)) => Err(login::too_many(wait)),
    }
}

/// The member id a request presents in its `chatroom_id` cookie, if it is well formed (a
/// malformed one is as good as none: it is replaced, never refused).
pub fn member_id(request: &Request) -> Option<MemberId> {
    request.cookie(ID_COOKIE).and_then(|value| MemberId::parse(&value))
}

/// The `Set-Cookie` value that gives a browser its member id: for a year, `HttpOnly` (no
/// script reads it), `SameSite=Lax` (sent when a link from elsewhere opens the page, so a
/// person keeps their messages; not sent by other sites' scripts).
pub fn id_cookie(id: &MemberId) -> String {
    format!("{ID_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", id.as_str())
}

fn bearer(request: &Request) -> Option<&str> {
    request.header_str("Authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}
