#!/usr/bin/env bash
# Runs the Autobahn|Testsuite (its fuzzing client, every case but the compression ones, 12.* and
# 13.*: we speak no permessage-deflate) against chatroom's /echo endpoint, and fails if any case
# FAILED. Self-contained: installs the suite and its pinned dependencies
# (scripts/autobahn-requirements.txt) from PyPI into target/autobahn-env, with Python 2.7, which
# the suite needs.
#
#   scripts/autobahn.sh [OUTDIR]          (default OUTDIR: target/autobahn; OUTDIR/index.html)
#
# Python 2.7 is found as $PY27, pyenv's 2.7.*, or python2.7 on the PATH. Exits 3 if there is
# none (test.sh then says the suite was skipped), 1 if a case failed or the run broke.
set -euo pipefail
cd "$(dirname "$0")/.."
outdir="${1:-target/autobahn}"

py="${PY27:-}"
if [ -z "$py" ]; then
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7.*/bin/python2.7 "$(command -v python2.7 || true)"; do
    [ -x "$candidate" ] && { py="$candidate"; break; }
  done
fi
if [ -z "$py" ] || ! "$py" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; then
  echo "autobahn: no Python 2.7 (set PY27, or install one, e.g. with pyenv)" >&2
  exit 3
fi

# A user site of our own (PYTHONUSERBASE): pip installs there, and Python reads its .pth files
# (zope.interface needs them), without a virtualenv tool, which Python 2.7 lacks.
export PYTHONUSERBASE="$PWD/target/autobahn-env"
# Python 2 itself is deprecated, and each library says so on import: we know.
export PYTHONWARNINGS=ignore
requirements=scripts/autobahn-requirements.txt
stamp="$PYTHONUSERBASE/installed.txt"
if ! cmp -s "$requirements" "$stamp"; then
  echo "autobahn: installing the suite into $PYTHONUSERBASE (once)"
  "$py" -m pip install --quiet --user --no-warn-script-location --disable-pip-version-check \
    -r "$requirements" 2>&1 | grep -v -i "deprecation" || true
  "$py" -c 'import autobahntestsuite' || { echo "autobahn: the suite did not install" >&2; exit 1; }
  cp "$requirements" "$stamp"
fi

cargo build --release --quiet --bin chatroom
bin=target/release/chatroom
log="$(mktemp)"
spec="$(mktemp)"
# Autobahn's cases 9.* send messages of up to 16 MiB: lift the message limit for this run only.
"$bin" --bind 127.0.0.1:0 --echo --memory --max-message 16777216 >"$log" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log" "$spec"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
port="$(head -n1 "$log" | sed 's/.*://')"
[ -n "$port" ] || { echo "autobahn: chatroom did not start" >&2; exit 1; }

mkdir -p "$outdir"
cat >"$spec" <<JSON
{
  "outdir": "$outdir",
  "servers": [{"agent": "chatroom", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": ["*"],
  "exclude-cases": ["12.*", "13.*"],
  "exclude-agent-cases": {}
}
JSON
"$py" "$PYTHONUSERBASE/bin/wstest" --mode fuzzingclient --spec "$spec" >"$outdir/wstest.log" 2>&1 \
  || { tail -n 20 "$outdir/wstest.log" >&2; echo "autobahn: wstest failed" >&2; exit 1; }

# The verdicts, counted; any FAILED fails the run.
"$py" - "$outdir/index.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["chatroom"]
counts = {}
for case, result in sorted(results.items()):
    counts[result["behavior"]] = counts.get(result["behavior"], 0) + 1
    if result["behavior"] == "FAILED" or result["behaviorClose"] == "FAILED":
        print("autobahn: case %s FAILED" % case)
print("autobahn: %d cases: %s" % (len(results), ", ".join("%d %s" % (n, b) for b, n in sorted(counts.items()))))
sys.exit(1 if counts.get("FAILED") or any(r["behaviorClose"] == "FAILED" for r in results.values()) else 0)
PY
