#!/usr/bin/env bash
# Release cdylib size for this host: built with the release profile (size-first, LTO), bindings
# generated from it while it still has its metadata, then stripped as an app would ship it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked --release -p tierspay-core
cargo build --quiet --locked -p tierspay-uniffi-bindgen
lib=target/release/libtierspay_core.so
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
target/debug/uniffi-bindgen generate "$lib" -l kotlin -o "$out" --no-format >/dev/null
cp "$lib" "$out/lib.so"
strip --strip-unneeded "$out/lib.so"
before=$(stat -c %s "$lib"); after=$(stat -c %s "$out/lib.so")
printf 'release cdylib (%s): %s bytes as built, %s bytes stripped (%.2f MB; budget 8 MB)\n' \
  "$(uname -m)" "$before" "$after" "$(echo "$after / 1000000" | bc -l)"
