//! Which pages may open a WebSocket or upload a file here: the same-origin rule.

use crate::http::head::Request;
use crate::http::response::{printable, Response};

/// Cross-site WebSocket hijacking defence (RFC 6455 §10.2): browsers always send `Origin` with a
/// WebSocket handshake, and a page on another site must not be able to chat as our visitor (with
/// their cookies). Same-origin pages and clients that send no `Origin` (bots, the terminal client)
/// pass; `--allow-origin` adds origins, e.g. the public name of a reverse proxy.
pub fn check_origin(request: &Request, allowed: &[String]) -> Result<(), Response> {
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
