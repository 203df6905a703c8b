#!/usr/bin/env bash
# Drives a real tierspay-mock with the official stripe-python client, unchanged: a venv under
# target/stripe-venv (pinned stripe and pytest from PyPI), a debug build of the mock on a free
# loopback port with a throw-away database, pytest, then the mock is stopped. pytest's summary
# line closes the output; the exit code is pytest's (non-zero on any failure).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

STRIPE_VERSION="16.1.0"
PYTEST_VERSION="9.2.0"
VENV="$ROOT/target/stripe-venv"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"

if ! "$VENV/bin/python" -c "import stripe, pytest, sys; sys.exit(stripe.VERSION != '$STRIPE_VERSION' or pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
    echo "stripe tests: preparing $VENV (stripe==$STRIPE_VERSION, pytest==$PYTEST_VERSION)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "stripe==$STRIPE_VERSION" "pytest==$PYTEST_VERSION"
fi

cargo build --quiet -p tierspay-server-mock --locked

WORK="$(mktemp -d)"
"$TARGET_DIR/debug/tierspay-mock" serve --addr 127.0.0.1:0 --db "$WORK/mock.db" --seed demo --test-helpers \
    >"$WORK/stdout" 2>"$WORK/stderr" &
MOCK_PID=$!
cleanup() {
    kill "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

URL=""
for _ in $(seq 1 200); do
    URL="$(sed -n 's/^tierspay-mock listening on //p' "$WORK/stdout")"
    [ -n "$URL" ] && break
    if ! kill -0 "$MOCK_PID" 2>/dev/null; then break; fi
    sleep 0.05
done
if [ -z "$URL" ]; then
    echo "stripe tests: tierspay-mock did not start" >&2
    cat "$WORK/stderr" >&2
    exit 1
fi

status=0
TIERSPAY_MOCK_URL="$URL" "$VENV/bin/python" -m pytest "$ROOT/tests/stripe" -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "stripe tests: mock log follows" >&2
    tail -n 40 "$WORK/stderr" >&2
fi
exit "$status"
