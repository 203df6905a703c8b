#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (its own cargo workspace, nightly, cargo-fuzz with
# AddressSanitizer) for SECONDS each: `make test-fuzz` (a few seconds on the committed corpus)
# and `make fuzz` (FUZZ_SECONDS, default 300). New inputs go to target/fuzz-corpus/<target>, not
# to the committed seeds in fuzz/corpus/<target>; a crash stops the run, its input is left in
# fuzz/artifacts/<target>/ (docs/fuzzing.md says how to turn it into a regression test).
# Usage: scripts/fuzz.sh SECONDS [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?seconds per target}
shift
# The tools, installed when missing (CI's fresh machine has neither).
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cd fuzz
targets=("$@")
if [ "${#targets[@]}" = 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build
for t in "${targets[@]}"; do
  work=../target/fuzz-corpus/$t
  mkdir -p "$work"
  echo "fuzz: $t for ${seconds}s"
  log=$work.log
  # The first folder receives what the run finds; the committed seeds are only read.
  if ! cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- -max_total_time="$seconds" \
      -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $t failed; the input is in fuzz/artifacts/$t/, the log in target/fuzz-corpus/$t.log" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$log" | sed "s/^/  /" || true
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no failure"
