#!/bin/sh
# A BENCH_AUTH_PROBE for scripts/bench-auth.sh: the server's CPU time (ticks of 10 ms), bytes
# and write calls issued (sockets and files alike: /proc/<pid>/io's wchar, syscw) over
# PROBE_SECONDS (15) of the measured run, after the warm-up. Divide by the taps of the run.
#   BENCH_AUTH_PROBE=bench/auth-cpu-probe.sh BENCH_AUTH_DURATION=15s scripts/bench-auth.sh
p=$TIERSPAY_MOCK_PID
secs=${PROBE_SECONDS:-15}
read_counters() {
  awk '{print $14+$15}' "/proc/$p/stat"
  awk '/^wchar/{print $2} /^syscw/{print $2}' "/proc/$p/io"
}
sleep "${PROBE_DELAY:-2.5}"
set -- $(read_counters)
sleep "$secs"
set -- "$@" $(read_counters)
echo "probe: over ${secs}s cpu_ticks=$(($4 - $1)) written_bytes=$(($5 - $2)) write_calls=$(($6 - $3))" >&2
