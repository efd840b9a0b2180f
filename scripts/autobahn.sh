#!/usr/bin/env bash
# Runs the Autobahn|Testsuite (../shared/tools/autobahn) against chatroom's /echo endpoint.
# Usage: scripts/autobahn.sh [OUTDIR]      (default OUTDIR: target/autobahn)
# Needs Python 2.7 (pyenv's 2.7.18 on our machines); exits 3 if there is none, 1 if any case FAILED.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${AUTOBAHN_TOOLS:-../shared/tools/autobahn}"
outdir="${1:-target/autobahn}"
cargo build --release --quiet --bin chatroom
bin=target/x86_64-unknown-linux-gnu/release/chatroom
log="$(mktemp)"
# Autobahn's cases 9.* send messages of up to 16 MiB: lift the message limit for this run only.
"$bin" --bind 127.0.0.1:0 --echo --max-message 16777216 >"$log" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
port="$(head -n1 "$log" | sed 's/.*://')"
[ -n "$port" ] || { echo "autobahn: chatroom did not start" >&2; exit 1; }
"$tools/setup.sh" >/dev/null
"$tools/run.sh" "ws://127.0.0.1:$port/echo" "$outdir"
