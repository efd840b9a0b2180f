//! The HTTP phase of a connection: requests, kept alive, until the connection closes or one of
//! them upgrades to a WebSocket.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{AfterHttp, Ending, KEEP_ALIVE_IDLE};
use crate::http::body::Body;
use crate::http::head::{self, HeadError, HeadLimits};
use crate::http::response::Response;
use crate::http::routes::{self, Route};
use crate::protocol::{Dialect, JSON_SUBPROTOCOL};
use crate::shared::Shared;
use crate::ws::handshake;

/// The HTTP part: requests until the connection closes or upgrades.
#[inline(never)]
pub(super) fn serve_http(stream: &TcpStream, peer: SocketAddr, shared: &Arc<Shared>) -> AfterHttp {
    let mut buf = Vec::new();
    let mut requests = 0u32;
    // A client that stops reading an answer (a long export) must not hold this thread for ever:
    // each write may wait this long for room in the socket's buffer, then the connection ends.
    if let Err(error) = stream.set_write_timeout(Some(shared.config.head_timeout)) {
        return AfterHttp::Closed(Ending::HttpFailed { requests, error });
    }
    loop {
        let limits = HeadLimits {
            max_bytes: shared.config.max_head,
            deadline: shared.config.head_timeout,
            // The first request gets the full deadline; later ones only the keep-alive idle time.
            idle: if requests == 0 { shared.config.head_timeout } else { KEEP_ALIVE_IDLE },
        };
        let request = match head::read_head(stream, &mut buf, limits) {
            Ok(request) => request,
            // Nobody to answer: the client went quiet between requests, or the connection failed.
            Err(HeadError::Idle) => return AfterHttp::Closed(Ending::Http { requests }),
            Err(HeadError::Io(error)) => return AfterHttp::Closed(Ending::HttpFailed { requests, error }),
            Err(refused) => {
                let mut response = head_refusal(&refused, shared.config.max_head);
                let _ = response.write_to(stream, false, false);
                return AfterHttp::Closed(Ending::Refused { requests, status: response.status });
            }
        };
        requests += 1;
        let keep_alive = request.keep_alive();
        let mut body = match Body::on_socket(stream, &mut buf, &request, shared.config.head_timeout) {
            Ok(body) => body,
            Err(mut refused) => {
                let _ = refused.write_to(stream, request.method == "HEAD", false);
                return AfterHttp::Closed(Ending::Refused { requests, status: refused.status });
            }
        };
        let route = routes::route(&request, peer.ip(), &mut body, shared);
        // A body that no route read is still on the wire: the next request cannot be found.
        let in_step = body.is_taken();
        match route {
            Route::Respond(mut response) => {
                if let Err(error) = response.write_to(stream, request.method == "HEAD", keep_alive && in_step) {
                    // A client that left, or stopped reading a long answer (the write timeout).
                    return AfterHttp::Closed(Ending::HttpFailed { requests, error });
                }
                if !keep_alive || !in_step || response.close {
                    if !in_step {
                        linger(stream);
                    }
                    return AfterHttp::Closed(Ending::Http { requests });
                }
            }
            Route::WebSocket(endpoint) => match handshake::validate(&request, &[JSON_SUBPROTOCOL]) {
                Ok(upgrade) => {
                    if let Err(e) = { stream }.write_all(&upgrade.response_bytes()) {
                        return AfterHttp::Closed(Ending::UpgradeNotSent(e));
                    }
                    // A member's writes set their own time limits (`chat::member`).
                    if let Err(e) = stream.set_write_timeout(None) {
                        return AfterHttp::Closed(Ending::NotStarted(e));
                    }
                    let leftover = std::mem::take(&mut buf);
                    let dialect = Dialect::of_subprotocol(upgrade.protocol);
                    return AfterHttp::Upgraded { leftover, endpoint, dialect };
                }
                Err(mut response) => {
                    if response.write_to(stream, false, keep_alive).is_err() || !keep_alive || response.close {
                        return AfterHttp::Closed(Ending::Refused { requests, status: response.status });
                    }
                }
            },
        }
    }
}

/// How long [`linger`] keeps reading a refused body.
const LINGER: Duration = Duration::from_secs(2);

/// After an answer that left a request's body unread (an upload refused from its head), reads
/// and drops what the client still sends, for [`LINGER`] at most, before the connection closes:
/// closing a socket with unread bytes in it sends a reset, which can destroy the answer before
/// the client has read it (RFC 9112 §9.6). The client, having read the answer, usually stops
/// sending and closes first.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    // On the heap: the connection's stack is small.
    let mut sink = vec![0u8; 16 * 1024];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match (&*stream).read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The answer to a request head that could not be read: the status says what was wrong with it.
fn head_refusal(error: &HeadError, max_head: usize) -> Response {
    match error {
        HeadError::TooLarge => {
            Response::text(431, format!("Request head too large (limit {max_head} bytes, 64 header lines)."))
        }
        HeadError::Timeout => Response::text(408, "Request head not received in time."),
        HeadError::BadVersion => Response::text(505, "Only HTTP/1.0 and HTTP/1.1 are spoken here."),
        HeadError::Malformed(why) => Response::text(400, format!("Malformed request: {why}.")),
        // Not reached: these close the connection without an answer (see `serve_http`).
        HeadError::Idle | HeadError::Io(_) => Response::text(400, "Malformed request.").closing(),
    }
}
