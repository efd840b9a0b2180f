#!/usr/bin/env bash
# Where one server's CPU goes in one scenario, by `perf`: the share of its samples spent in the
# kernel's send path (`sendto`), which every delivery pays once per `write`, and the top symbols.
#
#   bench/profile.sh S1 baseline      # scenario (S1 S2 S3 SAT C10K), server (chatroom or baseline)
#
# It runs the scenario once for 10 s and samples the server process for 5 s from 3 s in (the send
# phase). Needs perf (Debian: apt-get install linux-perf) and perf_event_paranoid <= 1 or root.
# Output: the figures on stdout; perf.data and the bench's log in target/bench/profile/.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=${1:-S1}
server=${2:-chatroom}
case "$server" in
    chatroom | baseline) ;;
    *) echo "usage: bench/profile.sh SCENARIO chatroom|baseline" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "bench/profile.sh needs perf (apt-get install linux-perf)" >&2; exit 2; }

cargo build --release --quiet -p chatroom -p chatroom-bench --bins
bin=target/release
out=target/bench/profile
mkdir -p "$out"
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

"$bin/chatroom-bench" --scenarios "$scenario" --servers "$server" --runs 1 --duration 10 --out "$out" \
    >"$out/bench.log" 2>&1 &
bench=$!
trap 'kill $bench 2>/dev/null || true' EXIT

# The bench starts the server as its child; find it (at most 10 s).
pid=
for _ in $(seq 100); do
    pid=$(pgrep -P "$bench" -x "$server" || true)
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || { echo "the $server server did not start; see $out/bench.log" >&2; exit 1; }

sleep 3 # connecting is done by then in every scenario but C10K; the send phase runs 10 s
perf record --quiet -g -p "$pid" -o "$out/perf.data" -- sleep 5 2>/dev/null
wait "$bench"
trap - EXIT

set +o pipefail # `head` and `awk` may stop reading early; that is not a failure
report() { perf report --quiet -i "$out/perf.data" -g none "$@" 2>/dev/null; }
send=$(report --children --sort sym | awk '$NF == "__x64_sys_sendto" && !seen { print $1; seen = 1 }')
user=$(report --no-children --sort dso | awk '$2 !~ /^\[kernel/ { s += $1 } END { printf "%.1f%%", s }')
echo "$scenario, $server: share of the server's CPU samples"
echo "  in the kernel's send path (sendto and all below it): ${send:-0%}"
echo "  in user space (the server's own code and libc):       $user"
echo "top symbols (self time):"
report --no-children --sort dso,sym | head -12
grep -E "run 1/1" "$out/bench.log" || true
