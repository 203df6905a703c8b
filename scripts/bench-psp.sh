#!/usr/bin/env bash
# tierspay-mock's PSP against its peers, all on loopback, driven by bench/loadgen: Stripe's own
# mock (stripe-mock) on Issuing card create and card retrieve, and localstripe (PyPI, installed
# into a venv under target/bench/) on a PaymentIntent created, confirmed for manual capture and
# captured. localstripe has no Issuing and stripe-mock keeps no state (its intent is a fixture that
# cannot be held for capture), so each scenario runs against the peer that implements it.
# Closed loop at 1 and 16 connections (max throughput), open loop at a fixed rate (latency
# without coordinated omission), each run repeated with the servers' order alternating; then one
# long card-create run on a fresh database to see whether throughput holds as the idempotency
# table grows. Prints markdown tables; keeps the JSON lines under target/bench/.
# Method and how to read the figures: docs/benchmarks.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [10s]          measured time of each run (Go duration, or plain seconds)
#   BENCH_RUNS [3]                repetitions of each run
#   BENCH_CONNECTIONS ["1 16"]    closed-loop connection counts
#   BENCH_SCENARIOS ["card-create card-retrieve payment-intent"]
#   BENCH_WARMUP [1s]             unrecorded closed-loop warm-up before each run
#   BENCH_OPEN_RATE [100]         open-loop target req/s of the card scenarios (0: no open-loop runs)
#   BENCH_PI_OPEN_RATE [10]       open-loop target operations/s of payment-intent (localstripe
#                                 sustains about that on 2 cores; 0: none)
#   BENCH_OPEN_CONNECTIONS [16]   connections serving the open-loop timetable
#   BENCH_GROWTH_DURATION [60s]   long card-create run on a fresh database (0: skip)
#   BENCH_GROWTH_CONNECTIONS [16]
#   BENCH_GROWTH_CONTROL [1]      also run the long run against stripe-mock (machine drift control)
#   BENCH_SKIP_BUILD [unset]      1: do not run cargo, use the existing release binary
#   TIERSPAY_MOCK [target/release/tierspay-mock], STRIPE_MOCK [found on PATH or in GOPATH/bin]
#   LOCALSTRIPE_VERSION [1.15.10] pip installs it into BENCH_OUT/localstripe-venv once
#   BENCH_OUT [target/bench]      where the loadgen binary, JSON lines and tables go
#   BENCH_KEEP [unset]            1: keep the temporary folder (databases, server logs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs() { # "10" → "10s"; Go durations pass through
  case "$1" in *[!0-9]*) echo "$1" ;; *) echo "${1}s" ;; esac
}
duration=$(secs "${BENCH_DURATION:-10s}")
runs=${BENCH_RUNS:-3}
connections=${BENCH_CONNECTIONS:-"1 16"}
scenarios=${BENCH_SCENARIOS:-"card-create card-retrieve payment-intent"}
warmup=$(secs "${BENCH_WARMUP:-1s}")
open_rate=${BENCH_OPEN_RATE:-100}
pi_open_rate=${BENCH_PI_OPEN_RATE:-10}
localstripe_version=${LOCALSTRIPE_VERSION:-1.15.10}
open_conns=${BENCH_OPEN_CONNECTIONS:-16}
growth=$(secs "${BENCH_GROWTH_DURATION:-60s}")
growth_conns=${BENCH_GROWTH_CONNECTIONS:-16}
growth_control=${BENCH_GROWTH_CONTROL:-1}
out_dir=${BENCH_OUT:-target/bench}
case "$out_dir" in /*) ;; *) out_dir=$root/$out_dir ;; esac

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-psp: $*"; exit 1; }

command -v go >/dev/null || die "Go is needed (for stripe-mock and the load generator)"
mkdir -p "$out_dir"

# --- stripe-mock ---------------------------------------------------------------------------
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
stripe_mock=${STRIPE_MOCK:-}
if [ -z "$stripe_mock" ]; then
  if command -v stripe-mock >/dev/null; then
    stripe_mock=$(command -v stripe-mock)
  elif [ -x "$gobin/stripe-mock" ]; then
    stripe_mock=$gobin/stripe-mock
  else
    say "installing stripe-mock: go install github.com/stripe/stripe-mock@latest"
    go install github.com/stripe/stripe-mock@latest
    stripe_mock=$gobin/stripe-mock
  fi
fi
[ -x "$stripe_mock" ] || die "stripe-mock not found at $stripe_mock"
stripe_version=$(go version -m "$stripe_mock" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')

# --- localstripe, in its own venv (nothing global changes), installed once -------------------
need_localstripe=
case " $scenarios " in *" payment-intent "*) need_localstripe=1 ;; esac
ls_venv=$out_dir/localstripe-venv
ls_python=$ls_venv/bin/python
if [ -n "$need_localstripe" ]; then
  command -v python3 >/dev/null || die "python3 (with venv) is needed for localstripe"
  installed=$("$ls_python" -c 'import importlib.metadata as m; print(m.version("localstripe"))' 2>/dev/null || true)
  if [ "$installed" != "$localstripe_version" ]; then
    say "installing localstripe $localstripe_version into $ls_venv"
    [ -x "$ls_python" ] || python3 -m venv "$ls_venv"
    "$ls_venv/bin/pip" install -q --disable-pip-version-check "localstripe==$localstripe_version"
  fi
  command -v curl >/dev/null || die "curl is needed (to empty localstripe's store between runs)"
fi

# --- the load generator and tierspay-mock ---------------------------------------------------
loadgen=$out_dir/loadgen
(cd bench/loadgen && go build -trimpath -o "$loadgen" .)
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  say "building tierspay-mock (release)"
  cargo build --release -p tierspay-server-mock --locked
fi
tierspay_mock=${TIERSPAY_MOCK:-$root/target/release/tierspay-mock}
[ -x "$tierspay_mock" ] || die "no $tierspay_mock (build it, or unset BENCH_SKIP_BUILD)"

# --- servers, always stopped on exit ----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/tierspay-bench.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_line FILE PID SED-EXPR NAME: the first match of SED-EXPR in FILE, waiting up to 30 s.
wait_line() {
  local v
  for _ in $(seq 1 300); do
    v=$(sed -n "$3" "$1" 2>/dev/null | head -n 1)
    [ -n "$v" ] && { echo "$v"; return; }
    kill -0 "$2" 2>/dev/null || { cat "$1" "$1.err" >&2 2>/dev/null; die "$4 exited at start"; }
    sleep 0.1
  done
  die "$4 did not say where it listens within 30 s"
}

stop_server() { # PID: stop it and forget it
  local p rest=()
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done
  pids=("${rest[@]}")
}

start_tierspay() { # DB → sets tp_pid, tp_url
  local log=$work/$(basename "$1" .db)
  "$tierspay_mock" serve --addr 127.0.0.1:0 --db "$1" --seed demo >"$log.out" 2>"$log.out.err" &
  tp_pid=$!
  pids+=("$tp_pid")
  tp_url=$(wait_line "$log.out" "$tp_pid" 's/^tierspay-mock listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' tierspay-mock)
}

start_stripe() { # → sets sm_pid, sm_url. Both listeners on loopback (HTTPS is on by default).
  "$stripe_mock" -http-addr 127.0.0.1:0 -https-addr 127.0.0.1:0 >"$work/stripe-mock.out" 2>&1 &
  sm_pid=$!
  pids+=("$sm_pid")
  sm_url=http://$(wait_line "$work/stripe-mock.out" "$sm_pid" 's/^Listening for HTTP at address: \(127\.0\.0\.1:[0-9]*\).*/\1/p' stripe-mock)
}

start_localstripe() { # → sets ls_pid, ls_url
  "$ls_python" bench/localstripe_serve.py "$work/localstripe.pickle" >"$work/localstripe.out" 2>"$work/localstripe.out.err" &
  ls_pid=$!
  pids+=("$ls_pid")
  ls_url=$(wait_line "$work/localstripe.out" "$ls_pid" 's/^localstripe listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' localstripe)
}

idem_rows() { # DB → rows in http_idempotency, or "n/a"
  if command -v sqlite3 >/dev/null; then
    sqlite3 -cmd '.timeout 5000' "$1" 'SELECT count(*) FROM http_idempotency' 2>/dev/null || echo n/a
  else
    echo "n/a (no sqlite3)"
  fi
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$out_dir/psp-$stamp.jsonl
table=$out_dir/psp-$stamp.md
: >"$results"

lg() { "$loadgen" run "$@" >>"$results"; }

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- server-mock 2>/dev/null || rev="$rev + uncommitted changes in server-mock/"
say "tierspay-mock: $tierspay_mock ($rev); stripe-mock: $stripe_mock (${stripe_version:-version unknown})${need_localstripe:+; localstripe $localstripe_version}"
before_uptime=$(uptime)
say "$(nproc 2>/dev/null || echo '?') CPUs; before: $before_uptime"
say "busiest processes before the runs:"
ps -eo pcpu,pid,comm --sort=-pcpu 2>/dev/null | head -n 6 >&2 || true

start_tierspay "$work/psp.db"
start_stripe
say "tierspay-mock on $tp_url, stripe-mock on $sm_url"
if [ -n "$need_localstripe" ]; then
  start_localstripe
  say "localstripe on $ls_url"
fi

# lg_on SERVER loadgen-args…: one run against one server. localstripe pickles its whole store on
# every write, so each of its runs starts on an emptied store (DELETE /_config/data, its own
# reset), or its figures would depend on how many runs came before.
lg_on() {
  local server=$1
  shift
  case "$server" in
    tierspay-mock) lg -url "$tp_url" -server tierspay-mock "$@" ;;
    stripe-mock) lg -url "$sm_url" -server stripe-mock "$@" ;;
    localstripe)
      curl -fsS -X DELETE "$ls_url/_config/data" >/dev/null || die "localstripe did not empty its store"
      lg -url "$ls_url" -server localstripe "$@"
      ;;
  esac
}

# The peer that implements the scenario: localstripe has no /v1/issuing, stripe-mock answers
# a fixture intent in requires_payment_method whatever was sent, so nothing can be captured.
peer_of() {
  case "$1" in
    payment-intent) echo localstripe ;;
    *) echo stripe-mock ;;
  esac
}

# One pass of a run against tierspay-mock and the scenario's peer; the order alternates between
# repetitions so slow drift on a shared machine does not always favour the same server.
both() { # REPETITION SCENARIO loadgen-args…
  local r=$1 scenario=$2 peer
  shift 2
  peer=$(peer_of "$scenario")
  if [ $((r % 2)) -eq 1 ]; then
    lg_on "$peer" -scenario "$scenario" "$@"
    lg_on tierspay-mock -scenario "$scenario" "$@"
  else
    lg_on tierspay-mock -scenario "$scenario" "$@"
    lg_on "$peer" -scenario "$scenario" "$@"
  fi
}

for scenario in $scenarios; do
  for c in $connections; do
    for r in $(seq 1 "$runs"); do
      both "$r" "$scenario" -c "$c" -duration "$duration" -warmup "$warmup"
    done
  done
  rate=$open_rate
  [ "$scenario" = payment-intent ] && rate=$pi_open_rate
  if [ "$rate" != 0 ] && [ -n "$rate" ]; then
    for r in $(seq 1 "$runs"); do
      both "$r" "$scenario" -c "$open_conns" -rate "$rate" -duration "$duration" -warmup "$warmup"
    done
  fi
done
rows_main=$(idem_rows "$work/psp.db")
after_matrix=$(uptime)

rows_before=""
rows_after=""
if [ "$growth" != 0s ]; then
  # A fresh database, so the table grows from (almost) nothing during the run.
  stop_server "$tp_pid"
  start_tierspay "$work/growth.db"
  rows_before=$(idem_rows "$work/growth.db")
  say "long run: card-create, $growth_conns connections, $growth, fresh database ($rows_before idempotency rows)"
  lg -url "$tp_url" -server tierspay-mock -tag growth -scenario card-create -c "$growth_conns" -duration "$growth"
  rows_after=$(idem_rows "$work/growth.db")
  if [ "$growth_control" = 1 ]; then
    lg -url "$sm_url" -server stripe-mock -tag growth-control -scenario card-create -c "$growth_conns" -duration "$growth"
  fi
fi

{
  echo "tierspay-mock vs stripe-mock${need_localstripe:+ and localstripe}, $stamp, $(nproc 2>/dev/null || echo '?') CPUs; tierspay-mock $rev; stripe-mock ${stripe_version:-?}${need_localstripe:+; localstripe $localstripe_version}"
  echo "runs of $duration (warm-up $warmup), $runs each; load before: $(echo "$before_uptime" | sed 's/.*load average/load average/'); after the matrix: $(echo "$after_matrix" | sed 's/.*load average/load average/')"
  echo
  "$loadgen" report -baseline "stripe-mock${need_localstripe:+,localstripe}" "$results"
  echo
  if [ -n "$need_localstripe" ]; then
    echo "localstripe keeps its objects in memory and pickles the whole store to a file on every write (each of its runs starts emptied); tierspay-mock commits every request to SQLite (WAL). A ratio of two programs doing different work, not like for like."
    echo
  fi
  echo "http_idempotency rows after the matrix: $rows_main"
  if [ -n "$rows_after" ]; then
    echo "long run on a fresh database: http_idempotency rows $rows_before → $rows_after"
  fi
  echo "load after everything: $(uptime | sed 's/.*load average/load average/')"
} | tee "$table"
say "JSON lines: $results; table: $table"
