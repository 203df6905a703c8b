#!/usr/bin/env bash
# Release cdylib size for this host, built as `make android` builds it: the release profile
# (size-first, LTO), the default features (no `testing`), and the cdylib on its own (linked beside
# the rlib, the core's public Rust items stay exported and LTO cannot drop them: 0.9 MB more).
# Bindings are generated from it while it still has its metadata, then it is stripped as an app
# would ship it. Fails when the stripped library is over budget, or when a test double (a
# simulator, a software platform service) is exported by the library or named by its bindings.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=4500000
cargo rustc --quiet --locked --release -p tierspay-core --lib --crate-type cdylib
cargo build --quiet --locked -p tierspay-uniffi-bindgen
lib=target/release/libtierspay_core.so
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
target/debug/uniffi-bindgen generate "$lib" -l kotlin -o "$out/kotlin" --no-format >/dev/null
target/debug/uniffi-bindgen generate "$lib" -l swift -o "$out/swift" --no-format >/dev/null
cp "$lib" "$out/lib.so"
strip --strip-unneeded "$out/lib.so"
before=$(stat -c %s "$lib"); after=$(stat -c %s "$out/lib.so")
printf 'release cdylib (%s): %s bytes as built, %s bytes stripped (%.2f MB; budget %.1f MB)\n' \
  "$(uname -m)" "$before" "$after" "$(echo "$after / 1000000" | bc -l)" "$(echo "$budget / 1000000" | bc -l)"

status=0
# What only the `testing` feature may bring: the symbols in the library, the names in bindings.
symbols='passkitsimulator|simulatedpass|software_device_key|memory_secure_storage'
names='PassKitSimulator|SimulatedPass|softwareDeviceKey|memorySecureStorage'
if found=$(nm -D --defined-only "$out/lib.so" | grep -Ei "$symbols"); then
  echo "size: test doubles exported by the default build (build them with --features testing only):" >&2
  echo "$found" | sed 's/^/  /' >&2
  status=1
fi
if found=$(grep -rlE "$names" "$out/kotlin" "$out/swift"); then
  echo "size: test doubles named in the default build's bindings:" >&2
  echo "$found" | sed "s|^$out/|  |" >&2
  status=1
fi
if [ "$status" = 0 ]; then
  echo "no simulator or software platform service in the default build (nm -D, Kotlin and Swift bindings)"
fi
if [ "$after" -gt "$budget" ]; then
  echo "size: the stripped library is over its budget of $budget bytes" >&2
  status=1
fi
exit "$status"
