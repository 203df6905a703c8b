#!/usr/bin/env bash
# The member journey, narrated: builds, starts tierspay-mock with the demo insurer on a free
# port with its SQLite file in a temporary folder, and drives the terminal shell through it.
set -euo pipefail
cd "$(dirname "$0")/.."

bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'
[ -t 1 ] || { bold=""; dim=""; reset=""; }

echo "${bold}Building tierspay-mock and the tierspay terminal shell…${reset}"
cargo build --quiet --locked -p tierspay-server-mock -p tierspay-cli

work=$(mktemp -d "${TMPDIR:-/tmp}/tierspay-demo.XXXXXX")
mock_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
  if [ -n "${TIERSPAY_DEMO_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
step() { printf '\n%s%s%s\n' "$bold" "$1" "$reset"; }
took() { printf '%s  ↳ %s ms%s%s\n' "$dim" "$1" "${2:+ $2}" "$reset"; }

http_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS "$1"
  else python3 -c 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$1"; fi
}

start_mock() {
  target/debug/tierspay-mock serve --addr "${1:-127.0.0.1:0}" --db "$work/mock.db" --seed demo \
    >"$work/mock.out" 2>"$work/mock.log" &
  mock_pid=$!
  for _ in $(seq 1 100); do
    [ "$(wc -l <"$work/mock.out")" -ge 2 ] && break
    kill -0 "$mock_pid" 2>/dev/null || { cat "$work/mock.log" >&2; exit 1; }
    sleep 0.05
  done
  url=$(sed -n 's/^tierspay-mock listening on //p' "$work/mock.out")
  key=$(sed -n 's/^server public key: //p' "$work/mock.out")
}

step "1. The insurer's systems come up (tierspay-mock, demo seed, SQLite in $work)"
t=$(date +%s%N); start_mock; took "$(ms "$t")"
echo "   listening on $url"
echo "   the app pins the server key ${key:0:16}…"

tp() { target/debug/tierspay --data-dir "$work/phone" "$@"; }

step "2. Camille installs the app: is this phone enrolled?"
t=$(date +%s%N); tp --server "$url" --server-key "$key" status; took "$(ms "$t")"

step "3. She types her contract number TP1000001 and birth date 1985-04-12; a code goes out by SMS"
mkfifo "$work/code"
t=$(date +%s%N)
tp --server "$url" --server-key "$key" enroll --contract-number TP1000001 --birth-date 1985-04-12 \
  <"$work/code" >"$work/enroll.out" &
enroll_pid=$!
exec 3>"$work/code"
sms=""
for _ in $(seq 1 200); do
  sms=$(http_get "$url/v1/test_helpers/outbox?channel=sms&limit=1" | sed -n 's/.*"body":"\([^"]*\)".*/\1/p')
  [ -n "$sms" ] && break
  sleep 0.02
done
[ -n "$sms" ] || { echo "no SMS was sent" >&2; exit 1; }
echo
echo "   📱 SMS received: “$sms”"
code=$(echo "$sms" | grep -o '[0-9]\{6\}' | head -1)
echo "   she types $code"
echo "$code" >&3; exec 3>&-
wait "$enroll_pid"
cat "$work/enroll.out"
took "$(ms "$t")" "(the whole step, SMS hand-off included)"

step "4. The app restarts with no network: still enrolled, read from the phone's database"
kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=""
port=${url##*:}
t=$(date +%s%N); tp status >/dev/null; took "$(ms "$t")"
tp status | head -1

step "5. Back online, the app refreshes the profile (access token + DPoP proof signed by the device key)"
start_mock "127.0.0.1:$port"
t=$(date +%s%N); tp status --sync | head -1; took "$(ms "$t")"

step "6. A link from an email opens the right screen (foreign links are refused)"
tp link "https://app.tierspay.fr/enroll?contract=TP1000002"
tp link "https://app.tierspay.fr.evil.example/" || true

step "7. Camille signs out: the device is revoked, local data and secrets are wiped"
t=$(date +%s%N); tp sign-out; took "$(ms "$t")"
tp status
echo
echo "${bold}Done.${reset} (TIERSPAY_DEMO_KEEP=1 keeps the mock's database and log, which holds no personal data.)"
