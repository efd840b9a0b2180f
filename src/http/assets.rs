//! The files of the page, embedded in the binary, with their content types and cache rules.
//!
//! Embedding (`include_bytes!`) is what makes chatroom one file to copy: the page, its script and
//! style, and the vendored htmx and ws extension (see `assets/vendor/README.md`) travel inside the
//! executable, so a LAN without internet gets the full page.
//!
//! Caching: the vendored files have their version in their name, so they never change under that
//! name and are served `immutable` for a year. Our own files keep their name across releases, so
//! they are served `no-cache` with an `ETag`: the browser revalidates and usually gets a 304.

use std::sync::OnceLock;

use sha1::{Digest, Sha1};

use crate::http::response::Response;

/// One embedded file.
pub struct Asset {
    /// Its URL path.
    pub path: &'static str,
    /// Its `Content-Type`, with a charset for text.
    pub content_type: &'static str,
    /// Its bytes, embedded in the binary.
    pub body: &'static [u8],
    /// Versioned by name: cache for a year without revalidating.
    pub immutable: bool,
}

// The pages are templates, not files under `/assets/`: `http::pages` fills in their `{{slots}}`
// (see `http::template`) and serves the result.

/// The chat page's template, filled in by `http::pages::chat`.
pub const PAGE_TEMPLATE: &str = include_str!("../../assets/index.html");

/// The page for a room name that is not valid, filled in by `http::pages::bad_room`.
pub const BAD_ROOM_TEMPLATE: &str = include_str!("../../assets/bad-room.html");

/// The access-code form (`--access-code`), filled in by `http::pages::access`.
pub const ACCESS_TEMPLATE: &str = include_str!("../../assets/access.html");

/// Every file under `/assets/`.
pub static ASSETS: &[Asset] = &[
    Asset {
        path: "/assets/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/search.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/search.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/compose.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/compose.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/code.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/code.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/alerts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/alerts.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/people.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/people.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/files.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/files.js"),
        immutable: false,
    },
    Asset {
        path: "/assets/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/style.css"),
        immutable: false,
    },
    Asset {
        path: "/assets/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/favicon.svg"),
        immutable: false,
    },
    Asset {
        path: "/assets/favicon-unread.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/favicon-unread.svg"),
        immutable: false,
    },
    Asset {
        path: "/assets/htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-2.0.11.min.js"),
        immutable: true,
    },
    Asset {
        path: "/assets/htmx-ext-ws-2.0.4.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-ext-ws-2.0.4.js"),
        immutable: true,
    },
    Asset {
        path: "/assets/htmx-LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-LICENSE.txt"),
        immutable: false,
    },
    Asset {
        path: "/assets/htmx-ext-ws-LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-ext-ws-LICENSE.txt"),
        immutable: false,
    },
];

/// The asset at `path`, if any. A plain lookup in a fixed table: there is no file system behind
/// it, so `..`, percent-encoding and other path tricks can only ever miss.
pub fn find(path: &str) -> Option<(usize, &'static Asset)> {
    ASSETS.iter().enumerate().find(|(_, a)| a.path == path)
}

/// The strong ETag of asset number `index`: the first 16 hex digits of its SHA-1, computed once.
fn etag(index: usize) -> &'static str {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    let etags = ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let digest = Sha1::digest(a.body);
                let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    });
    &etags[index]
}

/// The response for asset number `index`: 200 with the body, or 304 if the browser's copy
/// (`If-None-Match`) is current.
pub fn respond(index: usize, if_none_match: Option<&str>) -> Response {
    let asset = &ASSETS[index];
    let tag = etag(index);
    let cache = if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let fresh = if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let response = if fresh {
        Response::new(304, asset.content_type, &b""[..])
    } else {
        Response::new(200, asset.content_type, asset.body)
    };
    response.with_header("Cache-Control", cache).with_header("ETag", tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_loads_only_embedded_scripts() {
        for src in [
            "/assets/htmx-2.0.11.min.js",
            "/assets/htmx-ext-ws-2.0.4.js",
            "/assets/app.js",
            "/assets/search.js",
            "/assets/compose.js",
            "/assets/code.js",
            "/assets/alerts.js",
            "/assets/people.js",
            "/assets/files.js",
            "/assets/style.css",
            "/assets/favicon.svg",
        ] {
            assert!(PAGE_TEMPLATE.contains(src), "page does not reference {src}");
            assert!(find(src).is_some(), "{src} is not embedded");
        }
        for page in [PAGE_TEMPLATE, BAD_ROOM_TEMPLATE, ACCESS_TEMPLATE] {
            assert!(page.starts_with("<!doctype html>\n"));
            for link in ["/assets/style.css", "/assets/favicon.svg"] {
                assert!(page.contains(&format!(r#"href="{link}""#)), "a page does not link {link}");
            }
            assert!(
                !page.contains("http://") && !page.contains("https://"),
                "pages must not load anything from the internet"
            );
        }
        assert!(!BAD_ROOM_TEMPLATE.contains("<script") && !ACCESS_TEMPLATE.contains("<script"));
    }

    #[test]
    fn etags_revalidate() {
        let (i, _) = find("/assets/app.js").unwrap();
        let tag = etag(i).to_string();
        assert_eq!(respond(i, Some(&tag)).status, 304);
        assert_eq!(respond(i, Some("\"other\"")).status, 200);
        assert!(find("/assets/../Cargo.toml").is_none());
    }
}
