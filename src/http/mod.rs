//! The HTTP side of the server, which is small and ours: read one request head ([`head`]), decide
//! what it asks for ([`routes`]), write one response ([`response`]). The HTML pages are
//! [`pages`], each a template asset filled in one pass by [`template`].
//!
//! Simplification: only GET and HEAD exist, and no request has a body. That is all a chat page
//! and a WebSocket upgrade need, and it removes a whole class of parsing (chunked bodies,
//! `Expect: 100-continue`, request smuggling through conflicting lengths).

pub mod access;
pub mod assets;
pub mod head;
pub mod pages;
pub mod response;
pub mod routes;
pub mod template;
