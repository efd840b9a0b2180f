#!/usr/bin/env bash
# The controls for S1FILES (bench/README.md, "What keeps S1 fast while files move"): S1's p99
# alone, and beside other work on the server's CPU (0), to know what any server could reach on
# this machine:
#   hog-nice  sha256sum of a 25 MiB file in a loop, at nice 10
#   hog-idle  the same in the idle scheduling class (chrt --idle 0)
#   nginx     Debian's nginx (sendfile on) taking PUTs and serving GETs of 25 MiB, driven by curl
#             at nice 19 on the load generator's CPU (1), as the S1FILES helper is
#
#   bench/files-controls.sh [RUNS]     # default 3 rounds, alternating; about 40 s a round
#
# Needs taskset, chrt, sha256sum, curl and nginx (apt-get install nginx). Everything listens on
# 127.0.0.1 and stops by itself. Prints S1's p99 per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
for tool in taskset chrt sha256sum curl; do
    command -v "$tool" >/dev/null || { echo "files-controls: needs $tool" >&2; exit 1; }
done
nginx=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
[ -n "$nginx" ] || { echo "files-controls: needs nginx (apt-get install nginx)" >&2; exit 1; }
cargo build --release --quiet -p chatroom -p chatroom-bench --bins

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
head -c $((25 << 20)) /dev/urandom > "$work/25m"
mkdir -p "$work/nginx/root/up" "$work/nginx/body"
port=$((20000 + RANDOM % 40000))
while curl -s -o /dev/null "http://127.0.0.1:$port/"; do port=$((20000 + RANDOM % 40000)); done
cat > "$work/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/p; fastcgi_temp_path $work/nginx/f;
  uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  server { listen 127.0.0.1:$port; root $work/nginx/root; client_max_body_size 64m;
    location /up/ { dav_methods PUT; create_full_put_path on; } } }
EOF

# Starts "$@" in the background (at most 10 minutes), remembering it for `stop`.
start() { timeout 600 "$@" >/dev/null 2>&1 & pids+=($!); }
stop() { for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
s1() { # label: one S1 run; prints its p99
    target/release/chatroom-bench --servers chatroom --scenarios S1 --runs 1 --out "$work/$1" >/dev/null 2>&1
    grep -E '\| S1 \| latency p99 \(' "$work/$1/results.md" | awk -F'|' '{gsub(/[ ,]/, "", $4); print $4}'
}
declare -A seen
for round in $(seq "$runs"); do
    seen[alone]+="$(s1 "alone-$round") "
    start taskset -c 0 nice -n 10 sh -c "while :; do sha256sum $work/25m >/dev/null; done"
    seen[hog-nice]+="$(s1 "nice-$round") "; stop
    start taskset -c 0 chrt --idle 0 sh -c "while :; do sha256sum $work/25m >/dev/null; done"
    seen[hog-idle]+="$(s1 "idle-$round") "; stop
    start taskset -c 0 "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"
    # Until nginx answers, for at most 10 s.
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    curl -s -o /dev/null "http://127.0.0.1:$port/" || { echo "files-controls: nginx did not start:" >&2; cat "$work/nginx/error.log" >&2; exit 1; }
    start taskset -c 1 nice -n 19 sh -c "while :; do curl -s -T $work/25m http://127.0.0.1:$port/up/side.bin -o /dev/null; curl -s http://127.0.0.1:$port/up/side.bin -o /dev/null; done"
    seen[nginx]+="$(s1 "nginx-$round") "; stop
done
printf '%-9s %s\n' "beside" "S1 p99 (µs) per run, then the median and ÷ alone"
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
alone=$(echo "${seen[alone]}" | median)
for label in alone hog-nice hog-idle nginx; do
    m=$(echo "${seen[$label]}" | median)
    printf '%-9s %s| median %s, %s×\n' "$label" "${seen[$label]}" "$m" "$(awk -v m="$m" -v a="$alone" 'BEGIN {printf "%.2f", m / a}')"
done
