//! Every setting of the server: its flag, its `CHATROOM_*` environment variable, its default.
//!
//! Each flag is declared once, as one row below: the field of [`Config`] with its type and doc
//! comment, the flag and its value name, the default as a typed Rust value, how the text is
//! parsed (a kind, from `kinds.rs`) and the help line. The `flags!` macro (`flag.rs`, where a
//! comment shows one row and what it becomes) writes from these rows the struct, its `Default`
//! and the table that `--help`, the environment and the command line are read with. `--help`
//! shows each default through the kind that parses it, so nothing about a flag is typed twice.
//!
//! Every flag can also be given through its environment variable (the flag wins when both are
//! set), which is what a systemd unit or a container wants. The command line is split into flags
//! by `lexopt`, which is tiny and has no opinions.

mod flag;
mod kinds;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::log::Format;
use kinds::{origin, Address, Bool, CheckedText, Choice, FilePath, List, Number, Seconds, Text};

flag::flags! {
    /// The running server's settings. Built by [`Config::from_args`] (the binary) or by hand
    /// (tests). Each field is one flag; its doc comment says what it is for, `--help` how to set it.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Config {
        /// Address to listen on. An IP address and a port, never a host name: the server must not
        /// need DNS (a LAN without internet has none that works).
        pub bind: SocketAddr {
            flag: "--bind IP:PORT",
            default: SocketAddr::from(([0, 0, 0, 0], 8080)),
            parse: Address,
            help: "address to listen on: a numeric IP address and a port",
        },
        /// Serve `/echo`, a WebSocket that echoes every message, for the Autobahn conformance suite.
        pub echo: bool {
            flag: "--echo",
            default: false,
            parse: Bool,
            help: "also serve /echo, a WebSocket echo endpoint (for Autobahn)",
        },
        /// Largest WebSocket frame and message accepted, in bytes; larger ones are closed with 1009.
        pub max_message: usize {
            flag: "--max-message BYTES",
            default: 64 * 1024,
            parse: Number(1, usize::MAX),
            help: "largest WebSocket frame/message accepted; larger ones close with 1009",
        },
        /// Longest chat message, in characters (a notice above it).
        pub max_text: usize {
            flag: "--max-text CHARS",
            default: 2000,
            parse: Number(1, 1_000_000),
            help: "longest chat message; longer ones get a notice",
        },
        /// Longest name, in characters.
        pub max_name: usize {
            flag: "--max-name CHARS",
            default: 32,
            parse: Number(8, 256),
            help: "longest name a member may take",
        },
        /// Largest HTTP request head, in bytes (431 above it).
        pub max_head: usize {
            flag: "--max-head BYTES",
            default: 16 * 1024,
            parse: Number(1024, 1 << 20),
            help: "largest HTTP request head; larger ones get 431",
        },
        /// `SO_SNDBUF` of each WebSocket: the kernel buffer that is each member's outbox.
        pub send_buffer: usize {
            flag: "--send-buffer BYTES",
            default: 64 * 1024,
            parse: Number(4096, 64 << 20),
            help: "kernel send buffer per WebSocket (SO_SNDBUF): the member's outbox",
        },
        /// `TCP_NODELAY` on members' sockets. On (the default), every relay write leaves as its own
        /// packet at once. Off, the kernel (Nagle's algorithm) holds small writes while earlier data
        /// is unacknowledged and sends them together: fewer packets, so less CPU per delivery in a
        /// flood, at the price of tens of milliseconds now and then.
        pub tcp_nodelay: bool {
            flag: "--tcp-nodelay BOOL",
            default: true,
            parse: Bool,
            help: "true: each relay leaves at once; false: the kernel batches small writes",
        },
        /// A WebSocket silent for longer than this is closed.
        pub idle_timeout: Duration {
            flag: "--idle-timeout SECS",
            default: Duration::from_secs(75),
            parse: Seconds(1, 86_400),
            help: "close a WebSocket silent for this long",
        },
        /// How often the server sends a WebSocket Ping to a silent member.
        pub ping_interval: Duration {
            flag: "--ping-interval SECS",
            default: Duration::from_secs(30),
            parse: Seconds(1, 86_400),
            help: "send a WebSocket Ping after this much silence",
        },
        /// Time allowed for a request head to arrive, from its first byte (the slowloris defence),
        /// and for a client to take each write of an answer (one that stops reading an export).
        pub head_timeout: Duration {
            flag: "--head-timeout SECS",
            default: Duration::from_secs(10),
            parse: Seconds(1, 3600),
            help: "time for a request head (slower: 408) and for each write of an answer",
        },
        /// Messages kept in memory per room and replayed on join.
        pub history: usize {
            flag: "--history N",
            default: 100,
            parse: Number(0, 100_000),
            help: "messages per room kept in memory and replayed on join",
        },
        /// Where the room logs live.
        pub data_dir: PathBuf {
            flag: "--data-dir DIR",
            default: PathBuf::from("./chatroom-data"),
            parse: FilePath,
            help: "where each room's append-only log (ROOM.jsonl) lives",
        },
        /// No disk at all: history only in memory (`--data-dir` is then ignored).
        pub memory: bool {
            flag: "--memory",
            default: false,
            parse: Bool,
            help: "keep history in memory only: no disk, nothing survives a restart",
        },
        /// When the room logs are forced to the disk (`--fsync`).
        pub fsync: FsyncPolicy {
            flag: "--fsync POLICY",
            default: FsyncPolicy::Interval,
            parse: Choice(&[
                ("always", FsyncPolicy::Always),
                ("interval", FsyncPolicy::Interval),
                ("never", FsyncPolicy::Never),
            ]),
            help: "flush logs to disk: always (each message), interval (each second), never",
        },
        /// Rooms in memory at most: a room nobody is in is put away after a minute (its log
        /// closed, its memory freed) and comes back from its log on demand; past this many, a
        /// new room waits until one can be put away.
        pub max_rooms: usize {
            flag: "--max-rooms N",
            default: 500,
            parse: Number(1, 1_000_000),
            help: "rooms in memory at most; idle ones are put away (logs reload them)",
        },
        /// Open connections at most, in total (0 = no cap).
        pub max_connections: usize {
            flag: "--max-connections N",
            default: 4096,
            parse: Number(0, 10_000_000),
            help: "open connections at most; beyond, 503 with Retry-After (0 = no cap)",
        },
        /// Open connections at most from one IP address, loopback included (0 = no cap).
        pub max_per_ip: usize {
            flag: "--max-per-ip N",
            default: 64,
            parse: Number(0, 10_000_000),
            help: "open connections at most per IP address, loopback too (0 = no cap)",
        },
        /// Frames per second a member may send on average (0 = no limit).
        pub rate_limit: u32 {
            flag: "--rate-limit N",
            default: 5,
            parse: Number(0, 1_000_000),
            help: "frames per second a member may send on average; excess dropped (0 = off)",
        },
        /// Frames a member may send at once before the rate applies.
        pub rate_burst: u32 {
            flag: "--rate-burst N",
            default: 20,
            parse: Number(1, 1_000_000),
            help: "frames a member may send at once before the rate applies",
        },
        /// Largest file a member may share, in bytes: a bigger upload gets 413, decided from its
        /// `Content-Length` before a byte of it is read.
        pub max_upload: u64 {
            flag: "--max-upload BYTES",
            default: 25 << 20,
            parse: Number(0, 1 << 40),
            help: "largest shared file (POST /r/ROOM/files); larger ones get 413",
        },
        /// What all shared files together may take on disk (`DATA_DIR/files/`), in bytes: an
        /// upload that would go past it gets 507. A file already stored costs nothing again.
        pub files_quota: u64 {
            flag: "--files-quota BYTES",
            default: 2 << 30,
            parse: Number(0, 1 << 50),
            help: "disk space for all shared files together; past it, uploads get 507",
        },
        /// Uploads one IP address may start in 10 minutes (0 = no limit); more get 429 with
        /// `Retry-After`.
        pub upload_rate: u32 {
            flag: "--upload-rate N",
            default: 20,
            parse: Number(0, 1_000_000),
            help: "uploads per IP address per 10 minutes; more get 429 (0 = no limit)",
        },
        /// Origins, besides the server's own, whose pages may open a WebSocket (`--allow-origin`).
        pub allow_origins: Vec<String> {
            flag: "--allow-origin ORIGIN",
            default: Vec::new(),
            parse: List(origin),
            help: "also accept WebSockets from pages of ORIGIN (repeatable, comma-separated)",
        },
        /// Host names, besides `localhost` and this server's addresses, that a request may name in
        /// `Host` (`--allow-host`): a reverse proxy's public name, a LAN name. Others get 421.
        pub allow_hosts: Vec<String> {
            flag: "--allow-host NAME",
            default: Vec::new(),
            parse: List(host_name),
            help: "also answer requests for host NAME (repeatable, comma-separated)",
        },
        /// If set, nothing but a small form is served until this code is given.
        pub access_code: Option<String> {
            flag: "--access-code CODE",
            default: None,
            parse: Text,
            help: "serve nothing but a small form until this code is given (once per browser)",
        },
        /// The host's key (`/host?key=KEY`, or `Authorization: Bearer KEY` on a WebSocket upgrade):
        /// whoever presents it may moderate every room. Random at each start when not given.
        pub host_key: Option<String> {
            flag: "--host-key KEY",
            default: None,
            parse: CheckedText(host_key),
            help: "the host's key (16-128 of A-Za-z0-9-_); random at each start if not given",
        },
        /// How log lines look on stderr.
        pub log_format: Format {
            flag: "--log-format FORMAT",
            default: Format::Text,
            parse: Choice(&[("text", Format::Text), ("json", Format::Json)]),
            help: "log lines on stderr as text or json",
        },
        /// Print a QR code of the first LAN URL at start.
        pub qr: bool {
            flag: "--qr",
            default: false,
            parse: Bool,
            help: "print a QR code of the LAN URL at start, for phones",
        },
    }
}

/// One item of `--allow-host`: a host name (or an IP address, IPv6 in brackets) as a browser sends
/// it in `Host`, with no scheme and no port (any port is accepted). Lower-cased, a trailing dot
/// dropped, as `http::host` reads the header.
fn host_name(text: &str) -> Result<String, String> {
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    let ipv6 =
        name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).is_some_and(|ip| ip.parse::<Ipv6Addr>().is_ok());
    let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if ipv6 || plain {
        Ok(name)
    } else {
        Err(format!("{text:?} is not a host name like chat.example.org (no scheme, no port)"))
    }
}

/// A host key given with `--host-key`: 16 to 128 characters of letters, digits, `-` and `_`, so
/// that it fits a URL's query and an `Authorization` header unescaped, and is long enough not to
/// be guessed (wrong keys are also slowed down, like access codes).
fn host_key(text: &str) -> Result<String, String> {
    let fits =
        (16..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fits {
        Ok(text.to_string())
    } else {
        Err("a host key is 16 to 128 letters, digits, '-' or '_' (leave it out for a random one)".to_string())
    }
}

/// When the log is flushed to the disk itself (`--fsync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every message: nothing is lost even on power failure, at a cost per message.
    Always,
    /// Once a second, from a background thread: a power cut loses at most about a second.
    Interval,
    /// Never explicitly: the kernel writes back when it likes (typically within 30 s).
    Never,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Run the server with this configuration.
    Serve(Box<Config>),
    /// Print this text to stdout and exit 0 (`--help`, `--version`).
    Print(String),
}

impl Config {
    /// The data directory, unless `--memory`.
    pub fn storage_dir(&self) -> Option<&std::path::Path> {
        (!self.memory).then_some(self.data_dir.as_path())
    }

    /// Reads the environment (`CHATROOM_*`) and then the arguments (which win).
    /// `args` excludes the program name. Errors are one line, fit for stderr, and mean exit 2.
    pub fn from_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
        Self::from_env_and_args(|var| std::env::var_os(var), args)
    }

    /// [`Config::from_args`] with the environment as a function, so that tests can give one
    /// without changing the process's own (which every test thread shares).
    fn from_env_and_args(
        env: impl Fn(&str) -> Option<OsString>,
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<Command, String> {
        let mut config = Config::default();
        // Environment first, so that flags override it.
        for flag in FLAGS {
            let var = flag.env_var();
            if let Some(value) = env(&var) {
                let value = value.into_string().map_err(|_| format!("{var}: not valid UTF-8"))?;
                (flag.set)(&mut config, &value).map_err(|e| format!("{var}: {e}"))?;
            }
        }

        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                lexopt::Arg::Long("help") | lexopt::Arg::Short('h') => return Ok(Command::Print(help())),
                lexopt::Arg::Long("version") | lexopt::Arg::Short('V') => {
                    return Ok(Command::Print(format!("chatroom {}\n", env!("CARGO_PKG_VERSION"))))
                }
                lexopt::Arg::Long(name) => {
                    let name = name.to_string();
                    let flag = FLAGS
                        .iter()
                        .find(|f| f.name() == name)
                        .ok_or_else(|| format!("unknown flag --{name} (see --help)"))?;
                    let value = if flag.is_switch() {
                        // `--echo` alone, or `--echo=false` to override the environment.
                        parser.optional_value().unwrap_or_else(|| "true".into())
                    } else {
                        parser.value().map_err(|e| e.to_string())?
                    };
                    let value = value.into_string().map_err(|_| format!("--{name}: not valid UTF-8"))?;
                    (flag.set)(&mut config, &value).map_err(|e| format!("--{name}: {e}"))?;
                }
                other => return Err(other.unexpected().to_string()),
            }
        }
        Ok(Command::Serve(Box::new(config)))
    }
}

/// The `--help` text: how to run the binary, then every flag (the part the README shows).
pub fn help() -> String {
    format!(
        "chatroom {}: a LAN chat server in one binary\n\n\
         USAGE:\n    \
         chatroom [FLAGS]\n    \
         chatroom join URL ...   the terminal client (see chatroom join --help)\n    \
         chatroom compact ...    fold edits and deletes into the logs (see chatroom compact --help)\n\n{}",
        env!("CARGO_PKG_VERSION"),
        flag_table()
    )
}

/// The part of `--help` from the line `FLAGS` on, made from `FLAGS`: per flag, its usage and help
/// line, then under the help its environment variable and its default, if it has one. The README
/// shows this text verbatim, and `tests/cli.rs` checks that it still does.
fn flag_table() -> String {
    // Not settings, so not rows: they print and exit, and have no variable.
    const COMMANDS: [(&str, &str); 2] =
        [("-h, --help", "print this help and exit"), ("-V, --version", "print the version and exit")];
    let width = FLAGS.iter().map(|f| f.usage.len()).chain(COMMANDS.iter().map(|(u, _)| u.len())).max().unwrap_or(0);
    let defaults = Config::default();
    let mut out = String::from("FLAGS (each can also be set by the environment variable shown; the flag wins):\n");
    for flag in FLAGS {
        out.push_str(&format!("  {:width$}  {}\n", flag.usage, flag.help));
        let default = (flag.show)(&defaults).map(|d| format!(" [default: {d}]")).unwrap_or_default();
        out.push_str(&format!("  {:width$}  [env: {}]{default}\n", "", flag.env_var()));
    }
    for (usage, help) in COMMANDS {
        out.push_str(&format!("  {usage:width$}  {help}\n"));
    }
    out
}
