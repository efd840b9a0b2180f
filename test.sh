#!/usr/bin/env bash
# Runs every check the project has. This is the README's test command, and what CI runs.
#   build (release, native) → static executables for x86_64 and aarch64 (scripts/release.sh --check;
#   the foreign one runs under qemu-user) → unit + integration tests → clippy → cargo doc → rustfmt
#   → Autobahn (if Python 2.7) → fuzz targets built → benchmark smoke → browser end-to-end tests
#   (installs Debian's Chromium and the npm packages if missing)
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "build (release, native: what cargo run --release runs)"
cargo build --release --workspace --bins

step "static executables for x86_64 and aarch64 (scripts/release.sh --check: --version and a chat, the foreign one under qemu-user)"
scripts/release.sh --check

step "unit and integration tests"
cargo test --workspace

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "docs (cargo doc, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items --workspace

step "rustfmt"
cargo fmt --all --check

step "Autobahn|Testsuite against /echo (installs the suite for Python 2.7 on first use)"
status=0
scripts/autobahn.sh target/autobahn || status=$?
case $status in
  0) ;;
  3) echo "skipped: no Python 2.7 on this machine (the suite needs it; set PY27 to point at one)" ;;
  *) exit "$status" ;;
esac

step "fuzz targets build (cargo fuzz, on stable with RUSTC_BOOTSTRAP=1)"
scripts/fuzz.sh --build-only

step "benchmark smoke run (a few hundred clients, zero loss asserted)"
bench/run.sh --smoke

step "browser end-to-end tests (Debian Chromium + playwright-core)"
CHATROOM_BIN="$PWD/target/release/chatroom" e2e/run.sh

printf '\nall checks passed\n'
