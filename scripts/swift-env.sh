#!/usr/bin/env bash
# Runs the Swift shell's commands with a Swift 6 toolchain.
#
# Uses `swift` from PATH when there is a real one (a Mac, or a Linux box with Swift). Otherwise
# it builds, once, a Debian trixie root folder with `swiftlang` (Debian 12 has no Swift, and
# trixie's swiftlang needs a newer C library) outside the repo, reuses it between runs and
# clones, and runs the command there with chroot.
#
#   scripts/swift-env.sh prepare              make sure a toolchain is there (builds the root once)
#   scripts/swift-env.sh test [ARGS...]       `swift test` for ios/ against target/debug and tierspay-mock
#   scripts/swift-env.sh bench                FFI cost benchmark (release Swift, release core)
#   scripts/swift-env.sh lint                 swift-format lint --strict (ios/.swift-format) on our Swift
#   scripts/swift-env.sh format               swift-format format --in-place on the same files
#   scripts/swift-env.sh run DIR CMD...       run CMD in DIR with the toolchain
#   scripts/swift-env.sh clean-mounts         unmount anything a killed run left under the root
#
# Environment: TIERSPAY_SWIFT_ROOT (root folder, default ~/.cache/tierspay/swift-trixie),
# TIERSPAY_MOCK_BIN (default target/debug/tierspay-mock), TIERSPAY_SWIFT_FORCE_ROOT=1 (use the
# root folder even when swift is on PATH).
#
# Mounts: in the root folder, each run gets its own mount and PID namespaces (unshare), so its
# mounts (/proc, the repo) vanish when it ends, whatever way it ends, concurrent runs do not
# see each other's mounts, and every process it started (tierspay-mock included) is killed with
# it. Where unshare is refused, the mounts go in the host namespace under a lock and a trap
# removes them. Either way, mounts a killed run of an older version left behind are removed first.
set -euo pipefail

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SELF")/.." && pwd -P)"
ROOT="${TIERSPAY_SWIFT_ROOT:-$HOME/.cache/tierspay/swift-trixie}"
LOCK="$ROOT.lock"
ARGS=("$@") # for a re-run with sudo
# CI may start us with stdin closed; commands below pass stdin on, so make sure it is open.
( exec 3<&0 ) 2>/dev/null || exec </dev/null
# What the root folder holds. Bump ROOT_VERSION when the list changes: an older root gets the
# missing packages with apt inside it, it is not rebuilt.
ROOT_PACKAGES="swiftlang,libswiftlang,binutils,gcc,libc6-dev"
ROOT_VERSION=1

say() { echo "swift-env: $*" >&2; }
die() { say "$*"; exit 1; }

host_swift() {
  [ -z "${TIERSPAY_SWIFT_FORCE_ROOT:-}" ] || return 1
  command -v swift >/dev/null 2>&1 || return 1
  # OpenStack's client is also called `swift`; only a Swift toolchain says "Swift version".
  swift --version 2>&1 | grep -q "Swift version"
}

# Not root: a developer's machine. Re-run with sudo (chroot and mount need it); files the
# toolchain writes in the repo stay the developer's (see --userspec below).
need_root() {
  [ "$(id -u)" = 0 ] && return 0
  if command -v sudo >/dev/null 2>&1; then
    say "no Swift on PATH: the trixie root folder needs root; re-running with sudo"
    exec sudo TIERSPAY_SWIFT_ROOT="$ROOT" TIERSPAY_MOCK_BIN="${TIERSPAY_MOCK_BIN:-}" \
      TIERSPAY_SWIFT_FORCE_ROOT="${TIERSPAY_SWIFT_FORCE_ROOT:-}" CI="${CI:-}" "$SELF" "${ARGS[@]}"
  fi
  die "no swift on PATH and not root: install Swift (swift.org) or run this as root"
}

# Mount points under $1 in this (host) namespace, deepest first.
mounts_under() {
  awk -v p="$1/" '{ if (index($5 "/", p) == 1) print $5 }' /proc/self/mountinfo | sort -r
}

# Unmounts what a killed run (or an interrupted debootstrap) left under $1. Skipped while a
# run of the host-namespace fallback holds the lock, since those mounts are then in use.
clean_stale_mounts() {
  local dir="$1" m
  [ -n "$(mounts_under "$dir")" ] || return 0
  mkdir -p "$(dirname "$LOCK")"
  exec 8>"$LOCK"
  if ! flock -n 8; then exec 8>&-; return 0; fi
  while read -r m; do
    [ -n "$m" ] || continue
    say "unmounting leftover $m"
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done < <(mounts_under "$dir")
  exec 8>&-
}

# rm -rf that never crosses into a mount (a leftover bind of the repo or of /proc).
remove_tree() {
  local dir="$1"
  [ -e "$dir" ] || return 0
  clean_stale_mounts "$dir"
  [ -z "$(mounts_under "$dir")" ] || die "$dir still has mounts; not removing it"
  rm -rf --one-file-system "$dir"
}

# The root is complete (marker written after debootstrap) and has swift. /usr/bin/swift is an
# absolute symlink (/usr/libexec/swift/bin/swift): resolve it inside the root, not on the host.
root_ready() {
  [ -f "$ROOT/.tierspay-ready" ] || return 1
  local swift="$ROOT/usr/bin/swift" hops=0 target
  while [ -L "$swift" ] && [ $hops -lt 10 ]; do
    target="$(readlink "$swift")"
    case "$target" in /*) swift="$ROOT$target" ;; *) swift="$(dirname "$swift")/$target" ;; esac
    hops=$((hops + 1))
  done
  [ -f "$swift" ] && [ -x "$swift" ]
}

build_root() {
  need_root
  export DEBIAN_FRONTEND=noninteractive
  if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "no swift, no debootstrap and no apt-get: install Swift"
    say "installing debootstrap"
    apt-get update -qq
    apt-get install -y -qq debootstrap debian-archive-keyring >/dev/null ||
      apt-get install -y -qq debootstrap >/dev/null
  fi
  local keyring=()
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
    keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  local tmp="$ROOT.partial"
  remove_tree "$ROOT"
  remove_tree "$tmp"
  mkdir -p "$(dirname "$ROOT")"
  say "building a Debian trixie root with swiftlang in $ROOT (once: ~450 MB download, ~2 GB)"
  # Into a side folder, renamed when complete: an interrupted build is never taken for a root.
  if ! debootstrap --variant=minbase --include="$ROOT_PACKAGES" "${keyring[@]}" \
      trixie "$tmp" "${TIERSPAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$ROOT.log" 2>&1; then
    clean_stale_mounts "$tmp"
    say "debootstrap failed; see $ROOT.log"
    tail -20 "$ROOT.log" >&2
    exit 1
  fi
  clean_stale_mounts "$tmp"
  echo "$ROOT_VERSION" >"$tmp/.tierspay-ready"
  mv "$tmp" "$ROOT"
}

# A root built by an older version of this script: add the packages it lacks.
upgrade_root() {
  local have
  have="$(cat "$ROOT/.tierspay-ready" 2>/dev/null || true)"
  [ -n "$have" ] || have=1 # the first version of this script wrote an empty marker
  [ "$have" -ge "$ROOT_VERSION" ] 2>/dev/null && return 0
  need_root
  say "adding packages to the root folder (version ${have:-0} -> $ROOT_VERSION)"
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  in_root / /bin/sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends $(echo "$ROOT_PACKAGES" | tr , ' ') >/dev/null"
  echo "$ROOT_VERSION" >"$ROOT/.tierspay-ready"
}

prepare() {
  host_swift && return 0
  root_ready || build_root
  upgrade_root
}

unshare_works() {
  [ -z "${TIERSPAY_SWIFT_NO_UNSHARE:-}" ] || return 1
  unshare --mount --pid --fork --propagation private true 2>/dev/null
}

# Waits for a background child, through signals, and returns its exit status.
wait_child() {
  local pid="$1" rc
  while :; do
    rc=0
    wait "$pid" || rc=$?
    kill -0 "$pid" 2>/dev/null || break # gone (reaped): rc is its status
  done
  return "$rc"
}

# Runs CMD in DIR inside the root folder, with the repo (and DIR) bind-mounted at their own
# paths, so paths in messages and in ios/.build are the same inside and out.
in_root() {
  local dir="$1"; shift
  need_root
  clean_stale_mounts "$ROOT"
  local pid
  if unshare_works; then
    # unshare ignores SIGINT/SIGTERM while its child runs; SIGKILL it and --kill-child takes
    # the whole PID namespace (tierspay-mock included) and its mounts down with it.
    unshare --mount --pid --fork --kill-child --propagation private -- \
      bash "$SELF" __inside ns "$dir" "$@" <&0 &
    pid=$!
    trap 'kill -KILL "$pid" 2>/dev/null' INT TERM HUP
  else
    mkdir -p "$(dirname "$LOCK")"
    exec 9>"$LOCK"
    flock 9 # one run at a time: the mounts are shared with the host in this mode
    bash "$SELF" __inside host "$dir" "$@" <&0 &
    pid=$!
    trap 'kill -TERM "$pid" 2>/dev/null' INT TERM HUP
  fi
  wait_child "$pid"
}

# Runs in the new namespaces (or under the lock): mounts, chroot, and unmounts on any exit.
inside() {
  local mode="$1" dir="$2"; shift 2
  MOUNTED=()
  CHILD=""
  cleanup() {
    set +e # best effort: every step runs whatever the previous one did
    local i
    # The command's process group could outlive us (host mode): end it first.
    if [ -n "$CHILD" ]; then
      kill -TERM -- "-$CHILD" 2>/dev/null
      wait "$CHILD" 2>/dev/null
    fi
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
      umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null || true
    done
    MOUNTED=()
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  if [ "$mode" = ns ]; then
    mount -t proc proc "$ROOT/proc" # our own PID namespace: a /proc showing only this run
    # A /tmp of this run's own, gone with it (SwiftPM and the tests leave files there).
    mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp" && MOUNTED+=("$ROOT/tmp")
  else
    mountpoint -q "$ROOT/proc" && umount -l "$ROOT/proc"
    mount --bind /proc "$ROOT/proc"
  fi
  MOUNTED+=("$ROOT/proc")
  # The repo, plus DIR when it lies outside it ("/" means the root's own /: nothing to add).
  local binds=("$REPO") d
  case "$dir" in
    / | "$REPO" | "$REPO"/*) ;;
    /bin* | /boot* | /dev* | /etc* | /lib* | /proc* | /sbin* | /sys* | /usr* | /var/lib*)
      echo "swift-env: refusing to bind-mount the system folder $dir" >&2; exit 2 ;;
    *) binds+=("$dir") ;;
  esac
  for d in "${binds[@]}"; do
    mkdir -p "$ROOT$d"
    mountpoint -q "$ROOT$d" && umount -l "$ROOT$d"
    mount --bind "$d" "$ROOT$d"
    MOUNTED+=("$ROOT$d")
  done
  # Run as the developer who called sudo, so ios/.build stays theirs.
  local user=()
  [ -n "${SUDO_UID:-}" ] && [ "${SUDO_UID}" != 0 ] && user=(--userspec="$SUDO_UID:$SUDO_GID")
  # In the background (so signals are handled at once) and in its own process group.
  setsid -w chroot "${user[@]}" "$ROOT" /usr/bin/env -i \
    HOME=/var/tmp TMPDIR=/tmp LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
    CI="${CI:-}" TERM="${TERM:-dumb}" \
    LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" \
    TIERSPAY_MOCK_BIN="${TIERSPAY_MOCK_BIN:-}" \
    TIERSPAY_CORE_LIB_DIR="${TIERSPAY_CORE_LIB_DIR:-}" \
    /bin/bash -c 'cd "$1" && shift && exec "$@"' _ "$dir" "$@" <&0 &
  CHILD=$!
  local rc=0
  wait_child "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

# Runs CMD in DIR with whichever toolchain there is.
run_in() {
  local dir
  dir="$(cd "$1" && pwd -P)"; shift
  if host_swift; then
    (cd "$dir" && "$@")
  else
    prepare
    in_root "$dir" "$@"
  fi
}

check_bindings() {
  local f
  for f in ios/Sources/TiersPayFFI/TiersPayFFI.h ios/Sources/TiersPayFFI/module.modulemap \
           ios/Sources/TiersPayCore/TiersPayCore.swift; do
    [ -f "$REPO/$f" ] || die "$f is missing: run \`make bindings\` first"
  done
}

lib_name() { [ "$(uname -s)" = Darwin ] && echo libtierspay_core.dylib || echo libtierspay_core.so; }

# A snapshot of the core library under ios/.build, taken when the run starts: cargo runs of
# other people on the same target/ (which delete and relink target/debug/libtierspay_core.so)
# cannot pull it from under a test run. A hard link, so it costs nothing; a copy across
# file systems.
snapshot_lib() {
  local from="$1" to="$2" name try
  name="$(lib_name)"
  mkdir -p "$to"
  for try in 1 2 3 4 5; do
    if [ -f "$from/$name" ]; then
      ln -f "$from/$name" "$to/$name" 2>/dev/null || cp -f "$from/$name" "$to/$name" && return 0
    fi
    sleep 1
  done
  die "$from/$name is missing: run \`make bindings\`"
}

cmd_test() {
  check_bindings
  export TIERSPAY_MOCK_BIN="${TIERSPAY_MOCK_BIN:-$REPO/target/debug/tierspay-mock}"
  [ -x "$TIERSPAY_MOCK_BIN" ] || die "$TIERSPAY_MOCK_BIN is missing: cargo build -p tierspay-server-mock"
  local lib="$REPO/ios/.build/tierspay-core/debug"
  # `make test-swift` names the checked copy `make bindings` made (TIERSPAY_CORE_BUILD_DIR).
  snapshot_lib "${TIERSPAY_CORE_BUILD_DIR:-$REPO/target/debug}" "$lib"
  export TIERSPAY_CORE_LIB_DIR="$lib"
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export DYLD_LIBRARY_PATH="$lib${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}"
  run_in "$REPO/ios" swift test --disable-swift-testing "$@"
}

# The benchmark builds the Swift side in release mode and runs against the release core (same
# source and bindings as the debug one): TIERSPAY_BENCH_LIB_DIR=target/debug to compare.
cmd_bench() {
  check_bindings
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the release core"
  # `testing`: the benchmark uses the core's software secure storage and device key.
  (cd "$REPO" && cargo rustc -p tierspay-core --lib --crate-type cdylib --release --locked -q --features testing &&
    cargo build -p tierspay-server-mock --locked -q)
  export TIERSPAY_MOCK_BIN="${TIERSPAY_MOCK_BIN:-$REPO/target/debug/tierspay-mock}"
  local lib="$REPO/ios/.build/tierspay-core/bench"
  snapshot_lib "${TIERSPAY_BENCH_LIB_DIR:-$REPO/target/release}" "$lib"
  export TIERSPAY_CORE_LIB_DIR="$lib" LD_LIBRARY_PATH="$lib" DYLD_LIBRARY_PATH="$lib"
  run_in "$REPO/ios" swift run -c release TiersPayBench "$@"
}

# The Swift we write: everything under ios/ but the generated bindings (Sources/TiersPayCore,
# Sources/TiersPayFFI, not committed) and build outputs. Relative to ios/.
swift_sources() {
  (cd "$REPO/ios" && find Package.swift Sources Tests App -name '*.swift' \
    -not -path 'Sources/TiersPayCore/*' -not -path 'Sources/TiersPayFFI/*' -not -path '*/.build/*' | sort)
}

# swift-format with ios/.swift-format: `swift format` of a Swift on PATH (Swift 6 ships it), or
# the trixie toolchain's own binary in the root folder.
swift_format() {
  local files
  mapfile -t files < <(swift_sources)
  if host_swift; then
    (cd "$REPO/ios" && swift format "$@" --configuration .swift-format "${files[@]}")
  else
    prepare
    in_root "$REPO/ios" /usr/libexec/swift/bin/swift-format "$@" --configuration .swift-format "${files[@]}"
  fi
}

case "${1:-}" in
  prepare) shift; prepare ;;
  lint) shift; swift_format lint --strict "$@" ;;
  format) shift; swift_format format --in-place "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  run) shift; [ $# -ge 2 ] || die "usage: $0 run DIR CMD..."; run_in "$@" ;;
  clean-mounts) need_root; clean_stale_mounts "$ROOT" ;;
  __inside) shift; inside "$@" ;;
  *) echo "usage: $0 prepare | test [swift test args] | bench | lint | format | run DIR CMD... | clean-mounts" >&2; exit 2 ;;
esac
