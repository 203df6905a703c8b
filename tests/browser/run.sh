#!/usr/bin/env bash
# The hosted payment page in real headless Chromium: Debian's chromium package (installed by
# .ci/run; nothing is downloaded here), playwright-core pinned in package-lock.json (npm ci when
# node_modules does not match), a debug build of tierspay-mock on a free loopback port with a
# throw-away database and the demo seed, the node:test script, then the mock is stopped.
# Screenshots go to target/browser-artifacts/. The exit code is the test runner's; the mock's
# log is checked for the test card numbers (the platform must never see them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

HERE="$ROOT/tests/browser"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ARTIFACTS="$ROOT/target/browser-artifacts"

if [ ! -x "$CHROMIUM" ]; then
    echo "browser tests: $CHROMIUM is missing (apt-get install chromium chromium-driver)" >&2
    exit 1
fi
# npm ci only when the installed playwright-core is not the locked one.
locked="$(node -p "require('$HERE/package-lock.json').packages['node_modules/playwright-core'].version")"
installed="$(node -p "try { require('$HERE/node_modules/playwright-core/package.json').version } catch { '' }")"
if [ "$locked" != "$installed" ]; then
    echo "browser tests: npm ci (playwright-core $locked)"
    (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

cargo build --quiet -p tierspay-server-mock --locked

WORK="$(mktemp -d)"
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
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
    echo "browser tests: tierspay-mock did not start" >&2
    cat "$WORK/stderr" >&2
    exit 1
fi

status=0
(cd "$HERE" && TIERSPAY_MOCK_URL="$URL" CHROMIUM="$CHROMIUM" ARTIFACTS="$ARTIFACTS" \
    node --test --test-concurrency=1 --test-reporter=spec hosted_page.test.mjs console.test.mjs) || status=$?
if grep -q -e 4242424242424242 -e 4000000000000002 -e 4000002500003155 "$WORK/stdout" "$WORK/stderr"; then
    echo "browser tests: a card number is in the mock's log" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "browser tests: mock log follows" >&2
    tail -n 40 "$WORK/stderr" >&2
fi
echo "browser tests: screenshots in ${ARTIFACTS#$ROOT/}: $(ls "$ARTIFACTS" | wc -l) files"
exit "$status"
