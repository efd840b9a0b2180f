//! One run of one scenario against one server: start it, connect everyone, check everyone is in
//! the room, send, drain, measure, stop it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::{sleep, Instant};

use crate::client::Clients;
use crate::proc;
use crate::scenario::{Scenario, SETTLE};
use crate::server::{self, Spec};
use crate::token::now_ns;

/// How long the probe may take to reach everyone.
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// Where a run may put files.
pub struct Env {
    /// The CPU to pin the server to (None: not pinned).
    pub server_cpu: Option<usize>,
    pub out_dir: PathBuf,
}

/// Everything one run measured.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Measured receivers.
    pub clients: usize,
    /// Every connection: the measured receivers, and the senders, bursty and stuck members that
    /// are not among them. The per-connection memory figures divide by this.
    pub connections: usize,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    /// Clients that missed at least one delivery (where the lost ones went).
    pub short_clients: u64,
    pub duplicated: u64,
    /// Chat texts that were not this run's tokens (history from elsewhere, say).
    pub foreign: u64,
    /// Client connections the server ended during the run.
    pub disconnected: u64,
    pub first_disconnect: Option<String>,
    pub deliveries_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// The stall scenarios' bursty member, apart from the measured receivers: its latency, what
    /// it lost and got twice, and whether the server dropped it (`None` in other scenarios).
    pub bursty_p50_us: Option<f64>,
    pub bursty_p99_us: Option<f64>,
    pub bursty_lost: Option<u64>,
    pub bursty_duplicated: Option<u64>,
    pub bursty_dropped: Option<bool>,
    pub bursty_drop_reason: Option<String>,
    /// Members that never read, and how many of them the server had dropped by the end of the
    /// run (`None` without any).
    pub stuck: usize,
    pub stuck_dropped: Option<u64>,
    pub cpu_us_per_delivery: f64,
    /// Server CPU time over wall time during the send phase (1.0 = one CPU busy).
    pub server_busy: f64,
    /// The same for the load generator: near 1.0 means it, not the server, set the pace.
    pub generator_busy: f64,
    /// CPU time of every other process at normal priority during the send phase, as a share of
    /// the whole machine: the noise indicator (a build running next to the bench shows up here).
    pub others_busy: f64,
    pub rss_fresh_kib: u64,
    pub rss_kib: u64,
    pub threads: u64,
    pub rss_per_conn_kib: f64,
    /// Per connection, machine-wide deltas of `/proc/meminfo` from before the clients connected to
    /// all connected and settled, in KiB. They hold the load generator's client sockets too (the
    /// same for both servers); the difference between the servers is what the server pays.
    pub kernel_stack_per_conn_kib: f64,
    pub page_tables_per_conn_kib: f64,
    pub slab_per_conn_kib: f64,
    /// The unreclaimable part of the slab: steadier than the whole, which other processes'
    /// dentries and inodes move.
    pub sunreclaim_per_conn_kib: f64,
    /// RSS + ΔKernelStack + ΔPageTables + ΔSlab per connection: what a connection really costs.
    pub whole_per_conn_kib: f64,
    pub connect_s: f64,
    /// Until every client had the last probe.
    pub probe_s: f64,
    /// From the last send until every delivery was in (or the drain limit).
    pub drain_s: f64,
    /// Closing the clients and stopping the server.
    pub teardown_s: f64,
    /// The whole run, from starting the server to having stopped it.
    pub wall_s: f64,
}

/// Runs `scenario` once against `spec`. Every phase is bounded; the server is killed on every
/// path out (its guard is dropped).
pub async fn run_once(scenario: &Scenario, spec: &Spec, run: usize, env: &Env) -> Result<RunResult, String> {
    let label = format!("{}-{}-run{run}", scenario.name, spec.kind.name());
    let workdir = env.out_dir.join("work").join(&label);
    let _ = std::fs::remove_dir_all(&workdir);
    std::fs::create_dir_all(&workdir).map_err(|e| format!("cannot create {}: {e}", workdir.display()))?;
    let log = env.out_dir.join("logs").join(format!("{label}.log"));

    let started = Instant::now();
    let result = measure(scenario, spec, env, &workdir, &log)
        .await
        .map(|r| RunResult { wall_s: started.elapsed().as_secs_f64(), ..r });
    let _ = std::fs::remove_dir_all(&workdir);
    result.map_err(|e| format!("{e} (server log: {})", log.display()))
}

async fn measure(scenario: &Scenario, spec: &Spec, env: &Env, workdir: &Path, log: &Path) -> Result<RunResult, String> {
    let mut server = server::start(spec, env.server_cpu, workdir, log)?;
    let pid = server.pid;
    sleep(SETTLE).await;
    let fresh = proc::status(pid).map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    let mem_fresh = proc::meminfo().map_err(|e| format!("reading /proc/meminfo: {e}"))?;

    let nonce = make_nonce();
    let mut clients = Clients::connect(server.addr, scenario.layout(), nonce).await?;
    let stuck = scenario.stall.map_or(0, |s| s.stuck);
    if stuck > 0 {
        clients.add_stuck(server.addr, stuck).await?;
    }
    let probe_time = clients.probe(PROBE_LIMIT).await?;
    sleep(scenario.settle).await;
    let loaded = proc::status(pid).map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    let mem_loaded = proc::meminfo().map_err(|e| format!("reading /proc/meminfo: {e}"))?;

    // S1FILES: the transfers start before the send phase and end with the drain.
    let transfers = if scenario.transfers { Some(server::side_load(server.addr)?) } else { None };

    // The send phase, bracketed by the server's CPU time and ours.
    let ticks_before = proc::cpu_ticks(pid).map_err(|e| e.to_string())?;
    let own_before = proc::own_cpu_seconds();
    let machine_before = proc::machine_ticks().unwrap_or_default();
    let start = Instant::now();
    let start_ns = now_ns();
    let mut sent = 0;
    for sender in clients.start_senders(scenario.pace, start, scenario.duration, scenario.text_bytes) {
        sent += sender.await.unwrap_or(0);
    }
    let expected = sent * scenario.clients as u64;
    let drain_time = clients.drain(expected, sent, scenario.drain).await;
    drop(transfers);
    let ticks_after = proc::cpu_ticks(pid).map_err(|e| format!("server gone before the end of the run: {e}"))?;
    let own_after = proc::own_cpu_seconds();
    let machine_after = proc::machine_ticks().unwrap_or_default();
    let wall = start.elapsed().as_secs_f64();
    // After the CPU bracket: the check writes to the stuck members.
    let stuck_dropped = if stuck > 0 { Some(clients.stuck_dropped().await) } else { None };
    if !server.alive() {
        return Err("the server exited during the run".into());
    }

    let hz = proc::ticks_per_second();
    let server_cpu = (ticks_after - ticks_before) as f64 / hz;
    let own_cpu = own_after - own_before;
    let machine_total = machine_after.total.saturating_sub(machine_before.total) as f64;
    let others = machine_after.busy.saturating_sub(machine_before.busy) as f64 - (server_cpu + own_cpu) * hz;
    let others_busy = if machine_total > 0.0 { (others / machine_total).clamp(0.0, 1.0) } else { 0.0 };
    let result = {
        let tally = clients.tally.borrow();
        let delivered = tally.unique;
        let quantile_us = |q: f64| tally.latency.value_at_quantile(q) as f64 / 1e3;
        let active = (tally.last_delivery_ns.saturating_sub(start_ns)) as f64 / 1e9;
        let connections = clients.connections() as f64;
        let bursty = tally.bursty_delivered();
        let bursty_quantile_us = |q: f64| bursty.map(|_| tally.bursty_latency.value_at_quantile(q) as f64 / 1e3);
        let rss_per_conn_kib = loaded.rss_kib.saturating_sub(fresh.rss_kib) as f64 / connections;
        let kernel = mem_loaded.minus(&mem_fresh);
        RunResult {
            clients: scenario.clients,
            connections: clients.connections(),
            sent,
            expected,
            delivered,
            lost: expected.saturating_sub(delivered),
            short_clients: tally.short_receivers(sent),
            duplicated: tally.duplicates,
            foreign: tally.foreign,
            disconnected: tally.disconnected as u64,
            first_disconnect: tally.first_disconnect.clone(),
            deliveries_per_s: if active > 0.0 { delivered as f64 / active } else { 0.0 },
            p50_us: quantile_us(0.50),
            p99_us: quantile_us(0.99),
            p999_us: quantile_us(0.999),
            max_us: tally.latency.max() as f64 / 1e3,
            bursty_p50_us: bursty_quantile_us(0.50),
            bursty_p99_us: bursty_quantile_us(0.99),
            bursty_lost: bursty.map(|got| sent.saturating_sub(got)),
            bursty_duplicated: bursty.map(|_| tally.bursty_duplicates),
            bursty_dropped: bursty.map(|_| tally.bursty_dropped.is_some()),
            bursty_drop_reason: tally.bursty_dropped.clone(),
            stuck,
            stuck_dropped,
            cpu_us_per_delivery: if delivered > 0 { server_cpu * 1e6 / delivered as f64 } else { 0.0 },
            server_busy: server_cpu / wall,
            generator_busy: own_cpu / wall,
            others_busy,
            rss_fresh_kib: fresh.rss_kib,
            rss_kib: loaded.rss_kib,
            threads: loaded.threads,
            rss_per_conn_kib,
            kernel_stack_per_conn_kib: kernel.kernel_stack_kib / connections,
            page_tables_per_conn_kib: kernel.page_tables_kib / connections,
            slab_per_conn_kib: kernel.slab_kib / connections,
            sunreclaim_per_conn_kib: kernel.sunreclaim_kib / connections,
            whole_per_conn_kib: rss_per_conn_kib
                + (kernel.kernel_stack_kib + kernel.page_tables_kib + kernel.slab_kib) / connections,
            connect_s: clients.connect_time.as_secs_f64(),
            probe_s: probe_time.as_secs_f64(),
            drain_s: drain_time.as_secs_f64(),
            teardown_s: 0.0,
            wall_s: 0.0,
        }
    };
    let teardown = Instant::now();
    clients.close().await;
    drop(server);
    Ok(RunResult { teardown_s: teardown.elapsed().as_secs_f64(), ..result })
}

/// A per-run nonce, so that tokens from any other run can never be counted in this one.
fn make_nonce() -> u32 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mixed = (t.as_nanos() as u64 ^ now_ns().rotate_left(17) ^ u64::from(std::process::id()) << 32)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 32) as u32
}
