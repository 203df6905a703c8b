#!/usr/bin/env bash
# Issuing authorizations under a fixed open-loop rate: bench/loadgen's auth-tap scenario taps a
# card at a doctor's (POST /v1/test_helpers/issuing/authorizations) at BENCH_AUTH_RATE per second
# for BENCH_AUTH_DURATION, each latency measured from its intended send time (no coordinated
# omission) into an HdrHistogram; every tap goes through the real-time decision webhook.
# Method: docs/benchmarks.md ("Authorizations at a fixed rate").
#
# Environment (defaults in brackets):
#   BENCH_AUTH_RATE [1000]        taps per second
#   BENCH_AUTH_DURATION [60s]     measured time
#   BENCH_AUTH_CONNECTIONS [64]   connections serving the timetable
#   BENCH_AUTH_HOOK [local]       local: loadgen's own loopback receiver approves (the platform's
#                                 endpoint is disabled for the run); platform: the server's own
#                                 /v1/platform/psp_events decides
#   BENCH_AUTH_WARMUP [2s]        unrecorded closed-loop warm-up
#   BENCH_SKIP_BUILD [unset]      1: use the existing release binary
#   BENCH_AUTH_SAMPLES [unset]    a file for every measured tap as CSV (finished_ms,latency_us,
#                                 status), to place slow taps in time
#   BENCH_AUTH_PROBE [unset]      a command run beside the load (sh -c), with the server's pid
#                                 in $TIERSPAY_MOCK_PID: `perf record -p`, `strace -p`, a
#                                 /proc/<pid>/sched reader; waited for after the run
#   TIERSPAY_LOG [warn]           the server's log filter (at info it formats and writes a line
#                                 per request, work that grows with the rate)
#   TIERSPAY_MOCK [target/release/tierspay-mock], BENCH_OUT [target/bench]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rate=${BENCH_AUTH_RATE:-1000}
duration=${BENCH_AUTH_DURATION:-60s}
conns=${BENCH_AUTH_CONNECTIONS:-64}
hook=${BENCH_AUTH_HOOK:-local}
warmup=${BENCH_AUTH_WARMUP:-2s}
out_dir=${BENCH_OUT:-target/bench}
case "$out_dir" in /*) ;; *) out_dir=$root/$out_dir ;; esac
say() { printf '%s\n' "$*" >&2; }
die() { say "bench-auth: $*"; exit 1; }
command -v go >/dev/null || die "Go is needed for the load generator"
mkdir -p "$out_dir"

(cd bench/loadgen && go build -o "$out_dir/loadgen" .)
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  say "building tierspay-mock (release)"
  cargo build --release -p tierspay-server-mock --locked
fi
tierspay_mock=${TIERSPAY_MOCK:-$root/target/release/tierspay-mock}
[ -x "$tierspay_mock" ] || die "no tierspay-mock at $tierspay_mock"

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
TIERSPAY_LOG=${TIERSPAY_LOG:-warn} "$tierspay_mock" serve --addr 127.0.0.1:0 --db "$work/auth.db" --test-helpers >"$work/out" 2>"$work/err" &
pid=$!
url=
for _ in $(seq 300); do
  url=$(sed -n 's/^tierspay-mock listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/out" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; die "tierspay-mock exited at start"; }
  sleep 0.1
done
[ -n "$url" ] || die "tierspay-mock did not say where it listens"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$out_dir/auth-$stamp.jsonl
say "tierspay-mock on $url; $rate taps/s for $duration over $conns connections, hook: $hook"
extra=()
[ -n "${BENCH_AUTH_SAMPLES:-}" ] && extra+=(-samples "$BENCH_AUTH_SAMPLES")
probe=
if [ -n "${BENCH_AUTH_PROBE:-}" ]; then
  TIERSPAY_MOCK_PID=$pid sh -c "$BENCH_AUTH_PROBE" &
  probe=$!
fi
"$out_dir/loadgen" run -url "$url" -server tierspay-mock -scenario auth-tap -hook "$hook" \
  -rate "$rate" -duration "$duration" -c "$conns" -warmup "$warmup" -tag "auth-$hook" "${extra[@]}" >>"$results"
[ -n "$probe" ] && { wait "$probe" || true; }
say "JSON line: $results"
