# Paying at the doctor, sourced by scripts/demo.sh once the mock is back online (it uses that
# script's tp, step, took, http_get, $url, $gp and $spec). Camille saves her own card, pays a GP
# and a specialist with the virtual card (a simulated desk terminal taps and captures), then the
# card refuses a spa, a bar, and any tap with no visit armed. The terminal is `tierspay tap`, a
# test tool with the PSP's secret key: the phone never holds it.

# Polls a visit until it is paid (settlement follows the capture through the PSP's events).
wait_paid() {
  local out=""
  for _ in $(seq 1 50); do
    out=$(tp visit status "$1" 2>&1) || true
    case "$out" in *" paid "*) break ;; esac
    sleep 0.1
  done
  echo "$out" | sed 's/^/   /'
}

# pay PROVIDER ACT PRICE: authorize, tap, capture, show the result.
pay() {
  local doc id
  doc=$(tp --json visit authorize --beneficiary Camille --provider "$1" --act "$2" --price "$3" --accept-new-figures) || {
    echo "   authorize refused: $doc"; return 0; }
  id=$(echo "$doc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["visit"]["id"])')
  echo "$doc" | python3 -c 'import json,sys; v=json.load(sys.stdin)["visit"]; print("   armed %s for %s: %s € (SS %s, mutuelle %s, Camille %s) until %s" % (v["id"], v["provider_name"], v["price"], v["amo"], v["amc"], v["member"], v["expires_at"]))'
  tp tap --amount "$3" --provider "$1" | sed 's/^/   🏧 /'
  wait_paid "$id"
}

step "10. Camille saves her own card for her share (sent to the PSP only; the phone keeps the last four digits)"
t=$(date +%s%N); { tp card save --test-card visa || true; } | sed 's/^/   /'; took "$(ms "$t")"

step "11. At the GP's desk she authorizes the visit; the terminal taps the virtual card and captures"
t=$(date +%s%N); pay "$gp" G 30; took "$(ms "$t")" "(authorize, tap, capture, settlement)"

step "12. At a specialist with fees above the tariff"
t=$(date +%s%N); pay "$spec" CS 60; took "$(ms "$t")"

step "13. Where the card says no"
echo "   No visit armed: the card pays nothing."
tp tap --amount 30 --provider "$gp" | sed 's/^/   🏧 /' || true
tp --json visit authorize --beneficiary Camille --provider "$gp" --act G --price 30 --accept-new-figures >/dev/null || true
echo "   A visit armed at the GP, but the terminal is a spa (MCC 7298), then a bar (MCC 5813):"
tp tap --amount 30 --provider "$gp" --mcc 7298 | sed 's/^/   🏧 /' || true
tp tap --amount 30 --provider "$gp" --mcc 5813 | sed 's/^/   🏧 /' || true
echo "   She cancels the visit she did not go to:"
{ tp visit cancel || true; } | sed 's/^/   /'

step "14. Her visits, newest first, and the PSP's ledger (GET /v1/balance_transactions, secret key)"
tp visits | sed 's/^/   /'
if ledger=$(http_get "$url/v1/balance_transactions?limit=20" 2>/dev/null); then
  echo "$ledger" | python3 -c '
import json, sys
rows = json.load(sys.stdin).get("data", [])
for r in rows:
    print("   %-36s %-28s %9.2f %s" % (r.get("id", ""), r.get("type", ""), r.get("amount", 0) / 100, r.get("currency", "")))
if not rows:
    print("   (no balance transactions)")'
else
  echo "   (the PSP has no /v1/balance_transactions in this build)"
fi
