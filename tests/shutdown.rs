//! Stopping the server: every WebSocket sees 1012, and the process exits 0 within 2 seconds.

mod support;

use std::time::{Duration, Instant};

use support::{Client, TestServer};
use tungstenite::protocol::frame::coding::CloseCode;

fn shutdown_with(signal: i32) {
    let mut server = TestServer::start(&["--echo"]);
    let mut clients: Vec<Client> = (0..3).map(|_| Client::join(&server.ws_url("/connect")).0).collect();
    clients.push(Client::connect(&server.ws_url("/echo")));
    // Make sure every member is fully in before the signal.
    clients[0].say("ready");
    for client in &mut clients[..3] {
        client.recv_containing("ready");
    }
    let started = Instant::now();
    server.signal(signal);
    for client in &mut clients {
        let close = client.expect_close();
        assert_eq!(close.code, CloseCode::Restart);
    }
    let status = server.wait_exit(Duration::from_secs(2)).expect("exited within 2 s");
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn sigterm_closes_everyone_with_1012_and_exits_0() {
    shutdown_with(libc::SIGTERM);
}

#[test]
fn sigint_does_the_same() {
    shutdown_with(libc::SIGINT);
}
