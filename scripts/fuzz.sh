#!/usr/bin/env bash
# Builds chatroom's cargo-fuzz targets (fuzz/) and runs each one for a while.
#
#   scripts/fuzz.sh                  # build, then run every target for 60 s
#   scripts/fuzz.sh 600              # ... for 600 s each
#   scripts/fuzz.sh 600 head         # only the `head` target
#   scripts/fuzz.sh --build-only     # build every target, run none (what CI does)
#
# Works on the stable toolchain: cargo-fuzz needs unstable rustc flags (-Zsanitizer=address and
# friends), which RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz if it is missing.
# Runs are `nice -n 19` (the machine is shared). New corpus entries go to fuzz/corpus/TARGET
# (git-ignored), crashes to fuzz/artifacts/TARGET (git-ignored). Exits non-zero if any target
# failed to build or found a crash. See fuzz/README.md.
set -euo pipefail

CARGO_FUZZ_VERSION="0.13.2"

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

build_only=0
seconds=60
targets=()
for arg in "$@"; do
    case "$arg" in
        --build-only) build_only=1 ;;
        -h | --help) usage 0 ;;
        -*) echo "fuzz.sh: unknown option $arg" >&2; usage 2 ;;
        *[!0-9]*) targets+=("$arg") ;;
        *) seconds="$arg" ;;
    esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
cargo fuzz --version

if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

# One build of every target (release, debug assertions and overflow checks on, AddressSanitizer).
# cargo-fuzz sets RUSTFLAGS (which would replace any [target.*] rustflags; the root
# .cargo/config.toml sets none) and passes --target for the host explicitly.
echo "fuzz.sh: building every fuzz target"
cargo fuzz build

if [ "$build_only" -eq 1 ]; then
    echo "fuzz.sh: built ${#targets[@]} fuzz targets: ${targets[*]}"
    exit 0
fi

# Each target's dictionary and seeds (`route` reads request heads, like `head`).
dict_for() {
    case "$1" in
        head | route) echo "$root/fuzz/dicts/http.dict" ;;
        inbound) echo "$root/fuzz/dicts/json.dict" ;;
        format) echo "$root/fuzz/dicts/format.dict" ;;
        history_tail) echo "$root/fuzz/dicts/history.dict" ;;
    esac
}
seeds_for() {
    case "$1" in
        route) echo "$root/fuzz/seeds/head" ;;
        *) echo "$root/fuzz/seeds/$1" ;;
    esac
}

failed=()
for target in "${targets[@]}"; do
    corpus="$root/fuzz/corpus/$target"
    seeds="$(seeds_for "$target")"
    mkdir -p "$corpus"
    args=(-max_total_time="$seconds" -print_final_stats=1)
    dict="$(dict_for "$target")"
    [ -n "$dict" ] && args+=(-dict="$dict")
    # `route` logs a line per wrong access code and `history_tail` one per corrupt log line:
    # silence the target's stderr (libFuzzer's own output stays). Replay a crash input to see
    # its panic message.
    case "$target" in route | history_tail) args+=(-close_fd_mask=2) ;; esac
    corpora=("$corpus")
    [ -d "$seeds" ] && corpora+=("$seeds")
    echo "fuzz.sh: running $target for ${seconds}s"
    if nice -n 19 cargo fuzz run "$target" "${corpora[@]}" -- "${args[@]}"; then
        echo "fuzz.sh: $target: no crash in ${seconds}s"
    else
        echo "fuzz.sh: $target: FAILED (see fuzz/artifacts/$target)" >&2
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${seconds}s each, no crash"
