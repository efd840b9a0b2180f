//! What one parked thread costs, before it holds a socket or any state of ours: the floor under
//! a thread-per-connection server's memory per member.
//!
//! `cargo run --release -p chatroom-bench --bin thread_floor -- [N]` spawns N threads (default
//! 2,000) the way the server spawns a member's thread (128 KiB stack), parks each one in a
//! blocking wait, and prints per thread: this process's RSS, and from the kernel, the thread's
//! kernel stack and page tables (`/proc/meminfo`) and its kernel objects (`/proc/slabinfo`:
//! `task_struct`, `pid`, the stack's memory areas...; counted as live objects × object size, which
//! unlike the `Slab` line does not depend on what the slab caches held before). Reading
//! `/proc/slabinfo` needs root; without it, the `Slab` line of `/proc/meminfo` is used.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

/// The server's `connection::STACK_SIZE`.
const STACK_SIZE: usize = 128 * 1024;

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 2000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: thread_floor [N]   (N threads, default 2000)");
            std::process::exit(2);
        }
    };
    // Threads that ended just before (an earlier run's) are freed by the kernel a little later
    // (after an RCU grace period); let that happen before the first count.
    std::thread::sleep(Duration::from_secs(2));
    let before = Snapshot::take();
    let mut wakers = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new().stack_size(STACK_SIZE).spawn(move || {
            let _ = rx.recv();
        });
        wakers.push(tx);
        threads.push(thread.expect("spawn a thread"));
    }
    // Let every thread reach its wait (a thread that has not run yet has touched less).
    std::thread::sleep(Duration::from_secs(1));
    let after = Snapshot::take();
    drop(wakers);
    for thread in threads {
        let _ = thread.join();
    }
    let per = |a: f64, b: f64| (a - b) / n as f64;
    let rss = per(after.rss_kib, before.rss_kib);
    let stack = per(after.kernel_stack_kib, before.kernel_stack_kib);
    let tables = per(after.page_tables_kib, before.page_tables_kib);
    let (objects, source) = match (&after.slab_objects, &before.slab_objects) {
        (Some(a), Some(b)) => (per(total(a), total(b)), "live objects in /proc/slabinfo"),
        _ => (per(after.slab_kib, before.slab_kib), "the Slab line of /proc/meminfo"),
    };
    println!("{n} parked threads, {} KiB stacks; per thread, in KiB:", STACK_SIZE / 1024);
    println!("  RSS (user stack pages, thread control block) {rss:>6.2}");
    println!("  kernel stack                                 {stack:>6.2}");
    println!("  page tables                                  {tables:>6.2}");
    println!("  kernel objects ({source}) {objects:>6.2}");
    println!("  whole cost                                   {:>6.2}", rss + stack + tables + objects);
    if let (Some(a), Some(b)) = (&after.slab_objects, &before.slab_objects) {
        let mut grown: Vec<(&String, f64)> =
            a.iter().map(|(name, bytes)| (name, per(*bytes, b.get(name).copied().unwrap_or(0.0)))).collect();
        grown.sort_by(|x, y| y.1.total_cmp(&x.1));
        let top: Vec<String> = grown.iter().take(4).map(|(name, kib)| format!("{name} {kib:.2}")).collect();
        println!("  the largest kernel objects: {}", top.join(", "));
    }
}

fn total(objects: &HashMap<String, f64>) -> f64 {
    objects.values().sum()
}

struct Snapshot {
    rss_kib: f64,
    kernel_stack_kib: f64,
    page_tables_kib: f64,
    slab_kib: f64,
    /// KiB of live objects per slab cache, when `/proc/slabinfo` is readable.
    slab_objects: Option<HashMap<String, f64>>,
}

impl Snapshot {
    fn take() -> Snapshot {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Snapshot {
            rss_kib: field(&status, "VmRSS"),
            kernel_stack_kib: field(&meminfo, "KernelStack"),
            page_tables_kib: field(&meminfo, "PageTables"),
            slab_kib: field(&meminfo, "Slab"),
            slab_objects: std::fs::read_to_string("/proc/slabinfo").ok().map(|text| slab_objects(&text)),
        }
    }
}

/// A `Name:   1234 kB` line's number.
fn field(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// `/proc/slabinfo` (version 2.1): `name active_objs num_objs objsize ...` per cache.
fn slab_objects(text: &str) -> HashMap<String, f64> {
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_string();
            let active: f64 = words.next()?.parse().ok()?;
            let _all = words.next()?;
            let size: f64 = words.next()?.parse().ok()?;
            Some((name, active * size / 1024.0))
        })
        .collect()
}
