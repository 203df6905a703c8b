#!/usr/bin/env bash
# The hosted payment page on loopback (make bench-hosted-page, docs/benchmarks.md): a release
# tierspay-mock with the demo seed, one premium arrears invoice and its email link, then
#   - bytes: the whole answer (status line and headers, and body) of GET /l/{token}, French;
#   - server time: the request log's `micros` for that path (from the request's arrival in the
#     router to its answer: link check, facts, EPC payload, QR code, template; with 16
#     connections it includes the wait for the one database connection), p50/p90/p99/max per
#     wrk run;
#   - wrk on one connection (no queueing) and on 16, for what a client sees.
# Knobs: BENCH_SECONDS [10], BENCH_SKIP_BUILD [unset: 1 uses the existing release binary],
# TIERSPAY_MOCK [target/release/tierspay-mock], BENCH_OUT [target/bench].
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds=${BENCH_SECONDS:-10}
out=${BENCH_OUT:-$root/target/bench}
mkdir -p "$out"
say() { printf 'bench-hosted-page: %s\n' "$*" >&2; }
command -v wrk >/dev/null || { say "wrk is missing (apt-get install wrk)"; exit 1; }
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  say "building tierspay-mock (release)"
  cargo build --release -p tierspay-server-mock --locked
fi
mock=${TIERSPAY_MOCK:-$root/target/release/tierspay-mock}
work=$(mktemp -d)
# Info level: the request log line carries each request's server time.
TIERSPAY_LOG=info "$mock" serve --addr 127.0.0.1:0 --db "$work/page.db" --seed demo --test-helpers \
  --log-format json >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/^tierspay-mock listening on //p' "$work/out")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { say "the mock did not start"; cat "$work/log" >&2; exit 1; }

key="Authorization: Bearer sk_test_tierspay"
invoice=$(curl -sf -H "$key" -H 'Content-Type: application/json' \
  -d '{"contract":"TP1000001","amount":4250,"description":"Cotisation de novembre"}' \
  "$url/v1/insurer/arrears" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoice"])')
link=$(curl -sf -H "$key" -H 'Content-Type: application/json' -d '{"channels":["email"]}' \
  "$url/v1/test_helpers/invoices/$invoice/links" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["url"])')
page="$url${link#https://app.tierspay.fr}"

curl -s -H 'Accept-Language: fr' -D "$work/headers" -o "$work/body" "$page"
body=$(wc -c <"$work/body")
headers=$(wc -c <"$work/headers")
scripts=$(grep -c '<script' "$work/body" || true)
say "GET /l/{token}: $((body + headers)) bytes sent ($body body, $headers status line and headers), $scripts <script>, $(grep -o 'src="data:' "$work/body" | wc -l) inline image(s), no other resource"

: >"$work/log"
for connections in 1 16; do
  say "wrk: $connections connection(s), ${seconds}s"
  : >"$work/log"
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -H 'Accept-Language: fr' "$page" \
    | tee "$out/hosted-page-wrk-c$connections.txt" | sed -n '/Latency Distribution/,/Requests\/sec/p' >&2
  sleep 0.5
  python3 - "$work/log" "$connections" <<'PY' | tee "$out/hosted-page-server-time-c$connections.txt" >&2
import json, sys
times = []
for line in open(sys.argv[1]):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("message") == "request" and str(f.get("path", "")).startswith("/l/") and f.get("status") == 200:
        times.append(int(f["micros"]))
times.sort()
def q(p):
    return times[min(len(times) - 1, int(p * len(times)))] / 1000
print(f"server time, {sys.argv[2]} connection(s), {len(times)} pages: p50 {q(0.50):.3f} ms, "
      f"p90 {q(0.90):.3f} ms, p99 {q(0.99):.3f} ms, max {times[-1] / 1000:.3f} ms")
PY
done
