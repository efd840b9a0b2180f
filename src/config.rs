//! Every setting of the server: its flag, its `CHATROOM_*` environment variable, its default.
//!
//! The table `FLAGS` is the single source of truth: `--help` is printed from it, and every flag
//! can also be given through the environment (the flag wins when both are set), which is what a
//! systemd unit or a container wants. Parsing uses `lexopt`, which is tiny and has no opinions.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::chat::history::FsyncPolicy;

/// The running server's settings. Built by [`Config::from_args`] (the binary) or by hand (tests).
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on. An IP address and a port, never a host name: the server must not
    /// need DNS (a LAN without internet has none that works).
    pub bind: SocketAddr,
    /// Serve `/echo`, a WebSocket that echoes every message, for the Autobahn conformance suite.
    pub echo: bool,
    /// Largest WebSocket frame and message accepted, in bytes; larger ones are closed with 1009.
    pub max_message: usize,
    /// Longest chat message, in characters (a notice above it).
    pub max_text: usize,
    /// Longest name, in characters.
    pub max_name: usize,
    /// Largest HTTP request head, in bytes (431 above it).
    pub max_head: usize,
    /// `SO_SNDBUF` of each WebSocket: the kernel buffer that is each member's outbox.
    pub send_buffer: usize,
    /// `TCP_NODELAY` on members' sockets. On (the default), every relay write leaves as its own
    /// packet at once. Off, the kernel (Nagle's algorithm) holds small writes while earlier data
    /// is unacknowledged and sends them together: fewer packets, so less CPU per delivery in a
    /// flood, at the price of tens of milliseconds now and then.
    pub tcp_nodelay: bool,
    /// How long one relay write may block on a member whose send buffer is full.
    pub relay_timeout: Duration,
    /// A WebSocket silent for longer than this is closed.
    pub idle_timeout: Duration,
    /// How often the server sends a WebSocket Ping to a silent member.
    pub ping_interval: Duration,
    /// Time allowed for a request head to arrive, from its first byte (the slowloris defence).
    pub head_timeout: Duration,
    /// Messages kept in memory per room and replayed on join.
    pub history: usize,
    /// Where the room logs live.
    pub data_dir: PathBuf,
    /// No disk at all: history only in memory (`--data-dir` is then ignored).
    pub memory: bool,
    /// When the room logs are forced to the disk (`--fsync`).
    pub fsync: FsyncPolicy,
    /// Open connections at most, in total (0 = no cap).
    pub max_connections: usize,
    /// Open connections at most from one IP address, loopback included (0 = no cap).
    pub max_per_ip: usize,
    /// Frames per second a member may send on average (0 = no limit).
    pub rate_limit: u32,
    /// Frames a member may send at once before the rate applies.
    pub rate_burst: u32,
    /// Origins, besides the server's own, whose pages may open a WebSocket (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// If set, nothing but a small form is served until this code is given.
    pub access_code: Option<String>,
    /// How log lines look on stderr.
    pub log_format: crate::log::Format,
    /// Print a QR code of the first LAN URL at start.
    pub qr: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([0, 0, 0, 0], 8080)),
            echo: false,
            max_message: 64 * 1024,
            max_text: 2000,
            max_name: crate::chat::names::MAX_NAME_CHARS,
            max_head: 16 * 1024,
            send_buffer: 64 * 1024,
            relay_timeout: Duration::from_millis(50),
            tcp_nodelay: true,
            idle_timeout: Duration::from_secs(75),
            ping_interval: Duration::from_secs(30),
            head_timeout: Duration::from_secs(10),
            history: 100,
            data_dir: PathBuf::from("./chatroom-data"),
            memory: false,
            fsync: FsyncPolicy::Interval,
            max_connections: 4096,
            max_per_ip: 64,
            rate_limit: 5,
            rate_burst: 20,
            allow_origins: Vec::new(),
            access_code: None,
            log_format: crate::log::Format::Text,
            qr: false,
        }
    }
}

/// One row of the flag table: `--name`, its value's name (empty for a switch), its help line.
struct Flag {
    name: &'static str,
    value: &'static str,
    help: &'static str,
}

/// Every flag, in `--help` order. The env var of `--max-message` is `CHATROOM_MAX_MESSAGE`.
const FLAGS: &[Flag] = &[
    Flag { name: "bind", value: "IP:PORT", help: "address to listen on [default: 0.0.0.0:8080]" },
    Flag { name: "echo", value: "", help: "also serve /echo, a WebSocket echo endpoint (for Autobahn)" },
    Flag {
        name: "max-message",
        value: "BYTES",
        help: "largest WebSocket frame/message accepted; larger ones close with 1009 [default: 65536]",
    },
    Flag { name: "max-text", value: "CHARS", help: "longest chat message; longer ones get a notice [default: 2000]" },
    Flag { name: "max-name", value: "CHARS", help: "longest name a member may take [default: 32]" },
    Flag { name: "max-head", value: "BYTES", help: "largest HTTP request head; larger ones get 431 [default: 16384]" },
    Flag {
        name: "send-buffer",
        value: "BYTES",
        help: "kernel send buffer per WebSocket (SO_SNDBUF), the member's outbox [default: 65536]",
    },
    Flag {
        name: "tcp-nodelay",
        value: "BOOL",
        help: "send each relay at once (true) or let the kernel batch small writes (false) [default: true]",
    },
    Flag {
        name: "relay-timeout-ms",
        value: "MS",
        help: "how long a relay may wait on a member that stopped reading before dropping it [default: 50]",
    },
    Flag { name: "idle-timeout", value: "SECS", help: "close a WebSocket silent for this long [default: 75]" },
    Flag { name: "ping-interval", value: "SECS", help: "send a WebSocket Ping after this much silence [default: 30]" },
    Flag {
        name: "head-timeout",
        value: "SECS",
        help: "time for a request head to arrive; slower ones get 408 [default: 10]",
    },
    Flag { name: "history", value: "N", help: "messages per room kept in memory and replayed on join [default: 100]" },
    Flag {
        name: "data-dir",
        value: "DIR",
        help: "where each room's append-only log (ROOM.jsonl) lives [default: ./chatroom-data]",
    },
    Flag {
        name: "fsync",
        value: "POLICY",
        help: "flush logs to disk: always (each message), interval (every second), never [default: interval]",
    },
    Flag {
        name: "max-connections",
        value: "N",
        help: "open connections at most; beyond, 503 with Retry-After (0 = no cap) [default: 4096]",
    },
    Flag {
        name: "max-per-ip",
        value: "N",
        help: "open connections at most per IP address, loopback too (0 = no cap) [default: 64]",
    },
    Flag {
        name: "rate-limit",
        value: "N",
        help: "frames per second a member may send on average; excess dropped (0 = off) [default: 5]",
    },
    Flag { name: "rate-burst", value: "N", help: "frames a member may send at once [default: 20]" },
    Flag {
        name: "allow-origin",
        value: "ORIGIN",
        help: "also accept WebSockets from pages of this origin, e.g. https://chat.example.org (repeatable)",
    },
    Flag {
        name: "access-code",
        value: "CODE",
        help: "require this code (once per browser) before anything but a small form is served",
    },
    Flag { name: "log-format", value: "FORMAT", help: "log lines on stderr as text or json [default: text]" },
    Flag { name: "qr", value: "", help: "print a QR code of the LAN URL at start, for phones" },
    Flag { name: "memory", value: "", help: "keep history in memory only: no disk at all, nothing survives a restart" },
    Flag { name: "help", value: "", help: "print this help and exit" },
    Flag { name: "version", value: "", help: "print the version and exit" },
];

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
        let mut config = Config::default();
        // Environment first, so that flags override it.
        for flag in FLAGS {
            if matches!(flag.name, "help" | "version") {
                continue;
            }
            let var = env_var_name(flag.name);
            if let Some(value) = std::env::var_os(&var) {
                let value = value.into_string().map_err(|_| format!("{var}: not valid UTF-8"))?;
                config.set(flag.name, &value).map_err(|e| format!("{var}: {e}"))?;
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
                        .find(|f| f.name == name)
                        .ok_or_else(|| format!("unknown flag --{name} (see --help)"))?;
                    let value = if flag.value.is_empty() {
                        // A switch: `--echo`, or `--echo=false` to override the environment.
                        match parser.optional_value() {
                            Some(v) => v.into_string().map_err(|_| format!("--{name}: not valid UTF-8"))?,
                            None => "true".to_string(),
                        }
                    } else {
                        parser
                            .value()
                            .map_err(|e| e.to_string())?
                            .into_string()
                            .map_err(|_| format!("--{name}: not valid UTF-8"))?
                    };
                    config.set(flag.name, &value).map_err(|e| format!("--{name}: {e}"))?;
                }
                other => return Err(other.unexpected().to_string()),
            }
        }
        Ok(Command::Serve(Box::new(config)))
    }

    /// Sets one setting from its textual value (from a flag or an env var).
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "bind" => {
                self.bind = value.parse().map_err(|_| {
                    format!("{value:?} is not IP:PORT (a numeric address, e.g. 0.0.0.0:8080 or [::]:8080)")
                })?
            }
            "echo" => self.echo = parse_bool(value)?,
            "tcp-nodelay" => self.tcp_nodelay = parse_bool(value)?,
            "max-message" => self.max_message = parse_number(value, 1, usize::MAX)?,
            "max-text" => self.max_text = parse_number(value, 1, 1_000_000)?,
            "max-name" => self.max_name = parse_number(value, 8, 256)?,
            "max-head" => self.max_head = parse_number(value, 1024, 1 << 20)?,
            "send-buffer" => self.send_buffer = parse_number(value, 4096, 64 << 20)?,
            "relay-timeout-ms" => self.relay_timeout = Duration::from_millis(parse_number(value, 1, 60_000)? as u64),
            "idle-timeout" => self.idle_timeout = Duration::from_secs(parse_number(value, 1, 86_400)? as u64),
            "ping-interval" => self.ping_interval = Duration::from_secs(parse_number(value, 1, 86_400)? as u64),
            "head-timeout" => self.head_timeout = Duration::from_secs(parse_number(value, 1, 3600)? as u64),
            "history" => self.history = parse_number(value, 0, 100_000)?,
            "data-dir" => {
                if value.is_empty() {
                    return Err("empty path".into());
                }
                self.data_dir = PathBuf::from(value);
            }
            "fsync" => {
                self.fsync = match value.trim() {
                    "always" => FsyncPolicy::Always,
                    "interval" => FsyncPolicy::Interval,
                    "never" => FsyncPolicy::Never,
                    other => return Err(format!("{other:?} is not always, interval or never")),
                }
            }
            "memory" => self.memory = parse_bool(value)?,
            "max-connections" => self.max_connections = parse_number(value, 0, 10_000_000)?,
            "max-per-ip" => self.max_per_ip = parse_number(value, 0, 10_000_000)?,
            "rate-limit" => self.rate_limit = parse_number(value, 0, 1_000_000)? as u32,
            "rate-burst" => self.rate_burst = parse_number(value, 1, 1_000_000)? as u32,
            "allow-origin" => {
                // Repeatable; the env var takes a comma-separated list.
                for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    if !(origin.starts_with("http://") || origin.starts_with("https://")) || origin.ends_with('/') {
                        return Err(format!("{origin:?} is not an origin like https://chat.example.org"));
                    }
                    self.allow_origins.push(origin.to_ascii_lowercase());
                }
            }
            "log-format" => {
                self.log_format = match value.trim() {
                    "text" => crate::log::Format::Text,
                    "json" => crate::log::Format::Json,
                    other => return Err(format!("{other:?} is not text or json")),
                }
            }
            "qr" => self.qr = parse_bool(value)?,
            "access-code" => {
                if value.trim().is_empty() {
                    return Err("the access code cannot be empty".into());
                }
                self.access_code = Some(value.trim().to_string());
            }
            _ => unreachable!("flag {name} is in FLAGS but not handled"),
        }
        Ok(())
    }
}

/// `--max-message` → `CHATROOM_MAX_MESSAGE`.
fn env_var_name(flag: &str) -> String {
    format!("CHATROOM_{}", flag.replace('-', "_").to_ascii_uppercase())
}

fn parse_number(value: &str, min: usize, max: usize) -> Result<usize, String> {
    let n: usize = value.trim().parse().map_err(|_| format!("{value:?} is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{n} is out of range ({min}..={max})"));
    }
    Ok(n)
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(format!("{value:?} is not a boolean (true/false)")),
    }
}

/// The `--help` text, made from `FLAGS`.
pub fn help() -> String {
    let mut out = format!(
        "chatroom {}: a LAN chat server in one binary\n\nUSAGE:\n    chatroom [FLAGS]\n\nFLAGS (each also read from the env var shown):\n",
        env!("CARGO_PKG_VERSION")
    );
    for flag in FLAGS {
        let left =
            if flag.value.is_empty() { format!("--{}", flag.name) } else { format!("--{} {}", flag.name, flag.value) };
        out.push_str(&format!("    {left:<28} {}\n", flag.help));
        if !matches!(flag.name, "help" | "version") {
            out.push_str(&format!("    {:<28} env: {}\n", "", env_var_name(flag.name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        match Config::from_args(args.iter().map(OsString::from))? {
            Command::Serve(c) => Ok(*c),
            Command::Print(_) => Err("printed".into()),
        }
    }

    #[test]
    fn defaults_and_flags() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(c.max_message, 65536);
        let c = parse(&["--bind", "127.0.0.1:0", "--echo", "--max-message=100"]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:0");
        assert!(c.echo);
        assert_eq!(c.max_message, 100);
    }

    #[test]
    fn rejects_host_names_and_junk() {
        assert!(parse(&["--bind", "localhost:8080"]).unwrap_err().contains("not IP:PORT"));
        assert!(parse(&["--max-message", "lots"]).unwrap_err().contains("whole number"));
        assert!(parse(&["--nope"]).unwrap_err().contains("unknown flag"));
        assert!(parse(&["stray"]).is_err());
    }

    #[test]
    fn help_lists_every_flag_and_env_var() {
        let text = help();
        for flag in FLAGS {
            assert!(text.contains(&format!("--{}", flag.name)));
        }
        assert!(text.contains("CHATROOM_SEND_BUFFER"));
    }
}
