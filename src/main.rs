//! The `chatroom` binary: flags and environment → [`Config`] → [`Server`]; or, with `join`, the
//! terminal client. Everything else is in the library; start reading at `src/lib.rs`.
//!
//! Exit codes: 0 after a normal stop (SIGINT, SIGTERM), 2 for bad flags, 1 when the server
//! could not start (the port is taken, the data directory cannot be written...).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::ExitCode;

use chatroom::config::{Command, Config};
use chatroom::{client, lan, log, shutdown, Server, StartError};

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "join") {
        args.remove(0);
        return client::main(args);
    }
    if args.first().is_some_and(|a| a == "compact") {
        args.remove(0);
        return chatroom::chat::history::compact::main(args);
    }
    let config = match Config::from_args(args) {
        Ok(Command::Serve(config)) => *config,
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chatroom: {e}");
            return ExitCode::from(2);
        }
    };
    log::set_format(config.log_format);
    match serve(config) {
        Ok(never) => match never {},
        Err(e) => {
            log::error(&e);
            ExitCode::from(1)
        }
    }
}

/// Starts the server and runs it for ever; returns only if it could not start.
fn serve(config: Config) -> Result<std::convert::Infallible, StartError> {
    let (qr, bind) = (config.qr, config.bind);
    let server = Server::bind(config)?;
    let addr = server.local_addr().map_err(|error| StartError::Listen { addr: bind, error })?;
    // The first line of stdout is the contract with scripts and tests: it carries the real port.
    println!("chatroom listening on http://{addr}");
    if addr.ip().is_unspecified() {
        println!("  on this machine: http://{}/", SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port()));
    }
    let urls = lan::peer_urls(addr);
    for url in &urls {
        println!("  on the LAN:      {url}");
    }
    // The host link: whoever opens it may moderate. On the LAN address when there is one (the
    // teacher may open it on another machine), else where the server listens.
    let base = urls.first().cloned().unwrap_or_else(|| {
        let ip = if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() };
        format!("http://{}/", SocketAddr::new(ip, addr.port()))
    });
    println!("  host:            {base}host?key={}", server.shared().host_key());
    if qr {
        match urls.first() {
            Some(url) => print!("{}", lan::qr_code(url)),
            None => println!("  (no LAN address to show as a QR code: bind to 0.0.0.0 or a LAN address)"),
        }
    }
    shutdown::on_signals(server.shared()).map_err(StartError::Signals)?;
    server.run()
}
