//! Turning runs into the report: medians over runs, the chatroom / baseline ratio, the Markdown
//! header and tables.
//!
//! Medians, because a shared 2-core machine is noisy and one bad run should not move a figure;
//! ratios, because both servers run in the same session on the same machine, so the ratio carries
//! over between machines much better than the absolute numbers do.

use std::fmt::Write as _;

use crate::scenario::{RunResult, Scenario};
use crate::server::Kind;

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

    fn ok(&self, server: Kind) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(move |r| r.server == server).filter_map(|r| r.result.as_ref().ok())
    }

    fn counts(&self, server: Kind) -> (usize, usize) {
        let all = self.runs.iter().filter(|r| r.server == server).count();
        (self.ok(server).count(), all)
    }
}

/// A figure in the table.
struct Metric {
    label: &'static str,
    get: fn(&RunResult) -> f64,
    decimals: usize,
}

/// The rows of each scenario, in order. For every figure but deliveries/s, lower is better.
const METRICS: &[Metric] = &[
    Metric { label: "deliveries/s", get: |r| r.deliveries_per_s, decimals: 0 },
    Metric { label: "lost deliveries", get: |r| r.lost as f64, decimals: 0 },
    Metric { label: "duplicated deliveries", get: |r| r.duplicated as f64, decimals: 0 },
    Metric { label: "latency p50 (µs)", get: |r| r.p50_us, decimals: 0 },
    Metric { label: "latency p99 (µs)", get: |r| r.p99_us, decimals: 0 },
    Metric { label: "latency p99.9 (µs)", get: |r| r.p999_us, decimals: 0 },
    Metric { label: "server CPU per delivery (µs)", get: |r| r.cpu_us_per_delivery, decimals: 3 },
    Metric { label: "server RSS, all connected (MiB)", get: |r| r.rss_kib as f64 / 1024.0, decimals: 1 },
    Metric { label: "server threads", get: |r| r.threads as f64, decimals: 0 },
    Metric { label: "RSS per connection (KiB)", get: |r| r.rss_per_conn_kib, decimals: 1 },
    Metric { label: "ΔKernelStack per connection (KiB)", get: |r| r.kernel_stack_per_conn_kib, decimals: 1 },
    Metric { label: "ΔPageTables per connection (KiB)", get: |r| r.page_tables_per_conn_kib, decimals: 1 },
    Metric { label: "ΔSlab per connection (KiB)", get: |r| r.slab_per_conn_kib, decimals: 1 },
    Metric {
        label: "ΔSUnreclaim per connection (KiB), part of ΔSlab",
        get: |r| r.sunreclaim_per_conn_kib,
        decimals: 1,
    },
    Metric {
        label: "whole cost per connection (KiB): RSS + ΔKernelStack + ΔPageTables + ΔSlab",
        get: |r| r.whole_per_conn_kib,
        decimals: 1,
    },
    Metric { label: "server CPU busy (% of one CPU)", get: |r| r.server_busy * 100.0, decimals: 0 },
    Metric { label: "load generator CPU busy (%)", get: |r| r.generator_busy * 100.0, decimals: 0 },
    Metric { label: "other processes' CPU, not niced (% of machine)", get: |r| r.others_busy * 100.0, decimals: 0 },
    Metric { label: "clients disconnected by server", get: |r| r.disconnected as f64, decimals: 0 },
    Metric { label: "time to connect all (s)", get: |r| r.connect_s, decimals: 2 },
];

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
            thousands(s.clients as f64, 0),
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
            let c = o.median(Kind::Chatroom, m.get);
            let b = if has_baseline { o.median(Kind::Baseline, m.get) } else { None };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                m.label,
                c.map_or("–".into(), |v| thousands(v, m.decimals)),
                b.map_or("–".into(), |v| thousands(v, m.decimals)),
                ratio(c, b)
            );
        }
    }

    let problems: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            o.runs.iter().filter_map(move |r| {
                let prefix = format!("{} {} run {}", o.scenario.name, r.server.name(), r.run);
                match &r.result {
                    Err(e) => Some(format!("{prefix}: failed: {e}")),
                    Ok(res) if res.lost > 0 && res.disconnected == 0 => Some(format!(
                        "{prefix}: {} deliveries lost, missing at {} of {} clients",
                        res.lost, res.short_clients, res.clients
                    )),
                    Ok(res) if res.disconnected > 0 => Some(format!(
                        "{prefix}: {} deliveries lost, missing at {} of {} clients; {} client(s) disconnected by \
                         the server, first: {}",
                        res.lost,
                        res.short_clients,
                        res.clients,
                        res.disconnected,
                        res.first_disconnect.as_deref().unwrap_or("?")
                    )),
                    Ok(res) if res.foreign > 0 => {
                        Some(format!("{prefix}: {} chat text(s) that were not this run's tokens", res.foreign))
                    }
                    Ok(_) => None,
                }
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

/// Every run's main figures, for `results.md`: the spread behind each median.
pub fn runs_table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "| scenario | server | run | clients | sent | expected | delivered | lost | dup | deliveries/s | p50 µs | p99 µs | p99.9 µs | \
         max µs | CPU µs/delivery | server busy | gen busy | others | RSS fresh KiB | RSS KiB | threads | KiB/conn | \
         ΔKernelStack KiB/conn | ΔPageTables KiB/conn | ΔSlab KiB/conn | ΔSUnreclaim KiB/conn | whole KiB/conn |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        for r in &o.runs {
            let head = format!("| {} | {} | {} |", o.scenario.name, r.server.name(), r.run);
            match &r.result {
                Err(e) => {
                    let _ = writeln!(out, "{head} failed: {} |{}", e.replace('|', "/"), " |".repeat(23));
                }
                Ok(x) => {
                    let _ = writeln!(
                        out,
                        "{head} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}% | {:.0}% | {:.0}% | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                        x.clients,
                        x.sent,
                        x.expected,
                        x.delivered,
                        x.lost,
                        x.duplicated,
                        thousands(x.deliveries_per_s, 0),
                        thousands(x.p50_us, 0),
                        thousands(x.p99_us, 0),
                        thousands(x.p999_us, 0),
                        thousands(x.max_us, 0),
                        format_args!("{:.3}", x.cpu_us_per_delivery),
                        x.server_busy * 100.0,
                        x.generator_busy * 100.0,
                        x.others_busy * 100.0,
                        x.rss_fresh_kib,
                        x.rss_kib,
                        x.threads,
                        x.rss_per_conn_kib,
                        x.kernel_stack_per_conn_kib,
                        x.page_tables_per_conn_kib,
                        x.slab_per_conn_kib,
                        x.sunreclaim_per_conn_kib,
                        x.whole_per_conn_kib
                    );
                }
            }
        }
    }
    out
}

/// The median; the mean of the middle two for an even count.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

/// chatroom / baseline, or a dash when it means nothing (a missing side, or 0 against 0).
fn ratio(chatroom: Option<f64>, baseline: Option<f64>) -> String {
    match (chatroom, baseline) {
        (Some(c), Some(b)) if b != 0.0 => format!("{:.2}", c / b),
        (Some(c), Some(_)) => if c == 0.0 { "=" } else { "–" }.into(),
        _ => "–".into(),
    }
}

/// `1234567.8` → `1,234,568` (with `decimals` after the point).
fn thousands(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(ratio(Some(1.0), Some(2.0)), "0.50");
        assert_eq!(ratio(Some(0.0), Some(0.0)), "=");
        assert_eq!(ratio(Some(3.0), Some(0.0)), "–");
        assert_eq!(ratio(Some(3.0), None), "–");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(1_234_567.8, 0), "1,234,568");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1000.0, 1), "1,000.0");
        assert_eq!(thousands(0.4567, 3), "0.457");
        assert_eq!(thousands(-1234.0, 0), "-1,234");
    }
}
