//! The command line: its help text and its flags, parsed into [`Options`].

use std::path::PathBuf;

use crate::server::Kind;

pub const USAGE: &str = "\
chatroom-bench: load generator for chatroom, measured against an axum/tokio baseline

USAGE:
    bench/run.sh [FLAGS]        (builds both release binaries, raises ulimit -n, runs this)

FLAGS:
    --scenarios LIST   comma-separated, from S1,S2,S3,SAT,C10K,STALL0,STALL50 [default: all],
                       and SEARCH (not in the default): a 100 MB room log searched against
                       grep -ci, and the server's RSS while it searches and exports it, and
                       S1FILES (S1 with 25 MiB uploads and downloads beside it; chatroom only)
    --search-mb N      SEARCH: the log's size in MB [default: 100]
    --runs N           runs of each scenario per server; figures are medians [default: 3]
    --quick            every scenario at most 3 s, and 1 run unless --runs is given
    --smoke            CI check: 300 clients, 2 senders x 20 msg/s, 3 s, 1 run, both servers;
                       exits 1 unless every delivery arrived exactly once; then SEARCH on a
                       4 MB log, once, exits 1 unless its answers are right
    --duration SECS    send phase of every scenario, e.g. 10 for the issue's full length
                       [default: per scenario, 3 to 10 s, to fit about 5 minutes]
    --window N         SAT: messages each sender may have in flight [default: 8]
    --servers LIST     which servers, from chatroom,baseline [default: both]
    --chatroom PATH    the chatroom binary to test, e.g. another build to compare
                       [default: target/release/chatroom]
    --out DIR          where results.md, latency.svg and server logs go [default: target/bench]
    --help             print this help
";

/// The command line.
pub struct Options {
    pub scenarios: Option<Vec<String>>,
    pub runs: Option<usize>,
    pub quick: bool,
    pub smoke: bool,
    pub servers: Vec<Kind>,
    pub window: Option<usize>,
    pub duration: Option<std::time::Duration>,
    pub chatroom: Option<PathBuf>,
    pub out: PathBuf,
    pub search_mb: u64,
}

pub fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        scenarios: None,
        runs: None,
        quick: false,
        smoke: false,
        servers: vec![Kind::Chatroom, Kind::Baseline],
        window: None,
        duration: None,
        chatroom: None,
        out: PathBuf::from("target/bench"),
        search_mb: 100,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next().cloned()).ok_or(format!("{flag} needs a value"));
        match flag {
            "--scenarios" => {
                options.scenarios = Some(value()?.split(',').map(|s| s.trim().to_ascii_uppercase()).collect())
            }
            "--runs" => {
                let v = value()?;
                let n: usize = v.parse().map_err(|_| format!("--runs: {v:?} is not a number"))?;
                if !(1..=20).contains(&n) {
                    return Err("--runs must be between 1 and 20".into());
                }
                options.runs = Some(n);
            }
            "--search-mb" => {
                let v = value()?;
                options.search_mb =
                    v.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or("--search-mb must be 1 to 10000")?;
            }
            "--quick" => options.quick = true,
            "--smoke" => options.smoke = true,
            "--servers" => {
                options.servers = value()?
                    .split(',')
                    .map(|name| match name.trim() {
                        "chatroom" => Ok(Kind::Chatroom),
                        "baseline" => Ok(Kind::Baseline),
                        other => Err(format!("unknown server {other:?} (chatroom or baseline)")),
                    })
                    .collect::<Result<_, _>>()?;
                if options.servers.is_empty() {
                    return Err("--servers needs at least one server".into());
                }
            }
            "--window" => {
                let v = value()?;
                let n: usize = v.parse().map_err(|_| format!("--window: {v:?} is not a number"))?;
                if !(1..=1000).contains(&n) {
                    return Err("--window must be between 1 and 1000".into());
                }
                options.window = Some(n);
            }
            "--duration" => {
                let v = value()?;
                let secs: u64 = v.parse().map_err(|_| format!("--duration: {v:?} is not a whole number of seconds"))?;
                if !(1..=120).contains(&secs) {
                    return Err("--duration must be between 1 and 120 seconds".into());
                }
                options.duration = Some(std::time::Duration::from_secs(secs));
            }
            "--chatroom" => options.chatroom = Some(PathBuf::from(value()?)),
            "--out" => options.out = PathBuf::from(value()?),
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}
