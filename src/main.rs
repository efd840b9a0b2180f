//! The `chatroom` binary: flags and environment → [`Config`] → [`Server`]. Everything else is in
//! the library; start reading at `src/lib.rs`.

use std::process::ExitCode;

use chatroom::config::{Command, Config};
use chatroom::{lan, shutdown, Server};

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args_os().skip(1)) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chatroom: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("chatroom: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = match server.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("chatroom: {e}");
            return ExitCode::from(2);
        }
    };
    // The first line of stdout is the contract with scripts and tests: it carries the real port.
    println!("chatroom listening on http://{addr}");
    if addr.ip().is_unspecified() {
        println!(
            "  on this machine: http://{}/",
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        );
    }
    for url in lan::peer_urls(addr) {
        println!("  on the LAN:      {url}");
    }
    if let Err(e) = shutdown::on_signals(server.shared()) {
        eprintln!("chatroom: cannot install signal handlers: {e}");
        return ExitCode::from(2);
    }
    server.run()
}
