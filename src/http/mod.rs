//! The HTTP side of the server, which is small and ours: read one request head ([`head`]), decide
//! what it asks for ([`routes`]), write one response ([`response`]). The HTML pages are
//! [`pages`], each a template asset filled in one pass by [`template`].
//!
//! | module | owns |
//! |---|---|
//! | [`head`] | reading one request head: size cap, deadline, `httparse` |
//! | [`host`] | the `Host` header: exactly one, naming this server (the DNS rebinding defence) |
//! | [`body`] | a request's body, framed by one plain `Content-Length` (only `/login` takes one) |
//! | [`routes`] | every route, in one `match`: a response now, or a WebSocket to open |
//! | [`api`] | the answers that are data: history, the room list, health, metrics |
//! | [`pages`], [`template`] | the HTML pages, from template assets filled in one pass |
//! | [`assets`] | the embedded files: the page's script and style, vendored htmx |
//! | [`login`] | the access code over HTTP: the form, the session cookie, bearer tokens |
//! | [`hosting`] | the host link and cookie, the host key as a bearer token, the member id's cookie |
//! | [`response`] | writing one response |
//! | [`streamed`] | a body made while it is written, in pieces: chunked, or of a known length |
//! | [`search`], [`export`] | a room's whole history: searched, or downloaded as a file |
//! | [`upload`], [`download`], [`range`] | shared files: `POST /r/ROOM/files`, `GET /files/HASH/NAME` by `sendfile(2)`, `Range` |
//!
//! Simplification: GET and HEAD, and two POSTs: the access-code form, whose body is small, and a
//! shared file, whose body is read in pieces ([`body::Body::read_each`]). Both are framed by one
//! plain `Content-Length`: no chunked bodies, and so no request smuggling through conflicting
//! lengths. `Expect: 100-continue` is answered only by an upload that passed its checks.

pub(crate) mod api;
pub(crate) mod assets;
pub mod body;
pub(crate) mod download;
pub(crate) mod export;
pub mod head;
pub(crate) mod host;
pub(crate) mod hosting;
pub mod login;
pub(crate) mod origin;
pub mod pages;
pub(crate) mod range;
pub mod response;
pub mod routes;
pub(crate) mod search;
pub mod streamed;
pub(crate) mod template;
pub(crate) mod upload;
