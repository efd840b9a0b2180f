#!/usr/bin/env bash
# The one command for chatroom's benchmark: build chatroom and the bench (load generator and axum
# baseline) in release mode, raise the open-files limit, run every scenario against both servers.
#
#   bench/run.sh                 # S1 S2 S3 SAT C10K STALL0 STALL50, 3 runs each, both servers (~5 min)
#   bench/run.sh --scenarios STALL0,STALL50   # only the stall pair (~2 minutes)
#   bench/run.sh --smoke         # CI: 300 clients, 3 s, fails unless zero lost and zero duplicated
#   bench/run.sh --quick         # one 3-second run of each scenario
#   bench/run.sh --help          # every flag
#
# Results: the Markdown table on stdout, and target/bench/{results.md,latency.svg,logs/}.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet -p chatroom -p chatroom-bench --bins

# C10K needs 10,000 sockets in the load generator and 10,000 in the server (each process has its
# own limit, and both inherit ours). Root may raise the hard limit; anyone may raise the soft
# limit up to the hard one. The bench says so if it still cannot carry a scenario.
want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    ulimit -Hn "$want" 2>/dev/null || true
fi
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ]; then
    ulimit -Sn "$want" 2>/dev/null || ulimit -Sn "$hard" 2>/dev/null || true
else
    ulimit -Sn "$hard" 2>/dev/null || true
fi

exec target/release/chatroom-bench "$@"
