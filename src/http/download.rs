//! `GET /files/HASH/NAME`: a shared file, sent from the disk to the socket by `sendfile(2)`.
//!
//! What every download carries, and why:
//! - `ETag: "HASH"`, strong (RFC 9110 §8.8.3): the bytes under a hash never change, so
//!   `If-None-Match` with it is answered 304, and `Cache-Control: private, max-age=31536000,
//!   immutable` lets the browser keep it (private: it may sit behind an access code);
//! - `Content-Disposition` (RFC 6266): `inline` only for a picture or plain text whose bytes
//!   agree with its type (`files::media`), `attachment` for everything else;
//! - `X-Content-Type-Options: nosniff` (every response has it) and `Content-Security-Policy:
//!   default-src 'none'; sandbox`: even a file a browser did open could run nothing and load
//!   nothing, in an origin of its own;
//! - `Accept-Ranges: bytes`, and one range honoured ([`super::range`]).
//!
//! The bytes never pass through this process: [`FileBody::send`] (in [`super::response`]) asks the kernel to copy them
//! from the page cache to the socket, bounded by the connection's write timeout, so a client that
//! stops reading is cut off like any other. No room lock is ever taken here.

use crate::files::{self, media, name};
use crate::http::head::{percent_decode, Request};
use crate::http::range::{self, Wanted};
use crate::http::response::{FileBody, Response};
use crate::shared::Shared;

/// The policy for a downloaded file: nothing to load, nothing to run, an origin of its own.
pub const FILE_POLICY: &str = "default-src 'none'; sandbox";

/// How long a browser may keep a file without asking again: a year, as it never changes.
const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

/// `GET` or `HEAD /files/HASH/NAME`; `rest` is the path after `/files/`.
pub fn download(request: &Request, shared: &Shared, rest: &str) -> Response {
    let not_found = || Response::text(404, "No such file here (a wrong link, or a file from another server).");
    let Some(files) = &shared.files else { return not_found() };
    let Some((hash, raw_name)) = rest.split_once('/') else { return not_found() };
    let Some(name) = percent_decode(raw_name) else { return not_found() };
    let (entry, file, length) = match files.find(hash, &name) {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => {
            crate::log::error(format_args!("cannot read shared file {hash}: {e}"));
            return Response::text(500, "That file cannot be read right now.");
        }
    };
    let etag = format!("\"{hash}\"");
    let cached = |status: u16, line: &str| {
        Response::text(status, line).with_header("ETag", etag.clone()).with_header("Cache-Control", CACHE_CONTROL)
    };
    if request.header_str("If-None-Match").is_some_and(|tags| matches_any(tags, hash)) {
        // RFC 9110 §15.4.5: a 304 has no body; ours keeps the headers a 200 would repeat.
        let mut unchanged = cached(304, "");
        unchanged.body = Vec::new().into();
        return unchanged;
    }
    // Range applies to GET only (RFC 9110 §14.2), and `If-Range` with another validator asks
    // for the whole file (§13.1.5): ours never changes, so any other tag or a date is stale.
    let range = request.header_str("Range").filter(|_| request.method == "GET");
    let fresh = request.header_str("If-Range").is_none_or(|tag| tag.trim() == etag);
    let (status, first, count) = match range::wanted(range.filter(|_| fresh), length) {
        Wanted::Whole => (200, 0, length),
        Wanted::Part { first, last } => (206, first, last - first + 1),
        Wanted::Unsatisfiable => {
            return cached(416, "That range is not in the file.")
                .with_header("Content-Range", format!("bytes */{length}"));
        }
    };
    let mut response = Response::new(status, "application/octet-stream", Vec::new())
        .with_header("ETag", etag)
        .with_header("Cache-Control", CACHE_CONTROL)
        .with_header("Accept-Ranges", "bytes")
        .with_header("Content-Disposition", name::content_disposition(media::is_inline(&entry.media_type), &name))
        .with_header("Content-Security-Policy", FILE_POLICY);
    response.headers[0].1 = media::content_type(&entry.media_type).into();
    if status == 206 {
        response = response.with_header("Content-Range", format!("bytes {first}-{}/{length}", first + count - 1));
    }
    // A big body gives way to chat while it is sent, and its connection then closes (see
    // `files::transfer`). A HEAD sends nothing.
    let big = count > files::transfer::BIG && request.method == "GET";
    response.file = Some(FileBody { file, offset: first, length: count, in_steps: big });
    if big {
        files::transfer::give_way();
        response = response.closing();
    }
    response
}

/// Whether an `If-None-Match` list names the file `hash` (or is `*`). The weak comparison
/// (RFC 9110 §13.1.2): `W/"HASH"` matches too.
fn matches_any(tags: &str, hash: &str) -> bool {
    tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly() {
        let hash = "ab".repeat(32);
        assert!(matches_any(&format!("\"{hash}\""), &hash));
        assert!(matches_any(&format!("\"x\", W/\"{hash}\""), &hash));
        assert!(matches_any("*", &hash));
        assert!(!matches_any("\"x\"", &hash));
        assert!(!matches_any("", &hash));
    }
}
