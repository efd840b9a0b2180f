#!/usr/bin/env bash
# The static executables to copy to other machines: chatroom for x86_64 and aarch64 Linux, each
# one file with glibc linked in (crt-static, not PIE), so it runs on any Linux of that machine.
#
#   scripts/release.sh            # build both into dist/, with dist/SHA256SUMS
#   scripts/release.sh --check    # ... then run each one (the foreign one under qemu-user):
#                                 #     --version, and a two-member chat over 127.0.0.1 (CI does this)
#   scripts/release.sh --help
#
# Output: dist/chatroom-VERSION-x86_64, dist/chatroom-VERSION-aarch64 (VERSION from Cargo.toml)
# and dist/SHA256SUMS (`cd dist && sha256sum -c SHA256SUMS` verifies them). Each is checked with
# file(1) to be a statically linked executable for its machine.
#
# Needs, besides cargo: the rustup targets (added if missing); for the architecture that is not
# this machine's, a cross gcc and its C library (Debian: gcc-aarch64-linux-gnu and
# libc6-dev-arm64-cross on x86_64; gcc-x86-64-linux-gnu and libc6-dev-amd64-cross on aarch64);
# file(1); and for --check, qemu-user (or qemu-user-static). Run as root on Debian, it installs
# what is missing with apt-get; otherwise it names what to install and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

check=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        -h | --help) usage 0 ;;
        *) echo "release.sh: unknown argument $arg" >&2; usage 2 ;;
    esac
done

say() { printf 'release.sh: %s\n' "$*"; }
die() { printf 'release.sh: %s\n' "$*" >&2; exit 1; }

ARCHES=(x86_64 aarch64)
host=$(uname -m)
[ "$host" = arm64 ] && host=aarch64

# Per architecture: Debian's name for it, and what file(1) calls its machine.
debian_arch() { case "$1" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; esac; }
file_machine() { case "$1" in x86_64) echo x86-64 ;; aarch64) echo "ARM aarch64" ;; esac; }
cross_gcc() { echo "$1-linux-gnu-gcc"; }
# Debian spells the x86_64 cross compiler's package with dashes: gcc-x86-64-linux-gnu.
cross_gcc_package() { echo "gcc-${1//_/-}-linux-gnu"; }
qemu_for() {
    command -v "qemu-$1" 2>/dev/null || command -v "qemu-$1-static" 2>/dev/null || true
}

# --- What is needed, and installing it -----------------------------------------------------------

missing=()
command -v file >/dev/null || missing+=(file)
for arch in "${ARCHES[@]}"; do
    [ "$arch" = "$host" ] && continue
    command -v "$(cross_gcc "$arch")" >/dev/null || missing+=("$(cross_gcc_package "$arch")")
    # The static C library for that machine (libc.a), which crt-static links in.
    [ -e "/usr/$arch-linux-gnu/lib/libc.a" ] || missing+=("libc6-dev-$(debian_arch "$arch")-cross")
    if [ "$check" -eq 1 ] && [ -z "$(qemu_for "$arch")" ]; then
        missing+=(qemu-user)
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]} (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})"
    fi
fi

if command -v rustup >/dev/null; then
    installed=$(rustup target list --installed)
    for arch in "${ARCHES[@]}"; do
        grep -qx "$arch-unknown-linux-gnu" <<<"$installed" || rustup target add "$arch-unknown-linux-gnu"
    done
fi

# --- Building ------------------------------------------------------------------------------------

# RUSTFLAGS from the environment would replace the target rustflags below: the build would come
# out dynamic. Those variables are for other builds.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET

pkgid=$(cargo pkgid -p chatroom)
version=${pkgid##*[#@]}
[ -n "$version" ] || die "cannot read the version from Cargo.toml ($pkgid)"

# Static, and a classic static executable rather than a static PIE (file(1) then says "statically
# linked", and nothing needs the dynamic loader). The explicit --target keeps these flags off the
# build scripts and proc macros (see .cargo/config.toml). Each target has its own directory,
# target/TRIPLE/release/, so this never rebuilds or replaces the native target/release/ build.
static_flags="-C target-feature=+crt-static -C relocation-model=static"

build() {
    local arch=$1 triple=$1-unknown-linux-gnu var
    var=$(tr 'a-z-' 'A-Z_' <<<"$triple")
    local env=("CARGO_TARGET_${var}_RUSTFLAGS=$static_flags")
    [ "$arch" = "$host" ] || env+=("CARGO_TARGET_${var}_LINKER=$(cross_gcc "$arch")")
    say "building $triple (release, static)"
    env "${env[@]}" cargo build --release --locked --quiet -p chatroom --bin chatroom --target "$triple"
}

mkdir -p dist
rm -f dist/chatroom-* dist/SHA256SUMS
for arch in "${ARCHES[@]}"; do
    build "$arch"
    cp "target/$arch-unknown-linux-gnu/release/chatroom" "dist/chatroom-$version-$arch"
done
(cd dist && sha256sum "${ARCHES[@]/#/chatroom-$version-}" >SHA256SUMS && sha256sum --quiet -c SHA256SUMS)

for arch in "${ARCHES[@]}"; do
    f="dist/chatroom-$version-$arch"
    what=$(file -b "$f")
    printf '  %s: %s\n' "$f" "$what"
    case "$what" in
        *executable*"$(file_machine "$arch")"*"statically linked"*) ;;
        *) die "$f is not a statically linked $(file_machine "$arch") executable" ;;
    esac
done
say "dist/SHA256SUMS:"
sed 's/^/  /' dist/SHA256SUMS

[ "$check" -eq 1 ] || exit 0

# --- Running them --------------------------------------------------------------------------------

# How to run a binary of that architecture here: directly, or under qemu-user.
runner() {
    if [ "$1" = "$host" ]; then
        return 0
    fi
    local qemu
    qemu=$(qemu_for "$1")
    [ -n "$qemu" ] || die "no qemu-$1 to run the $1 build (install qemu-user)"
    echo "$qemu"
}

# The terminal client (`chatroom join`) for the chat is this machine's own build.
client="dist/chatroom-$version-$host"
[ -x "$client" ] || die "no $host build to use as the chat client (this machine is $host)"

work=$(mktemp -d "${TMPDIR:-/tmp}/chatroom-release.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits until FILE has a line matching the regular expression, for at most SECONDS.
wait_for() {
    local file=$1 pattern=$2 deadline=$((SECONDS + $3))
    until grep -qE -- "$pattern" "$file" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Prints what every process of the chat said, then fails.
chat_failed() {
    local f
    for f in "$work"/*.out "$work"/*.err; do
        [ -e "$f" ] && { echo "--- $f"; cat "$f"; }
    done >&2
    die "$1"
}

# The server ARCH's build (emulated if foreign) on 127.0.0.1:0, with two clients: ann says
# something and bob must see it, then bob answers and ann must see that; both leave (end of
# input, close 1000), and the server stops on SIGTERM with status 0.
chat() {
    local arch=$1 bin="dist/chatroom-$version-$1" run url
    run=$(runner "$arch")
    rm -rf "${work:?}"/*
    # $run is empty (native) or the path of qemu.
    # shellcheck disable=SC2086
    timeout 120 $run "$bin" --bind 127.0.0.1:0 --memory >"$work/server.out" 2>"$work/server.err" &
    local server=$!
    pids+=("$server")
    wait_for "$work/server.out" '^chatroom listening on http://127\.0\.0\.1:[0-9]+$' 60 \
        || chat_failed "$arch: the server did not say where it listens"
    url=$(sed -n '1s/^chatroom listening on //p' "$work/server.out")

    # Each member reads its input from a FIFO, which this shell holds open for writing until the
    # member is to leave. The client is started before its FIFO is opened here, so that it does
    # not inherit that end (it would never see the end of its input); bob's end is closed for ann.
    mkfifo "$work/bob.in" "$work/ann.in"
    local bob_in ann_in bob ann
    timeout 60 "$client" join "$url/" --name bob <"$work/bob.in" >"$work/bob.out" 2>"$work/bob.err" &
    bob=$!
    pids+=("$bob")
    exec {bob_in}>"$work/bob.in"
    wait_for "$work/bob.out" '^\* You joined #lobby as bob\.$' 30 || chat_failed "$arch: bob did not get in"
    timeout 60 "$client" join "$url/" --name ann <"$work/ann.in" >"$work/ann.out" 2>"$work/ann.err" {bob_in}>&- &
    ann=$!
    pids+=("$ann")
    exec {ann_in}>"$work/ann.in"
    wait_for "$work/ann.out" '^\* You joined #lobby as ann\.$' 30 || chat_failed "$arch: ann did not get in"

    echo "hello from ann ($arch server)" >&"$ann_in"
    wait_for "$work/bob.out" " ann: hello from ann \($arch server\)$" 30 \
        || chat_failed "$arch: bob did not get ann's message"
    echo "hello ann, bob here" >&"$bob_in"
    wait_for "$work/ann.out" ' bob: hello ann, bob here$' 30 \
        || chat_failed "$arch: ann did not get bob's answer"

    exec {ann_in}>&- {bob_in}>&-
    wait "$ann" || chat_failed "$arch: ann's client exited with status $?"
    wait "$bob" || chat_failed "$arch: bob's client exited with status $?"
    kill -TERM "$server"
    wait "$server" || chat_failed "$arch: the server exited with status $? on SIGTERM"
    pids=()
    say "$arch: two members chatted over $url$([ -n "$run" ] && echo " (server under $(basename "$run"))")"
}

for arch in "${ARCHES[@]}"; do
    bin="dist/chatroom-$version-$arch"
    run=$(runner "$arch")
    # shellcheck disable=SC2086
    got=$(timeout 60 $run "$bin" --version) || die "$bin --version failed"
    [ "$got" = "chatroom $version" ] || die "$bin --version said \"$got\", not \"chatroom $version\""
    say "$arch: --version: $got$([ -n "$run" ] && echo " (under $(basename "$run"))")"
done
for arch in "${ARCHES[@]}"; do
    chat "$arch"
done
say "checked: ${ARCHES[*]}"
