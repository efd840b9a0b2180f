//! Turning runs into the report: medians over runs, the chatroom / baseline ratio, the Markdown
//! header and tables.
//!
//! Medians, because a shared 2-core machine is noisy and one bad run should not move a figure;
//! ratios, because both servers run in the same session on the same machine, so the ratio carries
//! over between machines much better than the absolute numbers do.

mod numbers;

use std::fmt::Write as _;

use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::server::Kind;

pub use numbers::median;
use numbers::{ratio, thousands};

/// One run's outcome.
pub struct RunRecord {
    pub server: Kind,
    pub run: usize,
    pub result: Result<RunResult, String>,
}

/// Everything about one scenario.
pub struct Outcome {
    pub scenario: Scenario,
    pub runs: Vec<RunRecord>,
    /// Why it did not run at all (too few file descriptors, say).
    pub skipped: Option<String>,
}

impl Outcome {
    /// The median over successful runs of `server` of one figure.
    pub fn median(&self, server: Kind, get: fn(&RunResult) -> f64) -> Option<f64> {
        median(self.ok(server).map(get).collect())
    }

    /// The median over the successful runs of `server` that have this figure.
    fn median_of(&self, server: Kind, get: fn(&RunResult) -> Option<f64>) -> Option<f64> {
        median(self.ok(server).filter_map(get).collect())
    }

    /// In how many of the successful runs of `server` that have this figure it is nonzero, and
    /// in how many it is there at all.
    fn runs_with(&self, server: Kind, get: fn(&RunResult) -> Option<f64>) -> Option<(usize, usize)> {
        let values: Vec<f64> = self.ok(server).filter_map(get).collect();
        (!values.is_empty()).then(|| (values.iter().filter(|&&v| v != 0.0).count(), values.len()))
    }

    fn ok(&self, server: Kind) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(move |r| r.server == server).filter_map(|r| r.result.as_ref().ok())
    }

    fn counts(&self, server: Kind) -> (usize, usize) {
        let all = self.runs.iter().filter(|r| r.server == server).count();
        (self.ok(server).count(), all)
    }
}

/// A figure in the table: a row for every scenario whose runs have it.
struct Metric {
    label: &'static str,
    get: fn(&RunResult) -> Option<f64>,
    decimals: usize,
    shown: Shown,
}

/// How a figure's runs make one cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// The median over the runs.
    Median,
    /// In how many runs it happened (a yes/no figure): `"0 of 3 runs"`.
    RunsWith,
}

const fn metric(label: &'static str, get: fn(&RunResult) -> Option<f64>, decimals: usize) -> Metric {
    Metric { label, get, decimals, shown: Shown::Median }
}

/// The rows of each scenario, in order. For every figure but deliveries/s, lower is better.
const METRICS: &[Metric] = &[
    metric("deliveries/s", |r| Some(r.deliveries_per_s), 0),
    metric("lost deliveries", |r| Some(r.lost as f64), 0),
    metric("duplicated deliveries", |r| Some(r.duplicated as f64), 0),
    metric("latency p50 (µs)", |r| Some(r.p50_us), 0),
    metric("latency p99 (µs)", |r| Some(r.p99_us), 0),
    metric("latency p99.9 (µs)", |r| Some(r.p999_us), 0),
    metric("bursty member: latency p50 (µs)", |r| r.bursty_p50_us, 0),
    metric("bursty member: latency p99 (µs)", |r| r.bursty_p99_us, 0),
    metric("bursty member: lost deliveries", |r| r.bursty_lost.map(|n| n as f64), 0),
    metric("bursty member: duplicated deliveries", |r| r.bursty_duplicated.map(|n| n as f64), 0),
    Metric {
        label: "bursty member dropped by server",
        get: |r| r.bursty_dropped.map(|d| f64::from(u8::from(d))),
        decimals: 0,
        shown: Shown::RunsWith,
    },
    metric("stuck members dropped by server", |r| r.stuck_dropped.map(|n| n as f64), 0),
    metric("server CPU per delivery (µs)", |r| Some(r.cpu_us_per_delivery), 3),
    metric("server RSS, all connected (MiB)", |r| Some(r.rss_kib as f64 / 1024.0), 1),
    metric("server threads", |r| Some(r.threads as f64), 0),
    metric("RSS per connection (KiB)", |r| Some(r.rss_per_conn_kib), 1),
    metric("ΔKernelStack per connection (KiB)", |r| Some(r.kernel_stack_per_conn_kib), 1),
    metric("ΔPageTables per connection (KiB)", |r| Some(r.page_tables_per_conn_kib), 1),
    metric("ΔSlab per connection (KiB)", |r| Some(r.slab_per_conn_kib), 1),
    metric("ΔSUnreclaim per connection (KiB), part of ΔSlab", |r| Some(r.sunreclaim_per_conn_kib), 1),
    metric(
        "whole cost per connection (KiB): RSS + ΔKernelStack + ΔPageTables + ΔSlab",
        |r| Some(r.whole_per_conn_kib),
        1,
    ),
    metric("server CPU busy (% of one CPU)", |r| Some(r.server_busy * 100.0), 0),
    metric("load generator CPU busy (%)", |r| Some(r.generator_busy * 100.0), 0),
    metric("other processes' CPU, not niced (% of machine)", |r| Some(r.others_busy * 100.0), 0),
    metric("clients disconnected by server", |r| Some(r.disconnected as f64), 0),
    metric("time to connect all (s)", |r| Some(r.connect_s), 2),
];

/// The stall pair: the scenario with stuck members, the one without, and the most the first's p99
/// may be of the second's (the goal).
const STALL_PAIR: (&str, &str, f64) = ("STALL50", "STALL0", 1.5);

/// The facts printed above the tables.
pub struct Header {
    pub date: String,
    pub nproc: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub command: String,
    pub runs: usize,
    pub notes: Vec<String>,
}

/// Header, scenario list, results table and notes: what goes to stdout and to `results.md`.
pub fn markdown(header: &Header, outcomes: &[Outcome], servers: &[Kind]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# chatroom benchmark\n");
    let _ = writeln!(out, "- date: {}", header.date);
    let _ = writeln!(out, "- machine: `nproc` = {}, {}, Linux {}", header.nproc, header.cpu_model, header.kernel);
    let _ = writeln!(out, "- command: `{}`", header.command);
    for note in &header.notes {
        let _ = writeln!(out, "- {note}");
    }
    let _ = writeln!(
        out,
        "- lost = messages sent × clients − deliveries received by the end of the drain (5 s after the last \
         send; 20 s in --smoke); duplicated = a client received the same message twice"
    );
    let _ = writeln!(
        out,
        "- every figure is the median of {} run(s); ratio = chatroom / baseline: below 1 is better for \
         chatroom, except deliveries/s where above 1 is better\n",
        header.runs
    );

    let _ = writeln!(out, "| scenario | clients | senders × rate | duration | what it shows |");
    let _ = writeln!(out, "|---|---:|---|---:|---|");
    for o in outcomes {
        let s = &o.scenario;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} s | {} |",
            s.name,
            s.members(|n| thousands(n, 0)),
            s.load(),
            s.duration.as_secs_f64(),
            s.about
        );
    }
    out.push('\n');

    let has_baseline = servers.contains(&Kind::Baseline);
    let _ = writeln!(out, "| scenario | figure | chatroom | baseline | ratio |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for o in outcomes {
        let name = o.scenario.name;
        if let Some(why) = &o.skipped {
            let _ = writeln!(out, "| {name} | skipped | {why} | | |");
            continue;
        }
        let (ok, all) = o.counts(Kind::Chatroom);
        let (b_ok, b_all) = o.counts(Kind::Baseline);
        let baseline_runs = if has_baseline { format!("{b_ok}/{b_all}") } else { "–".into() };
        let _ = writeln!(out, "| {name} | runs completed | {ok}/{all} | {baseline_runs} | |");
        for m in METRICS {
            if m.shown == Shown::RunsWith {
                let c = o.runs_with(Kind::Chatroom, m.get);
                let b = if has_baseline { o.runs_with(Kind::Baseline, m.get) } else { None };
                if c.is_some() || b.is_some() {
                    let cell = |x: Option<(usize, usize)>| x.map_or("–".into(), |(k, n)| format!("{k} of {n} runs"));
                    let _ = writeln!(out, "| {name} | {} | {} | {} | |", m.label, cell(c), cell(b));
                }
                continue;
            }
            let c = o.median_of(Kind::Chatroom, m.get);
            let b = if has_baseline { o.median_of(Kind::Baseline, m.get) } else { None };
            let any_ok = o.runs.iter().any(|r| r.result.is_ok());
            if c.is_none() && b.is_none() && any_ok {
                continue; // a figure this scenario does not have
            }
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                m.label,
                c.map_or("–".into(), |v| thousands(v, m.decimals)),
                b.map_or("–".into(), |v| thousands(v, m.decimals)),
                ratio(c, b)
            );
        }
        let (with, without, goal) = STALL_PAIR;
        if name == with {
            if let Some(reference) = outcomes.iter().find(|r| r.scenario.name == without) {
                let p99 = |o: &Outcome, kind| o.median(kind, |r| r.p99_us);
                let derived = |kind| match (p99(o, kind), p99(reference, kind)) {
                    (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                    _ => "–".into(),
                };
                let b = if has_baseline { derived(Kind::Baseline) } else { "–".into() };
                let _ = writeln!(
                    out,
                    "| {name} | p99 {with} / {without} (goal ≤ {goal}) | {} | {b} | |",
                    derived(Kind::Chatroom)
                );
            }
        }
    }

    let problems: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            o.runs.iter().flat_map(move |r| {
                let prefix = format!("{} {} run {}", o.scenario.name, r.server.name(), r.run);
                let mut seen = Vec::new();
                match &r.result {
                    Err(e) => seen.push(format!("{prefix}: failed: {e}")),
                    Ok(res) => {
                        if res.lost > 0 && res.disconnected == 0 {
                            seen.push(format!(
                                "{prefix}: {} deliveries lost, missing at {} of {} clients",
                                res.lost, res.short_clients, res.clients
                            ));
                        } else if res.disconnected > 0 {
                            seen.push(format!(
                                "{prefix}: {} deliveries lost, missing at {} of {} clients; {} client(s) disconnected \
                                 by the server, first: {}",
                                res.lost,
                                res.short_clients,
                                res.clients,
                                res.disconnected,
                                res.first_disconnect.as_deref().unwrap_or("?")
                            ));
                        } else if res.foreign > 0 {
                            seen.push(format!(
                                "{prefix}: {} chat text(s) that were not this run's tokens",
                                res.foreign
                            ));
                        }
                        if res.bursty_dropped == Some(true) {
                            seen.push(format!(
                                "{prefix}: the bursty member was dropped by the server: {}",
                                res.bursty_drop_reason.as_deref().unwrap_or("?")
                            ));
                        } else if res.bursty_lost.is_some_and(|n| n > 0) {
                            seen.push(format!(
                                "{prefix}: the bursty member lost {} deliveries",
                                res.bursty_lost.unwrap_or(0)
                            ));
                        }
                    }
                }
                seen
            })
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\nProblems seen:\n");
        for p in problems {
            let _ = writeln!(out, "- {p}");
        }
    }
    out
}

/// The columns of [`runs_table`], after scenario, server and run.
const RUN_COLUMNS: &[&str] = &[
    "clients",
    "connections",
    "sent",
    "expected",
    "delivered",
    "lost",
    "dup",
    "deliveries/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "bursty p99 µs",
    "bursty dropped",
    "stuck dropped",
    "CPU µs/delivery",
    "server busy",
    "gen busy",
    "others",
    "RSS fresh KiB",
    "RSS KiB",
    "threads",
    "RSS KiB/conn",
    "ΔKernelStack KiB/conn",
    "ΔPageTables KiB/conn",
    "ΔSlab KiB/conn",
    "ΔSUnreclaim KiB/conn",
    "whole KiB/conn",
];

/// Every run's main figures, for `results.md`: the spread behind each median.
pub fn runs_table(outcomes: &[Outcome]) -> String {
    let mut out = format!("| scenario | server | run | {} |\n", RUN_COLUMNS.join(" | "));
    let _ = writeln!(out, "|---|---|---:|{}", "---:|".repeat(RUN_COLUMNS.len()));
    for o in outcomes {
        for r in &o.runs {
            let head = format!("| {} | {} | {} |", o.scenario.name, r.server.name(), r.run);
            let cells: Vec<String> = match &r.result {
                Err(e) => std::iter::once(format!("failed: {}", e.replace('|', "/")))
                    .chain(std::iter::repeat_n(String::new(), RUN_COLUMNS.len() - 1))
                    .collect(),
                Ok(x) => vec![
                    x.clients.to_string(),
                    x.connections.to_string(),
                    x.sent.to_string(),
                    x.expected.to_string(),
                    x.delivered.to_string(),
                    x.lost.to_string(),
                    x.duplicated.to_string(),
                    thousands(x.deliveries_per_s, 0),
                    thousands(x.p50_us, 0),
                    thousands(x.p99_us, 0),
                    thousands(x.p999_us, 0),
                    thousands(x.max_us, 0),
                    x.bursty_p99_us.map_or("–".into(), |v| thousands(v, 0)),
                    x.bursty_dropped.map_or("–", |d| if d { "yes" } else { "no" }).into(),
                    x.stuck_dropped.map_or("–".into(), |n| format!("{n} of {}", x.stuck)),
                    format!("{:.3}", x.cpu_us_per_delivery),
                    format!("{:.0}%", x.server_busy * 100.0),
                    format!("{:.0}%", x.generator_busy * 100.0),
                    format!("{:.0}%", x.others_busy * 100.0),
                    x.rss_fresh_kib.to_string(),
                    x.rss_kib.to_string(),
                    x.threads.to_string(),
                    format!("{:.1}", x.rss_per_conn_kib),
                    format!("{:.1}", x.kernel_stack_per_conn_kib),
                    format!("{:.1}", x.page_tables_per_conn_kib),
                    format!("{:.1}", x.slab_per_conn_kib),
                    format!("{:.1}", x.sunreclaim_per_conn_kib),
                    format!("{:.1}", x.whole_per_conn_kib),
                ],
            };
            debug_assert_eq!(cells.len(), RUN_COLUMNS.len());
            let _ = writeln!(out, "{head} {} |", cells.join(" | "));
        }
    }
    out
}

#[cfg(test)]
mod tests;
