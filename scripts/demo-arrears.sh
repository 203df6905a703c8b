# Arrears reach the member (issue 11), sourced by scripts/demo.sh while the mock is online (it
# uses that script's tp, step, took, $url, $work). The insurer records unpaid premiums; the
# phone lists the invoice offline; the D+10 reminder email arrives in the outbox and is shown as
# text; its signed link is verified offline by `tierspay open-link` against the pinned key; an
# altered copy is refused and reported; the hosted page's address is printed.

# POST with the mock's secret key (the insurer's back office, and the test helpers).
sk_post() {
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST",
    headers={"Authorization": "Bearer sk_test_tierspay", "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode()); sys.exit(1)
PY
}

step "16. Camille's insurer records an unpaid premium; the app lists it, amount, due date and transfer reference"
t=$(date +%s%N)
invoice=$(sk_post "$url/v1/insurer/arrears" \
  '{"contract": "TP1000001", "amount": 4250, "description": "Cotisation de novembre"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["invoice"])')
tp invoices | sed 's/^/   /'
tp invoice "$invoice" | sed 's/^/   /'
took "$(ms "$t")" "(the insurer's request, a sync, the detail read offline)"

step "17. Ten days after the due date the reminder email arrives (the outbox, rendered as text)"
# The invoice is due in 30 days: the business clock moves 41 days on (past D+10), in two
# steps with the app opened in between (a session left unused 30 days ends, as it should).
t=$(date +%s%N)
email_json=""
if sk_post "$url/v1/test_helpers/clock/advance" '{"seconds": 2160000}' >/dev/null &&
   tp invoices --json >/dev/null &&
   sk_post "$url/v1/test_helpers/clock/advance" '{"seconds": 1382400}' >/dev/null &&
   sk_post "$url/v1/test_helpers/reminders/run" '{}' >"$work/reminders.json" 2>/dev/null; then
  email_json=$(http_get "$url/v1/test_helpers/outbox?channel=email&limit=1")
fi
link=$(printf '%s' "$email_json" | python3 -c '
import json, re, sys, email, email.policy
try:
    msgs = json.load(sys.stdin)["data"]
except Exception:
    msgs = []
if not msgs:
    sys.exit(0)
m = msgs[0]
text = m.get("body", "")
if text.startswith(("MIME-Version:", "From:", "Content-Type:")):
    # A whole MIME message: its text part, as a mail client shows it.
    msg = email.message_from_bytes(text.encode("utf-8"), policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else text
with open(sys.argv[1], "w") as f:
    f.write("To: %s\nSubject: %s\n\n%s\n" % (m.get("recipient", ""), m.get("subject", ""), text.strip()))
found = re.findall(r"https://app\.tierspay\.fr/[ls]/[A-Za-z0-9_-]+", text)
print(found[0] if found else "")
' "$work/email.txt")
if [ -s "$work/email.txt" ]; then
  sed 's/^/   ✉️  /' "$work/email.txt" | head -40
else
  echo "   (this mock sends no reminder email yet: its reminders are not in this build)"
fi
took "$(ms "$t")" "(the clock moved on, one reminder pass, the outbox read)"

if [ -n "$link" ]; then
  step "18. She taps the link: the app checks it offline, against the key it pins, before showing anything"
  t=$(date +%s%N); tp open-link "$link" | sed 's/^/   /'; took "$(ms "$t")" "(no request: verified offline)"
  echo "   The hosted page of this link (without the app, in a browser): ${link}"
  echo "   served by this mock at: ${url}${link#https://app.tierspay.fr}"

  sms=$(http_get "$url/v1/test_helpers/outbox?channel=sms&limit=1" |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["body"] if d else "")')
  short=$(printf '%s' "$sms" | grep -o 'https://app\.tierspay\.fr/s/[A-Za-z0-9]*' | head -1)
  if [ -n "$short" ]; then
    echo "   📱 The same day's SMS (one part, with a short link): “$sms”"
    echo "   The app exchanges its code for the signed token once, then checks that token offline:"
    t=$(date +%s%N); tp open-link "$short" | sed 's/^/   /'; took "$(ms "$t")" "(one request for the code)"
  fi

  step "19. A phishing copy with one character changed is refused, and reported to TiersPay"
  token=${link##*/}
  pos=100; c=${token:$pos:1}; [ "$c" = A ] && r=B || r=A
  forged="https://app.tierspay.fr/l/${token:0:$pos}$r${token:$((pos + 1))}"
  tp open-link "$forged" | sed 's/^/   /'
  tp open-link "https://app-tierspay.fr/l/$token" | sed 's/^/   /'
fi

# 20 and 21: paying the invoice exactly once (issue 12): offline, the payment waits in the
# outbox with its idempotency key; back online it is sent once; every link then says paid.
if [ -n "$link" ]; then
  step "20. Airplane mode: she opens the email's link (verified offline) and pays; the payment waits on the phone"
  kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=""
  t=$(date +%s%N)
  tp open-link "$link" | head -2 | sed 's/^/   /'
  tp pay "$invoice" | sed 's/^/   /' || true
  tp pay "$invoice" | sed 's/^/   /' || true
  tp outbox | sed 's/^/   /'
  took "$(ms "$t")" "(no request: written on the phone with its idempotency key)"

  step "21. Back online: the payment is sent once, and the email's link now says the invoice is paid"
  start_mock "127.0.0.1:$port"
  t=$(date +%s%N)
  tp sync | sed 's/^/   /'
  tp outbox | sed 's/^/   /'
  took "$(ms "$t")" "(the queued payment sent, the invoices' changes fetched)"
  page=$(http_get "$url${link#https://app.tierspay.fr}" 2>/dev/null || true)
  if printf '%s' "$page" | grep -qi "déjà payée\|already paid"; then
    echo "   The email's link, opened in a browser: \"$(printf '%s' "$page" | grep -oi 'facture déjà payée\|already paid' | head -1)\""
  else
    echo "   The email's link, opened in a browser, does not say paid yet"
  fi
fi
