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

# Test helpers (the outbox) need the mock's secret key.
http_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS -H "Authorization: Bearer sk_test_tierspay" "$1"
  else python3 -c 'import sys,urllib.request;r=urllib.request.Request(sys.argv[1],headers={"Authorization":"Bearer sk_test_tierspay"});print(urllib.request.urlopen(r).read().decode())' "$1"; fi
}

start_mock() {
  target/debug/tierspay-mock serve --addr "${1:-127.0.0.1:0}" --db "$work/mock.db" --seed demo --test-helpers \
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

onboarding=$(date +%s%N)
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

step "4. Her virtual card came with enrollment; she adds it to Apple Pay and Google Pay (simulated wallets)"
t=$(date +%s%N)
tp card | sed 's/^/   /'
tp wallet apple | sed 's/^/   /'
tp wallet google | sed 's/^/   /'
took "$(ms "$t")" "(card, both wallets, and the simulated wallets' own steps)"
echo "   Whole onboarding, contract to two wallets: $(( ($(date +%s%N) - onboarding) / 1000000 )) ms of system time, the SMS hand-off included."
echo "   Freezing the card suspends both wallet tokens; unfreezing resumes them:"
tp card freeze | sed 's/^/   /' | tail -2
tp card unfreeze | sed 's/^/   /' | tail -2

step "5. At the doctor's desk she looks for providers (typos forgiven) and scans a desk QR code"
pick() { # pick SPECIALTY FILTER: the code of the first provider in Paris matching a Python condition on p
  tp --json providers --specialty "$1" --city Paris --limit 50 |
    python3 -c 'import json,sys; ps=[p for p in json.load(sys.stdin)["providers"] if eval(sys.argv[1])]; print(ps[0]["code"] if ps else "")' "$2"
}
t=$(date +%s%N)
tp providers --search "ophtalmologe pari" --limit 3
gp=$(pick "Médecin généraliste" 'p["sector"] == 1')
spec=$(pick "Dermatologue" 'p["sector"] == 2 and not p["optam"]')
[ -n "$spec" ] || spec=$(pick "Cardiologue" 'p["sector"] == 2 and not p["optam"]')
dentist=$(pick "Chirurgien-dentiste" 'True')
optician=$(pick "Opticien" 'True')
echo "   📷 scanning the GP's desk QR code (it carries https://app.tierspay.fr/p/$gp):"
tp provider "https://app.tierspay.fr/p/$gp"
for code in "$spec" "$dentist" "$optician"; do tp provider "$code" >/dev/null; done
took "$(ms "$t")" "(six searches, a scan and three selections; Python picks providers from the JSON)"

step "6. Airplane mode: the app restarts offline and shows who pays what, to the cent, for each of the family"
kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=""
port=${url##*:}
t=$(date +%s%N); tp status >/dev/null; took "$(ms "$t")" "(cold start, no network)"
t=$(date +%s%N); n=0
: >"$work/previews.jsonl"
for who in Camille Julien Léa Hugo; do
  for visit in "$gp G 30" "$spec CS 60" "$dentist C 23" "$optician OPT-MONTURE 180"; do
    set -- $visit
    act=$2
    [ "$who" = Léa ] && [ "$act" = G ] && act=GMEG && set -- "$1" GMEG 35
    printf '%s\t' "$who" >>"$work/previews.jsonl"
    tp --json preview --beneficiary "$who" --provider "$1" --act "$act" --price "$3" >>"$work/previews.jsonl"
    n=$((n + 1))
  done
done
elapsed=$(ms "$t")
python3 - "$work/previews.jsonl" <<'PY'
import json, sys
print("   %-8s %-44s %8s %8s %8s %8s" % ("", "visit", "price", "SS", "mutuelle", "you pay"))
for line in open(sys.argv[1], encoding="utf-8"):
    who, doc = line.split("\t", 1)
    p = json.loads(doc)
    print("   %-8s %-44s %8s %8s %8s %8s" % (who, p["act_label"][:44], p["price"], p["amo"], p["amc"], p["member"]))
PY
took "$elapsed" "for $n previews, each a separate terminal command (process start, database, rules)"
echo "   Why Camille pays what she pays at the specialist:"
tp preview --beneficiary Camille --provider "$spec" --act CS --price 60 | sed 's/^/   /'

step "7. Back online: the server recomputes a preview with the same code and confirms it, and the profile refreshes"
start_mock "127.0.0.1:$port"
t=$(date +%s%N); tp preview --beneficiary Camille --provider "$gp" --act G --price 30 --check | tail -1; took "$(ms "$t")"
t=$(date +%s%N); tp status --sync | head -1; took "$(ms "$t")"

step "8. A link from an email opens the right screen (foreign links are refused)"
tp link "https://app.tierspay.fr/enroll?contract=TP1000002"
tp link "https://app.tierspay.fr.evil.example/" || true

# 10 to 14: paying at the doctor with the virtual card.
source scripts/demo-pay.sh

# 16 to 19: arrears by email, the signed link verified offline.
source scripts/demo-arrears.sh

step "22. Camille signs out: the device is revoked, local data and secrets are wiped"
t=$(date +%s%N); tp sign-out; took "$(ms "$t")"
tp status
echo
echo "${bold}Done.${reset} (TIERSPAY_DEMO_KEEP=1 keeps the mock's database and log, which holds no personal data.)"
