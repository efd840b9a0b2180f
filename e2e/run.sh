#!/usr/bin/env bash
# The browser tests (e2e/README.md): Debian's Chromium, driven by playwright-core, against real
# chatroom servers. Installs what it needs, builds the server, runs the suite, and says where the
# screenshots are.
#
#   e2e/run.sh                      everything
#   e2e/run.sh tests/chat.test.mjs  one file (paths relative to e2e/)
#
# Environment: CHROMIUM (default /usr/bin/chromium), CHATROOM_BIN (default: the debug build,
# which this script builds; set it to use another build and skip that).
set -euo pipefail
cd "$(dirname "$0")"
E2E=$(pwd)
REPO=$(cd .. && pwd)
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf '\n== e2e: %s\n' "$*"; }

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Chromium (apt-get install chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [ -x "$CHROMIUM" ] || { echo "e2e: Chromium installed, but there is still nothing at $CHROMIUM" >&2; exit 1; }
  else
    echo "e2e: no Chromium at $CHROMIUM: install Debian's (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi
"$CHROMIUM" --version 2>/dev/null || true

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: needs Node.js 20 or later, with npm" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "e2e: needs Node.js 20 or later (this is $(node --version))" >&2
  exit 1
fi

say "npm ci (playwright-core only; it downloads no browser)"
npm ci --no-audit --no-fund --loglevel=error

if [ -z "${CHATROOM_BIN:-}" ]; then
  say "building the server (cargo build --bin chatroom)"
  (cd "$REPO" && cargo build --bin chatroom)
fi

# Every server the tests start writes its PID here; whatever is still running at the end is ended,
# even if a test process itself was killed.
E2E_PID_FILE=$(mktemp "${TMPDIR:-/tmp}/chatroom-e2e-pids.XXXXXX")
export E2E_PID_FILE
cleanup() {
  while read -r pid; do
    if [ -n "$pid" ] && grep -qa chatroom "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  done <"$E2E_PID_FILE"
  rm -f "$E2E_PID_FILE"
}
trap cleanup EXIT

rm -rf "$E2E/screenshots"
mkdir -p "$E2E/screenshots"

say "running the browser tests"
status=0
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/); fi
timeout --kill-after=15 600 node --test --test-concurrency=2 --test-reporter=spec "${files[@]}" || status=$?

say "screenshots of every page at the end of every test: $E2E/screenshots ($(find "$E2E/screenshots" -name '*.png' | wc -l) files)"
exit "$status"
