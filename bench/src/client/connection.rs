//! One client connection: opening it (with retries, and a small receive buffer when asked), its
//! reader, and a sender's pacing.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{sleep, sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::tally::{Bursty, Tally};
use super::{Sink, Ws, CONNECT_ATTEMPTS, CONNECT_TIMEOUT, READ_BUFFER};
use crate::token::{self, now_ns, SeenSeqs};

/// One connection, with retries (a full backlog or a slow accept can fail or delay a few), and
/// `SO_RCVBUF` set to `recv_buffer` before connecting when given.
pub(super) async fn open_with(addr: SocketAddr, recv_buffer: Option<u32>) -> Result<Ws, String> {
    let mut last = String::new();
    for attempt in 0..CONNECT_ATTEMPTS {
        if attempt > 0 {
            sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        match timeout(CONNECT_TIMEOUT, handshake(addr, recv_buffer)).await {
            Ok(Ok(ws)) => return Ok(ws),
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no handshake within {CONNECT_TIMEOUT:?}"),
        }
    }
    Err(last)
}

pub(super) async fn handshake(addr: SocketAddr, recv_buffer: Option<u32>) -> Result<Ws, String> {
    let tcp = match recv_buffer {
        None => TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?,
        // The receive buffer must be set before connecting: the window scale is agreed in the SYN.
        Some(size) => {
            let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }
                .map_err(|e| format!("socket: {e}"))?;
            socket.set_recv_buffer_size(size).map_err(|e| format!("SO_RCVBUF: {e}"))?;
            socket.connect(addr).await.map_err(|e| format!("connect: {e}"))?
        }
    };
    // Small frames must leave at once, not wait for Nagle.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER).write_buffer_size(0);
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(format!("ws://{addr}/connect"), tcp, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// A client's reader: counts every relayed frame until the connection ends or the run is over
/// (then the task is aborted). A `bursty` reader reads for `bursty.read`, then leaves the socket
/// alone for `bursty.pause`, and again.
pub(super) async fn receive(
    id: usize,
    mut stream: SplitStream<Ws>,
    tally: Rc<RefCell<Tally>>,
    senders: usize,
    bursty: Option<Bursty>,
) {
    let mut seen: Vec<SeenSeqs> = (0..senders).map(|_| SeenSeqs::default()).collect();
    let mut burst_ends = bursty.map(|b| Instant::now() + b.read);
    let ended = loop {
        let next = match (bursty, burst_ends) {
            (Some(b), Some(end)) => match timeout_at(end, stream.next()).await {
                Ok(next) => next,
                // `next` is cancel safe: a frame half read stays in the stream's buffer.
                Err(_) => {
                    sleep(b.pause).await;
                    burst_ends = Some(Instant::now() + b.read);
                    continue;
                }
            },
            _ => stream.next().await,
        };
        match next {
            Some(Ok(Message::Text(text))) => tally.borrow_mut().record(id, &mut seen, text.as_str(), now_ns()),
            Some(Ok(Message::Close(frame))) => break format!("close frame {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => break e.to_string(),
            None => break "connection ended".to_string(),
        }
    };
    let mut tally = tally.borrow_mut();
    if !tally.closing {
        tally.open[id] = false;
        if bursty.is_some() {
            tally.bursty_dropped = Some(ended);
        } else {
            tally.disconnected += 1;
            tally.first_disconnect.get_or_insert_with(|| format!("client {id}: {ended}"));
        }
    }
}

/// What one sender does.
pub(super) enum Plan {
    /// Message `seq` at `start + offset + seq × period`, `count` of them.
    Rate { period: Duration, offset: Duration, count: u64 },
    /// Until `start + duration`, one message per window permit.
    Window(Rc<Semaphore>),
}

/// Who a sender is, and how big its chat texts are.
pub(super) struct Id {
    pub(super) sender: usize,
    pub(super) nonce: u32,
    /// Pad each token to this many bytes (0: not padded).
    pub(super) text_bytes: usize,
}

impl Id {
    fn frame(&self, seq: u64) -> Message {
        let text = token::measured_padded(self.nonce, self.sender, seq, now_ns(), self.text_bytes);
        Message::text(token::message_json(&text))
    }
}

/// A sender. Gives up two seconds past its duration if it cannot keep its rate (the load
/// generator is overloaded), so a run always ends.
pub(super) async fn send(id: Id, mut sink: Sink, plan: Plan, start: Instant, duration: Duration) -> u64 {
    let end = start + duration;
    let mut sent = 0;
    match plan {
        Plan::Rate { period, offset, count } => {
            let give_up = end + Duration::from_secs(2);
            for seq in 0..count {
                sleep_until(start + offset + period * seq as u32).await;
                if Instant::now() > give_up {
                    break;
                }
                if sink.send(id.frame(seq)).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
        Plan::Window(window) => {
            sleep_until(start).await;
            while Instant::now() < end {
                match timeout_at(end, window.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    _ => break,
                }
                if sink.send(id.frame(sent)).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    // Dropping the write half leaves the connection open: the reader holds the other half.
    sent
}
