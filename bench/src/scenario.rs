//! The scenarios, and one run of one scenario against one server: start it, connect everyone,
//! check everyone is in the room, send, drain, measure, stop it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::{sleep, Instant};

use crate::client::{Clients, Pace};
use crate::proc;
use crate::server::{self, Spec};
use crate::token::now_ns;

/// Messages each saturating sender may have in flight (sent, own echo not yet back). With 4
/// senders, up to 32 messages wait at the server, so it never runs dry and, like a real overloaded
/// room, can batch what it has queued if its design allows. A receiver is then at most ~32 frames
/// (~6 KB) behind, far from filling a 64 KiB socket buffer. SAT latency is queueing, by Little's
/// law about 32 × clients / throughput, and says little beyond that.
pub const SAT_WINDOW: usize = 8;
/// How long to wait for deliveries still in flight after the last send. What has not arrived by
/// then counts as lost.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);
/// The smoke check waits longer: a CI machine may stall for seconds, and the check must not flake.
const SMOKE_DRAIN_LIMIT: Duration = Duration::from_secs(20);
/// How long the probe may take to reach everyone.
const PROBE_LIMIT: Duration = Duration::from_secs(30);
/// Pause after the server prints its address before reading its "fresh" RSS, and after everyone
/// has the last probe before reading RSS and `/proc/meminfo` again (threads that just relayed go
/// back to waiting, and the kernel finishes freeing what the connect phase left behind).
const SETTLE: Duration = Duration::from_millis(200);

/// One load shape.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub clients: usize,
    pub senders: usize,
    pub pace: Pace,
    pub duration: Duration,
    pub about: &'static str,
    /// See [`DRAIN_LIMIT`].
    pub drain: Duration,
}

impl Scenario {
    /// `"10 × 100 msg/s"` or `"4 × window 8"`.
    pub fn load(&self) -> String {
        match self.pace {
            Pace::Rate(rate) => format!("{} × {rate} msg/s", self.senders),
            Pace::Window(w) => format!("{} × as fast as a window of {w} allows", self.senders),
        }
    }
}

/// The default set, in the order they run. Durations are budgeted so that the whole default run
/// (5 scenarios × 2 servers × 3 runs, plus connecting and draining) stays under 5 minutes on a
/// 2-core machine.
pub fn all() -> Vec<Scenario> {
    let secs = Duration::from_secs;
    vec![
        Scenario {
            name: "S1",
            clients: 100,
            senders: 10,
            pace: Pace::Rate(100.0),
            duration: secs(6),
            about: "a busy small room: CPU per delivery and tail latency",
            drain: DRAIN_LIMIT,
        },
        Scenario {
            name: "S2",
            clients: 1_000,
            senders: 1,
            pace: Pace::Rate(50.0),
            duration: secs(4),
            about: "a large room, moderate traffic: fan-out cost",
            drain: DRAIN_LIMIT,
        },
        Scenario {
            name: "S3",
            clients: 2_000,
            senders: 1,
            pace: Pace::Rate(10.0),
            duration: secs(3),
            about: "mostly idle connections: memory per connection",
            drain: DRAIN_LIMIT,
        },
        Scenario {
            name: "SAT",
            clients: 1_000,
            senders: 4,
            pace: Pace::Window(SAT_WINDOW),
            duration: secs(5),
            about: "saturation: deliveries per second",
            drain: DRAIN_LIMIT,
        },
        Scenario {
            name: "C10K",
            clients: 10_000,
            senders: 1,
            pace: Pace::Rate(5.0),
            duration: secs(4),
            about: "ten thousand connections carried without loss",
            drain: DRAIN_LIMIT,
        },
    ]
}

/// The CI check: small and short, judged only on loss and duplicates.
pub fn smoke() -> Scenario {
    Scenario {
        name: "SMOKE",
        clients: 300,
        senders: 2,
        pace: Pace::Rate(20.0),
        duration: Duration::from_secs(3),
        about: "CI smoke: zero lost, zero duplicated",
        drain: SMOKE_DRAIN_LIMIT,
    }
}

/// `--quick`: every scenario at most 3 seconds.
pub fn quick(mut scenario: Scenario) -> Scenario {
    scenario.duration = scenario.duration.min(Duration::from_secs(3));
    scenario
}

/// Where a run may put files.
pub struct Env {
    /// The CPU to pin the server to (None: not pinned).
    pub server_cpu: Option<usize>,
    pub out_dir: PathBuf,
}

/// Everything one run measured.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub clients: usize,
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
    let mut clients = Clients::connect(server.addr, scenario.clients, scenario.senders, nonce).await?;
    let probe_time = clients.probe(PROBE_LIMIT).await?;
    sleep(SETTLE).await;
    let loaded = proc::status(pid).map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    let mem_loaded = proc::meminfo().map_err(|e| format!("reading /proc/meminfo: {e}"))?;

    // The send phase, bracketed by the server's CPU time and ours.
    let ticks_before = proc::cpu_ticks(pid).map_err(|e| e.to_string())?;
    let own_before = proc::own_cpu_seconds();
    let machine_before = proc::machine_ticks().unwrap_or_default();
    let start = Instant::now();
    let start_ns = now_ns();
    let mut sent = 0;
    for sender in clients.start_senders(scenario.pace, start, scenario.duration) {
        sent += sender.await.unwrap_or(0);
    }
    let expected = sent * scenario.clients as u64;
    let drain_time = clients.drain(expected, scenario.drain).await;
    let ticks_after = proc::cpu_ticks(pid).map_err(|e| format!("server gone before the end of the run: {e}"))?;
    let own_after = proc::own_cpu_seconds();
    let machine_after = proc::machine_ticks().unwrap_or_default();
    let wall = start.elapsed().as_secs_f64();
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
        let connections = scenario.clients as f64;
        let rss_per_conn_kib = loaded.rss_kib.saturating_sub(fresh.rss_kib) as f64 / connections;
        let kernel = mem_loaded.minus(&mem_fresh);
        RunResult {
            clients: clients.len(),
            sent,
            expected,
            delivered,
            lost: expected.saturating_sub(delivered),
            short_clients: tally.per_receiver.iter().filter(|&&got| got < sent).count() as u64,
            duplicated: tally.duplicates,
            foreign: tally.foreign,
            disconnected: tally.disconnected as u64,
            first_disconnect: tally.first_disconnect.clone(),
            deliveries_per_s: if active > 0.0 { delivered as f64 / active } else { 0.0 },
            p50_us: quantile_us(0.50),
            p99_us: quantile_us(0.99),
            p999_us: quantile_us(0.999),
            max_us: tally.latency.max() as f64 / 1e3,
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
