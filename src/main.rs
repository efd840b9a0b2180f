//! The `chatroom` binary: flags and environment → [`Config`] → [`Server`]; or, with `join`, the
//! terminal client. Everything else is in the library; start reading at `src/lib.rs`.

use std::ffi::OsString;
use std::process::ExitCode;

use chatroom::config::{Command, Config};
use chatroom::{client, lan, log, shutdown, Server};

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "join") {
        args.remove(0);
        return client::main(args);
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
    let qr = config.qr;
    let server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => {
            log::error(&e);
            return ExitCode::from(2);
        }
    };
    let addr = match server.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            log::error(e);
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
    let urls = lan::peer_urls(addr);
    for url in &urls {
        println!("  on the LAN:      {url}");
    }
    if qr {
        match urls.first() {
            Some(url) => print!("{}", lan::qr_code(url)),
            None => println!("  (no LAN address to show as a QR code: bind to 0.0.0.0 or a LAN address)"),
        }
    }
    if let Err(e) = shutdown::on_signals(server.shared()) {
        log::error(format_args!("cannot install signal handlers: {e}"));
        return ExitCode::from(2);
    }
    server.run()
}
