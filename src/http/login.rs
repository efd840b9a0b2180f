//! The access code over HTTP: the form (`GET` and `POST /login`), the session cookie it sets,
//! and `Authorization: Bearer CODE` for clients that are not browsers. What is right and how
//! often one may guess is decided by [`crate::access`].
//!
//! The session cookie is `HttpOnly` (no script can read it) and `SameSite=Strict` (no other site
//! can make the browser send it); every page and every WebSocket upgrade then needs it.

use std::net::IpAddr;
use std::time::Duration;

use crate::access::{Access, Refused, SESSION_LIFE};
use crate::http::head::{pair_value, percent_decode, Request};
use crate::http::pages;
use crate::http::response::Response;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "chatroom_session";

/// Whether `request`, from `ip`, may pass: no code is set, it carries a session cookie, or the
/// code itself as a bearer token. A wrong bearer token is a wrong guess like a wrong form, and
/// an address that has guessed too often gets its 429 here (the `Err`).
pub fn check(access: &Access, request: &Request, ip: IpAddr) -> Result<bool, Response> {
    if !access.required() || request.cookie(SESSION_COOKIE).is_some_and(|token| access.has_session(&token)) {
        return Ok(true);
    }
    let Some(bearer) = request.header_str("Authorization").and_then(|v| v.strip_prefix("Bearer ")) else {
        return Ok(false);
    };
    match access.try_code(ip, bearer) {
        Ok(()) => Ok(true),
        Err(Refused::Wrong) => Ok(false),
        Err(Refused::TooMany(wait)) => Err(too_many(wait)),
    }
}

/// `POST /login` with the form body `code=...&next=...`: a session cookie and a redirect to
/// `next`, or the form again with what went wrong.
pub fn login(access: &Access, ip: IpAddr, body: &[u8]) -> Response {
    if !access.required() {
        return Response::text(303, "No access code is needed here.").with_header("Location", "/");
    }
    let form = std::str::from_utf8(body).unwrap_or("");
    let field = |name: &str| pair_value(form, '&', name).and_then(percent_decode).unwrap_or_default();
    let next = safe_next(&field("next"));
    match access.try_code(ip, &field("code")) {
        Ok(()) => Response::text(303, "Welcome.")
            .with_header("Location", next)
            .with_header(
                "Set-Cookie",
                format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                    access.open_session(),
                    SESSION_LIFE.as_secs()
                ),
            )
            .with_header("Cache-Control", "no-store"),
        Err(Refused::Wrong) => form_page(401, &next, Some("That code is not right.")),
        Err(Refused::TooMany(wait)) => too_many(wait),
    }
}

/// The code form, with `status` (401 for "you need the code").
pub fn form_page(status: u16, next: &str, error: Option<&str>) -> Response {
    Response::html(status, pages::access(next, error).into_bytes()).with_header("Cache-Control", "no-store")
}

/// 429 for an address that has guessed wrong too often.
pub(crate) fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    Response::text(429, format!("Too many wrong codes; try again in {secs} s."))
        .with_header("Retry-After", secs.to_string())
}

/// Where to go after logging in: a local path only (not `//host`, not a URL), else `/`.
fn safe_next(next: &str) -> String {
    let local =
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    if local {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::MAX_FAILURES;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next("/r/kitchen?name=a"), "/r/kitchen?name=a");
        for bad in ["//evil.example", "https://evil.example", "\\\\evil", "/\\evil", "", "r/x"] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    #[test]
    fn the_form_answers_with_a_cookie_or_the_reason() {
        let access = Access::new(Some("letmein".into()), None).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(login(&access, ip, b"code=nope").status, 401);
        }
        assert_eq!(login(&access, ip, b"code=letmein").status, 429, "even the right code waits");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let ok = login(&access, other, b"code=letmein&next=%2Fr%2Fx");
        assert_eq!(ok.status, 303);
        assert!(ok.headers.iter().any(|(n, v)| *n == "Location" && v == "/r/x"));
        let cookie = ok.headers.iter().find(|(n, _)| *n == "Set-Cookie").unwrap().1.to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert_eq!(cookie.split(';').next().unwrap().len(), SESSION_COOKIE.len() + 1 + 64);
    }
}
