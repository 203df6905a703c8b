#!/usr/bin/env bash
# Runs a command with a Swift 6 toolchain. Uses `swift` from PATH when there is one (a Mac, or a
# Linux box with Swift); otherwise builds a Debian trixie root folder once (Debian 12 has no
# Swift, and trixie's swiftlang needs a newer libc) and reuses it between runs and clones.
#
#   scripts/swift-env.sh prepare            # make sure a toolchain is there
#   scripts/swift-env.sh run DIR CMD...     # run CMD in DIR (bind-mounted into the root if needed)
set -euo pipefail

ROOT="${TIERSPAY_SWIFT_ROOT:-$HOME/.cache/tierspay/swift-trixie}"

have_host_swift() { command -v swift >/dev/null 2>&1; }

prepare() {
  if have_host_swift; then return 0; fi
  if [ -x "$ROOT/usr/bin/swift" ] && [ -f "$ROOT/.tierspay-ready" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "swift-env: no swift on PATH and not root: cannot build the trixie root folder" >&2
    exit 1
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    echo "swift-env: installing debootstrap" >&2
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  }
  echo "swift-env: building a Debian trixie root with swiftlang in $ROOT (once, ~2 GB)" >&2
  rm -rf "$ROOT"
  mkdir -p "$(dirname "$ROOT")"
  debootstrap --variant=minbase --include=swiftlang,libswiftlang,binutils,gcc,libc6-dev \
    trixie "$ROOT" http://deb.debian.org/debian >"$ROOT.log" 2>&1 || {
    echo "swift-env: debootstrap failed; see $ROOT.log" >&2
    tail -20 "$ROOT.log" >&2
    exit 1
  }
  touch "$ROOT/.tierspay-ready"
}

run_in() {
  local dir="$1"; shift
  if have_host_swift; then
    (cd "$dir" && "$@")
    return
  fi
  prepare
  local mnt="$ROOT/work"
  mkdir -p "$mnt"
  # Bind the repo and /proc for the duration of the command only.
  mountpoint -q "$ROOT/proc" || mount --bind /proc "$ROOT/proc"
  mountpoint -q "$mnt" || mount --bind "$dir" "$mnt"
  local rc=0
  chroot "$ROOT" env -i HOME=/tmp PATH=/usr/bin:/bin LD_LIBRARY_PATH=/work/lib \
    TIERSPAY_MOCK_BIN="${TIERSPAY_MOCK_BIN:-}" bash -c 'cd /work && "$@"' _ "$@" || rc=$?
  umount "$mnt" || true
  umount "$ROOT/proc" || true
  return $rc
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run_in "$@" ;;
  *) echo "usage: $0 prepare | run DIR CMD..." >&2; exit 2 ;;
esac
