//! What we read about processes and the machine: the server's CPU time, RSS and threads from
//! `/proc`, the kernel's memory outside any process's RSS (`/proc/meminfo`), our own CPU time, the
//! open-files limit, CPU affinity, a socket's TCP state, and the header facts (CPU model, CPUs,
//! date); and the two things done to the server child (killing it, tying its life to ours). The
//! bench's only `unsafe` is here.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

/// A process's user + system CPU time in clock ticks (`/proc/PID/stat` fields 14 and 15). This
/// covers every thread, including threads that have already exited.
pub fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or_else(|| bad("no ')' in stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state), so field 14 is index 11.
    let field =
        |i: usize| -> io::Result<u64> { fields.get(i).and_then(|f| f.parse().ok()).ok_or_else(|| bad("short stat")) };
    Ok(field(11)? + field(12)?)
}

/// Clock ticks per second, for [`cpu_ticks`] (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// A process's resident memory and thread count, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Status {
    pub rss_kib: u64,
    pub threads: u64,
}

pub fn status(pid: u32) -> io::Result<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let mut status = Status::default();
    for line in text.lines() {
        let number = |rest: &str| rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            status.rss_kib = number(rest);
        } else if let Some(rest) = line.strip_prefix("Threads:") {
            status.threads = number(rest);
        }
    }
    Ok(status)
}

/// The kernel memory a connection costs outside the server's RSS, machine-wide, in KiB, from
/// `/proc/meminfo`: thread stacks, page tables, and the slab (sockets, their inodes and dentries,
/// `task_struct`s...), with its unreclaimable part separately.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meminfo {
    pub kernel_stack_kib: u64,
    pub page_tables_kib: u64,
    pub slab_kib: u64,
    pub sunreclaim_kib: u64,
}

impl Meminfo {
    /// `self − before` for each field, in KiB (negative when memory was freed meanwhile).
    pub fn minus(&self, before: &Meminfo) -> MeminfoDelta {
        let d = |a: u64, b: u64| a as f64 - b as f64;
        MeminfoDelta {
            kernel_stack_kib: d(self.kernel_stack_kib, before.kernel_stack_kib),
            page_tables_kib: d(self.page_tables_kib, before.page_tables_kib),
            slab_kib: d(self.slab_kib, before.slab_kib),
            sunreclaim_kib: d(self.sunreclaim_kib, before.sunreclaim_kib),
        }
    }
}

/// A change in [`Meminfo`], in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MeminfoDelta {
    pub kernel_stack_kib: f64,
    pub page_tables_kib: f64,
    pub slab_kib: f64,
    pub sunreclaim_kib: f64,
}

pub fn meminfo() -> io::Result<Meminfo> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo")?)
}

fn parse_meminfo(text: &str) -> io::Result<Meminfo> {
    let field = |name: &str| -> io::Result<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| bad(&format!("no {name} in /proc/meminfo")))
    };
    Ok(Meminfo {
        kernel_stack_kib: field("KernelStack")?,
        page_tables_kib: field("PageTables")?,
        slab_kib: field("Slab")?,
        sunreclaim_kib: field("SUnreclaim")?,
    })
}

/// The state of a TCP socket (`TCP_INFO`'s `tcpi_state`: 1 is ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT;
/// see the kernel's `include/net/tcp_states.h`).
pub fn tcp_state(fd: std::os::fd::RawFd) -> io::Result<u8> {
    // SAFETY: getsockopt writes at most `len` bytes into the zeroed struct we pass (its real size),
    // and sets `len` to how many it wrote.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let info_ptr: *mut libc::tcp_info = &mut info;
        if libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, info_ptr.cast(), &mut len) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(info.tcpi_state)
    }
}

/// [`tcp_state`] of a connection open at both ends.
pub const TCP_ESTABLISHED: u8 = 1;

/// The whole machine's CPU time so far, in clock ticks, from the `cpu` line of `/proc/stat`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MachineTicks {
    /// user + system + steal: time some process at normal priority ran (or the hypervisor took).
    /// `nice` time is left out: niced background work (a `nice` build, say) soaks up idle CPU but
    /// yields to the bench at once, so counting it would report noise that is not there.
    pub busy: u64,
    /// Every column: busy, idle, iowait, irq and softirq.
    pub total: u64,
}

pub fn machine_ticks() -> io::Result<MachineTicks> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().find(|l| l.starts_with("cpu ")).ok_or_else(|| bad("no cpu line in /proc/stat"))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    // Columns: user nice system idle iowait irq softirq steal (guest time is inside user).
    Ok(MachineTicks { busy: at(0) + at(2) + at(7), total: (0..8).map(at).sum() })
}

/// This process's user + system CPU time, in seconds (`getrusage`, microsecond resolution).
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Raises the soft open-files limit to the hard limit (each client socket is a descriptor; the
/// server children inherit the raised limit too). Returns the soft limit now in force.
pub fn raise_nofile_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                limit = wanted;
            }
        }
    }
    limit.rlim_cur
}

/// The CPUs this process may run on, in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity writes into the zeroed set we pass; CPU_ISSET reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
    }
}

/// Pins the calling thread, and every thread it starts afterwards, to `cpu`. Called first thing in
/// `main`, before the runtime exists, so the whole load generator runs there.
pub fn pin_self(cpu: usize) -> io::Result<()> {
    // SAFETY: we build a valid cpu_set_t and pass its real size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The number of online CPUs (what `nproc` prints without affinity restrictions).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as usize
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The kernel release, for the header.
pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Now, in UTC, as `YYYY-MM-DD HH:MM UTC` (no date crate for one line of the header).
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Kills process `pid` at once (SIGKILL).
pub fn kill_now(pid: i32) {
    // SAFETY: kill has no memory preconditions; pid is the bench's own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Makes `command`'s child die with SIGKILL if the bench dies without running destructors (killed
/// itself): `PR_SET_PDEATHSIG`, which survives taskset's exec.
pub fn die_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe, as pre_exec requires, and takes no pointers here.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_process() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_ok());
        let status = status(pid).unwrap();
        assert!(status.rss_kib > 0);
        assert!(status.threads >= 1);
        assert!(utc_now().ends_with(" UTC"));
        assert!(utc_now().starts_with("20"));
        let mem = meminfo().unwrap();
        assert!(mem.slab_kib > 0 && mem.sunreclaim_kib > 0 && mem.sunreclaim_kib <= mem.slab_kib);
    }

    #[test]
    fn reads_meminfo_fields() {
        let text = "MemTotal:        4012345 kB\nSlab:             200000 kB\nSReclaimable:     150000 kB\n\
                    SUnreclaim:        50000 kB\nKernelStack:        9000 kB\nPageTables:        12000 kB\n";
        let before = parse_meminfo(text).unwrap();
        assert_eq!(
            before,
            Meminfo { kernel_stack_kib: 9000, page_tables_kib: 12000, slab_kib: 200_000, sunreclaim_kib: 50_000 }
        );
        let after = Meminfo { kernel_stack_kib: 8000, slab_kib: 200_500, ..before };
        let d = after.minus(&before);
        assert_eq!((d.kernel_stack_kib, d.page_tables_kib, d.slab_kib, d.sunreclaim_kib), (-1000.0, 0.0, 500.0, 0.0));
        assert!(parse_meminfo("Slab: 1 kB\n").is_err());
    }

    /// What the stall scenarios rely on to tell a stuck member the server dropped: once the server
    /// has shut the socket down, a write from the peer is answered with a reset, and the peer's
    /// socket is no longer ESTABLISHED.
    #[test]
    fn tcp_state_after_the_other_end_shuts_down() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(tcp_state(client.as_raw_fd()).unwrap(), TCP_ESTABLISHED);
        server.shutdown(std::net::Shutdown::Both).unwrap();
        let _ = client.write(b"x");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while tcp_state(client.as_raw_fd()).unwrap() == TCP_ESTABLISHED && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_ne!(tcp_state(client.as_raw_fd()).unwrap(), TCP_ESTABLISHED);
        drop(server);
    }
}
