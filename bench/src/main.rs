//! `chatroom-bench`: the load generator. It starts chatroom and the axum baseline (`baseline`, in
//! this package) one after the other, drives the same scenarios against both, and reports every
//! figure for both with their ratio, as a Markdown table and an SVG latency chart.
//!
//! Modules, in the order a run uses them:
//! - [`cli`]: the help text and the flags;
//! - [`proc`]: the machine and `/proc` (CPU time, RSS, threads), the open-files limit, pinning;
//! - [`server`]: the server child (binary, lifted-limit flags, start, port, kill on every path);
//! - [`client`]: N WebSocket clients on one event loop, K of them sending, and the [`client::Tally`];
//! - [`token`]: the unique token in each message and finding it again in a relayed fragment;
//! - [`scenario`]: the scenarios (load shapes);
//! - [`mod@run`]: one measured run of one scenario against one server;
//! - [`report`] and [`svg`]: medians, ratios, the table and the chart;
//! - [`search`]: SEARCH, apart from the relay scenarios: a long room log searched and exported,
//!   against `grep -ci`.
//!
//! The load generator is one current-thread tokio runtime, pinned to its own CPU: one event loop
//! reads thousands of sockets without threads of its own competing with the server under test.

mod cli;
mod client;
mod proc;
mod report;
mod run;
mod scenario;
mod search;
mod server;
mod svg;
mod token;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use cli::{parse_args, Options, USAGE};
use report::{Header, Outcome, RunRecord};
use run::Env;
use scenario::Scenario;
use server::{Kind, Spec};

/// File descriptors the generator needs beyond one per client (stdio, the runtime, the pipes).
const SPARE_FDS: u64 = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chatroom-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options, &args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chatroom-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(mut options: Options, args: &[String]) -> Result<ExitCode, String> {
    let mut notes = Vec::new();
    // SEARCH is not a relay scenario: it runs on its own, after them (see `search`).
    let search = options.scenarios.as_mut().is_some_and(|names| {
        let before = names.len();
        names.retain(|name| name != "SEARCH");
        names.len() < before
    });
    let relays = !options.scenarios.as_ref().is_some_and(Vec::is_empty);

    // Pin first, before any thread exists, so that everything we start stays on our CPU.
    let cpus = proc::allowed_cpus();
    let taskset = Command::new("taskset").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    let server_cpu = if cpus.len() < 2 {
        notes.push(format!("pinning: none, only {} CPU available; server and load generator share it", cpus.len()));
        None
    } else if !matches!(taskset, Ok(s) if s.success()) {
        notes.push("pinning: none, `taskset` (util-linux) is not installed".into());
        None
    } else if let Err(e) = proc::pin_self(cpus[1]) {
        notes.push(format!("pinning: none, sched_setaffinity failed: {e}"));
        None
    } else {
        notes.push(format!(
            "pinning: server on CPU {} (`taskset -c {}`), load generator on CPU {} (sched_setaffinity)",
            cpus[0], cpus[0], cpus[1]
        ));
        Some(cpus[0])
    };

    let nofile = proc::raise_nofile_limit();
    server::kill_server_on_signals().map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let chatroom = match &options.chatroom {
        Some(path) if path.is_file() => path.clone(),
        Some(path) => return Err(format!("--chatroom: no file at {}", path.display())),
        None => server::find_binary("chatroom")?,
    };
    // Absolute: each server starts in a working directory of its own, where a relative path
    // (`--chatroom target/release/chatroom`) would name nothing.
    let absolute = |path: PathBuf| std::fs::canonicalize(&path).map_err(|e| format!("{}: {e}", path.display()));
    let chatroom = absolute(chatroom)?;
    let baseline = absolute(server::find_binary("baseline")?)?;
    notes.push(format!("chatroom binary: {}", chatroom.display()));
    let (lifted, absent) = server::lifted_limit_args(&chatroom)?;
    let mut limits = if lifted.is_empty() {
        "chatroom flags: none passed".to_string()
    } else {
        format!("chatroom started with `{}` (connection caps and rate limit lifted)", lifted.join(" "))
    };
    if !absent.is_empty() {
        limits
            .push_str(&format!("; not passed, this build's `--help` does not mention them: `{}`", absent.join("`, `")));
    }
    notes.push(limits);
    notes.push(format!(
        "open files: soft limit {nofile} for the generator and both servers (each needs one per client)"
    ));
    if !relays {
        return run_search(&options, &chatroom, server_cpu);
    }

    let (scenarios, runs, servers) = choose(&options)?;
    let specs: Vec<Spec> = servers
        .iter()
        .map(|&kind| match kind {
            Kind::Chatroom => Spec { kind, binary: chatroom.clone(), args: lifted.clone() },
            Kind::Baseline => Spec { kind, binary: baseline.clone(), args: Vec::new() },
        })
        .collect();

    for dir in ["logs", "work"] {
        let dir = options.out.join(dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    notes.push(format!("server logs: {}", options.out.join("logs").display()));
    let env = Env { server_cpu, out_dir: options.out.clone() };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    let mut outcomes = Vec::new();
    let started = std::time::Instant::now();
    for scenario in scenarios {
        let needed = scenario.layout().tracked() as u64 + scenario.stall.map_or(0, |s| s.stuck as u64) + SPARE_FDS;
        if nofile < needed {
            let why = format!(
                "needs {needed} open files but the limit is {nofile}: run it through bench/run.sh (which raises \
                 `ulimit -n`), or raise the hard limit (`ulimit -Hn`, /etc/security/limits.conf)"
            );
            eprintln!("chatroom-bench: {} skipped: {why}", scenario.name);
            outcomes.push(Outcome { scenario, runs: Vec::new(), skipped: Some(why) });
            continue;
        }
        let mut records = Vec::new();
        for run in 1..=runs {
            // Alternate the servers within each run, so slow drifts of the machine hit both alike.
            for spec in &specs {
                eprint!("chatroom-bench: {} {} run {run}/{runs}: ", scenario.name, spec.kind.name());
                let result = local.block_on(&runtime, run::run_once(&scenario, spec, run, &env));
                match &result {
                    Ok(r) => eprintln!(
                        "{:.1} s (connect {:.1}, probe {:.1}, drain {:.1}, teardown {:.1}): {} deliveries/s, lost {}, \
                         dup {}, p99 {:.0} µs, {:.3} µs CPU/delivery, {:.1} KiB/conn",
                        r.wall_s,
                        r.connect_s,
                        r.probe_s,
                        r.drain_s,
                        r.teardown_s,
                        r.deliveries_per_s as u64,
                        r.lost,
                        r.duplicated,
                        r.p99_us,
                        r.cpu_us_per_delivery,
                        r.rss_per_conn_kib
                    ),
                    Err(e) => eprintln!("FAILED: {e}"),
                }
                records.push(RunRecord { server: spec.kind, run, result });
            }
        }
        outcomes.push(Outcome { scenario, runs: records, skipped: None });
    }

    eprintln!("chatroom-bench: all runs took {:.0} s", started.elapsed().as_secs_f64());
    let header = Header {
        date: proc::utc_now(),
        nproc: proc::online_cpus(),
        cpu_model: proc::cpu_model(),
        kernel: proc::kernel(),
        command: std::iter::once("chatroom-bench").chain(args.iter().map(String::as_str)).collect::<Vec<_>>().join(" "),
        runs,
        notes,
    };
    let table = report::markdown(&header, &outcomes, &servers);
    println!("{table}");
    write_files(&options.out, &table, &outcomes, runs)?;

    let failed_runs = outcomes.iter().flat_map(|o| &o.runs).filter(|r| r.result.is_err()).count();
    if options.smoke {
        let bad: Vec<String> = outcomes
            .iter()
            .flat_map(|o| &o.runs)
            .filter_map(|r| match &r.result {
                Ok(x) if x.lost == 0 && x.duplicated == 0 && x.sent > 0 => None,
                Ok(x) => {
                    Some(format!("{}: sent {}, lost {}, duplicated {}", r.server.name(), x.sent, x.lost, x.duplicated))
                }
                Err(e) => Some(format!("{}: {e}", r.server.name())),
            })
            .collect();
        if !bad.is_empty() {
            eprintln!("chatroom-bench: smoke FAILED: {}", bad.join("; "));
            return Ok(ExitCode::FAILURE);
        }
        eprintln!("chatroom-bench: smoke passed: every delivery arrived exactly once");
    } else if failed_runs > 0 {
        eprintln!("chatroom-bench: {failed_runs} run(s) failed; see the table's notes");
        return Ok(ExitCode::FAILURE);
    }
    if search || options.smoke {
        return run_search(&options, &chatroom, server_cpu);
    }
    Ok(ExitCode::SUCCESS)
}

/// SEARCH (`--smoke`: on a small log, once, for its answers): prints its table and writes it to
/// `OUT/search.md`.
fn run_search(options: &Options, chatroom: &std::path::Path, server_cpu: Option<usize>) -> Result<ExitCode, String> {
    for dir in ["logs", "work"] {
        let dir = options.out.join(dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let search_options = search::Options {
        megabytes: if options.smoke { 4 } else { options.search_mb },
        runs: options.runs.unwrap_or(5),
        smoke: options.smoke,
        chatroom: chatroom.to_path_buf(),
        out: options.out.clone(),
        server_cpu,
    };
    match search::run(&search_options) {
        Ok(figures) => {
            let table = search::report(&figures, &search_options);
            println!("{table}");
            let file = options.out.join("search.md");
            std::fs::write(&file, &table).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            eprintln!("chatroom-bench: search: answers right; table in {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("chatroom-bench: search FAILED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The scenarios, the number of runs and the servers the options ask for.
fn choose(options: &Options) -> Result<(Vec<Scenario>, usize, Vec<Kind>), String> {
    let servers = options.servers.clone();
    if options.smoke {
        return Ok((vec![scenario::smoke()], options.runs.unwrap_or(1), servers));
    }
    let mut all = scenario::all();
    all.push(scenario::s1_with_transfers());
    let mut chosen = match &options.scenarios {
        None => all,
        Some(names) => names
            .iter()
            .map(|name| {
                all.iter().find(|s| s.name == name.as_str()).cloned().ok_or_else(|| {
                    format!(
                        "unknown scenario {name:?} (known: {})",
                        all.iter().map(|s| s.name).collect::<Vec<_>>().join(",")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if let Some(window) = options.window {
        for scenario in &mut chosen {
            if let client::Pace::Window(w) = &mut scenario.pace {
                *w = window;
            }
        }
    }
    let mut runs = options.runs.unwrap_or(3);
    if options.quick {
        chosen = chosen.into_iter().map(scenario::quick).collect();
        runs = options.runs.unwrap_or(1);
    }
    if let Some(duration) = options.duration {
        for scenario in &mut chosen {
            scenario.duration = duration;
        }
    }
    Ok((chosen, runs, servers))
}

/// `results.md` (the table plus every run's figures) and `latency.svg`.
fn write_files(out: &std::path::Path, table: &str, outcomes: &[Outcome], runs: usize) -> Result<(), String> {
    let results = format!("{table}\n## Every run\n\n{}", report::runs_table(outcomes));
    let path = out.join("results.md");
    std::fs::write(&path, results).map_err(|e| format!("cannot write {}: {e}", path.display()))?;

    // The stall pair measures something else (1 KB texts, a bursty member, stuck members): it would
    // not sit on a curve of latency against connected clients.
    let mut measured: Vec<&Outcome> =
        outcomes.iter().filter(|o| o.skipped.is_none() && o.scenario.stall.is_none()).collect();
    measured.sort_by_key(|o| o.scenario.clients);
    let slots: Vec<svg::Slot> = measured
        .iter()
        .map(|o| svg::Slot { scenario: o.scenario.name.to_string(), clients: o.scenario.clients })
        .collect();
    let series: Vec<svg::Series> = [(Kind::Chatroom, "#1f77b4"), (Kind::Baseline, "#d62728")]
        .into_iter()
        .map(|(kind, color)| svg::Series {
            server: kind.name(),
            color,
            p50_us: measured.iter().map(|o| o.median(kind, |r| r.p50_us)).collect(),
            p99_us: measured.iter().map(|o| o.median(kind, |r| r.p99_us)).collect(),
        })
        .collect();
    let title = format!("Delivery latency vs connected clients (median of {runs} run(s))");
    let path = out.join("latency.svg");
    std::fs::write(&path, svg::latency_chart(&title, &slots, &series))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("chatroom-bench: wrote {} and {}", out.join("results.md").display(), path.display());
    Ok(())
}
