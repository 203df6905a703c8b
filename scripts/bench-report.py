#!/usr/bin/env python3
"""Writes BENCHMARKS.md from what the bench commands left under target/.

`make bench` calls it twice: `--start` before the first bench (records the time and the load
average in target/bench/make-bench.start), then without arguments after the last one. Figures
written since the start are "this run"; older ones still under target/ are listed apart, with
their date, as not re-measured. Sources:

- criterion: target/criterion/**/new/estimates.json (+ benchmark.json for the name): median and
  its 95 % confidence interval, median absolute deviation;
- the journeys bench's lines, saved to target/bench/journeys.txt: median, p10, p90, p99;
- callgrind totals target/callgrind.NAME.{1000,11000}.total (bench-decision, bench-auth-rules):
  instructions per operation, the difference of the two runs over 10,000 operations;
- bench-auth-rules' median line, saved with the callgrind output to target/bench/hot-paths.txt;
- the load generator's JSON lines, the newest target/bench/FAMILY-STAMP.jsonl of each family:
  median req/s over runs (min–max), median p50/p99, and the ratio tierspay-mock ÷ each peer;
- scripts/size.sh's line, saved to target/bench/size.txt.

Everything read is treated as untrusted text: a file that does not parse is named and skipped.
Python standard library only.
"""

import argparse
import datetime as dt
import glob
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TARGET = os.path.join(ROOT, "target")
BENCH = os.path.join(TARGET, "bench")
START_FILE = os.path.join(BENCH, "make-bench.start")

# Peers of tierspay-mock in the load generator's results, in the order of the ratio columns.
PEERS = ["stripe-mock", "localstripe"]

# callgrind family -> the make target that writes it
CALLGRIND = {"decision": "make bench-decision", "auth_rules": "make bench-auth-rules"}

# load generator family (file prefix) -> the command that writes it
FAMILIES = {"psp": "scripts/bench-psp.sh (make bench-psp)", "auth": "make bench-auth"}

skipped = []


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def when(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        skipped.append(f"{os.path.relpath(path, ROOT)}: {e}")
        return None


def cell(s):
    """Text from a file, safe inside a markdown table cell."""
    s = re.sub(r"[\x00-\x1f\x7f]", " ", str(s))
    return s.replace("|", "\\|").replace("`", "'")[:200]


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_num(x):
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def machine(start):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except (OSError, ValueError):
        pass

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    rev = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        rev += " (with uncommitted changes in the tree)"
    rows = [
        ("CPUs (nproc)", str(os.cpu_count() or "?")),
        ("CPU model", model),
        ("memory", mem),
        ("kernel", os.uname().release),
        ("git revision", rev),
        ("load average at the end (1, 5, 15 min)", loadavg()),
    ]
    if start:
        rows.insert(4, ("started", when(start["time"])))
        rows.insert(5, ("load average at the start (1, 5, 15 min)", start["load"]))
    rows.insert(4 if not start else 6, ("finished", when(dt.datetime.now(dt.timezone.utc).timestamp())))
    out = ["| | |", "|---|---|"]
    out += [f"| {k} | {cell(v)} |" for k, v in rows]
    return out


def criterion(since):
    now, earlier = [], []
    for est in sorted(glob.glob(os.path.join(TARGET, "criterion", "**", "new", "estimates.json"), recursive=True)):
        d = read_json(est)
        meta = read_json(os.path.join(os.path.dirname(est), "benchmark.json"))
        if not d or not meta:
            continue
        try:
            med = d["median"]
            lo = med["confidence_interval"]["lower_bound"]
            hi = med["confidence_interval"]["upper_bound"]
            row = (meta.get("full_id") or meta.get("title"), float(med["point_estimate"]), float(lo), float(hi),
                   float(d["median_abs_dev"]["point_estimate"]))
        except (KeyError, TypeError, ValueError) as e:
            skipped.append(f"{os.path.relpath(est, ROOT)}: {e!r}")
            continue
        mtime = os.path.getmtime(est)
        (now if since and mtime >= since else earlier).append((row, mtime))
    return now, earlier


def criterion_table(rows, dated):
    out = ["| benchmark | median | 95 % CI of the median | MAD |" + (" measured |" if dated else ""),
           "|---|---:|---:|---:|" + ("---|" if dated else "")]
    for (name, m, lo, hi, mad), mtime in sorted(rows, key=lambda r: r[0][0]):
        line = f"| {cell(name)} | {fmt_ns(m)} | {fmt_ns(lo)} – {fmt_ns(hi)} | {fmt_ns(mad)} |"
        out.append(line + (f" {when(mtime)} |" if dated else ""))
    return out


JOURNEY = re.compile(
    r"^(?P<name>.+?)\s+n=(?P<n>\d+)\s+median\s+(?P<med>[\d.]+ \S+)\s+p10\s+(?P<p10>[\d.]+ \S+)"
    r"\s+p90\s+(?P<p90>[\d.]+ \S+)\s+p99\s+(?P<p99>[\d.]+ \S+)\s*(?P<extra>.*)$")


def journeys(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        m = JOURNEY.match(line.strip())
        if m:
            out.append(f"| {cell(m['name'])} | {m['n']} | {m['med']} | {m['p10']} – {m['p90']} | {m['p99']} | {cell(m['extra'])} |")
    if out:
        out = ["| journey | n | median | p10 – p90 | p99 | |", "|---|---:|---:|---:|---:|---|"] + out
    return out


def callgrind(since):
    rows = []
    for name, cmd in CALLGRIND.items():
        a = os.path.join(TARGET, f"callgrind.{name}.1000.total")
        b = os.path.join(TARGET, f"callgrind.{name}.11000.total")
        try:
            with open(a) as f:
                ia = int(f.read().strip())
            with open(b) as f:
                ib = int(f.read().strip())
        except (OSError, ValueError):
            continue
        mtime = min(os.path.getmtime(a), os.path.getmtime(b))
        this = since and mtime >= since
        per = (ib - ia) / 10000
        # Under one instruction per operation the loop cannot have run the code: say so.
        figure = f"{per:,.0f}" if per >= 1 else f"{per:.2f}: the {ib - ia:,} instructions of 10,000 more operations, so the loop was optimised away; not a figure"
        rows.append(f"| {name} | {figure} | `{cmd}` | {when(mtime)}{'' if this else ', not re-measured by this run'} |")
    if rows:
        rows = ["| hot path | instructions per operation | command | measured |", "|---|---:|---|---|"] + rows
    return rows


HOT_LINE = re.compile(r"^\S+: median .+ per .+$")


def hot_paths(path):
    """The median lines of benches with their own output (bench-auth-rules), as printed."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [f"- `{cell(line.strip())}`" for line in f if HOT_LINE.match(line.strip())]
    except OSError:
        return []


def load_lines(path):
    rs = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    skipped.append(f"{os.path.relpath(path, ROOT)}:{n}: not JSON")
                    continue
                if isinstance(r, dict) and r.get("tool") == "tierspay-loadgen":
                    rs.append(r)
    except OSError as e:
        skipped.append(f"{os.path.relpath(path, ROOT)}: {e}")
    return rs


def num(r, *keys):
    v = r
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
    return float(v) if isinstance(v, (int, float)) else None


def loadgen_table(rs):
    groups, order = {}, []
    for r in rs:
        # A tagged run (the long growth run, bench-auth's) is kept apart from the matrix's.
        label = str(r.get("scenario")) + (f" ({r['tag']})" if r.get("tag") else "")
        k = (label, str(r.get("mode")), num(r, "target_rps") or 0, int(num(r, "connections") or 0), str(r.get("server")))
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(r)
    med_rps = {k: statistics.median([num(r, "rps") or 0 for r in g]) for k, g in groups.items()}
    peers = [p for p in PEERS if any(k[4] == p for k in groups)]
    out = ["| scenario | mode | conn | server | req/s median (min–max) | p50 ms | p99 ms | errors | runs | load 1 min |"
           + "".join(f" tierspay-mock ÷ {p} |" for p in peers),
           "|---|---|---:|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(peers)]
    for k in order:
        g = groups[k]
        rps = [num(r, "rps") or 0 for r in g]
        p50 = statistics.median([num(r, "latency_ms", "p50") or 0 for r in g])
        p99 = statistics.median([num(r, "latency_ms", "p99") or 0 for r in g])
        errs = sum(int(num(r, "errors") or 0) for r in g)
        unsent = sum(int(num(r, "unsent") or 0) for r in g)
        loads = []
        for r in g:
            try:
                loads.append(float(str(r.get("loadavg_start", "")).split()[0]))
            except (IndexError, ValueError):
                pass
        mode = "closed" if k[1] == "closed" else f"open {fmt_num(k[2])}/s"
        err_cell = str(errs) + (f" (+{unsent} unsent)" if unsent else "")
        load = f"{statistics.median(loads):.2f}" if loads else "—"
        line = (f"| {cell(k[0])} | {mode} | {k[3]} | {cell(k[4])} | {fmt_num(med_rps[k])} ({fmt_num(min(rps))}–{fmt_num(max(rps))}) | "
                f"{fmt_num(p50)} | {fmt_num(p99)} | {err_cell} | {len(g)} | {load} |")
        for p in peers:
            base = med_rps.get((k[0], k[1], k[2], k[3], p))
            if k[4] == "tierspay-mock" and k[1] == "closed" and base:
                line += f" {med_rps[k] / base:.2f}× |"
            else:
                line += " — |"
        out.append(line)
    return out


def newest(family):
    files = sorted(glob.glob(os.path.join(BENCH, f"{family}-*.jsonl")))
    return files[-1] if files else None


def size_line(since):
    path = os.path.join(BENCH, "size.txt")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"^release cdylib .*$", text, re.M)
    if not m:
        return None
    mtime = os.path.getmtime(path)
    note = "" if since and mtime >= since else f" (from {when(mtime)}, not re-measured by this run)"
    return cell(m.group(0)) + note


def write(out_path):
    start = None
    try:
        with open(START_FILE) as f:
            t, load = f.read().split("\n", 1)
            start = {"time": float(t), "load": load.strip()}
    except (OSError, ValueError):
        pass
    since = start["time"] if start else None
    md = ["# Benchmarks, one run", "",
          "Written by `scripts/bench-report.py` at the end of `make bench`; do not edit by hand. "
          "Method, older figures and how to read them: [docs/benchmarks.md](docs/benchmarks.md). "
          "Timings are figures, never pass/fail tests: a median with its spread, on the machine below, "
          "with the load average it had (2 cores shared with other builds when it is above 2).", "",
          "## The machine", ""]
    md += machine(start)
    md += ["", "## Pure code: criterion, written during this run (`cargo bench -p tierspay-core --bench core`)", ""]
    now, earlier = criterion(since)
    md += criterion_table(now, False) if now else ["No criterion figure was written by this run."]
    jl = journeys(os.path.join(BENCH, "journeys.txt"))
    md += ["", "## Journeys on loopback (`cargo bench -p tierspay-tests --bench journeys`)", ""]
    md += jl if jl else ["No journeys figure in target/bench/journeys.txt."]
    cg = callgrind(since)
    md += ["", "## Instruction counts under callgrind", ""]
    md += (["Each hot path runs 1,000 and 11,000 times under `valgrind --tool=callgrind`; the difference over "
            "10,000 is one operation's instructions, without start-up (exact, not a sample: no spread)."]
           + [""] + cg) if cg else ["No callgrind totals under target/."]
    hp = hot_paths(os.path.join(BENCH, "hot-paths.txt"))
    if hp:
        md += ["", "Their time per operation, as the benches printed it (target/bench/hot-paths.txt; the decision's "
               "criterion figure is in the first table):", ""] + hp
    md += ["", "## The mock beside its peers on loopback (`scripts/bench-psp.sh`)", ""]
    psp = newest("psp")
    if psp:
        rs = load_lines(psp)
        mtime = os.path.getmtime(psp)
        this = since and mtime >= since
        settings = sorted({(r.get("duration_s") and round(float(r["duration_s"]))) or 0 for r in rs})
        md += [f"From `{os.path.relpath(psp, ROOT)}`{'' if this else f' ({when(mtime)}, not re-measured by this run)'}, "
               f"{len(rs)} runs of about {'/'.join(str(s) for s in settings)} s each. card-create and card-retrieve run against "
               "stripe-mock (stateless fixtures: a ceiling); payment-intent (create with `confirm=true`, "
               "`capture_method=manual`, `payment_method=pm_card_visa`, then capture: one operation, two requests) against "
               "localstripe, which has no Issuing API. localstripe keeps its objects in memory and pickles the whole store to a "
               "file on every write (each run starts on an emptied store); tierspay-mock commits every request to SQLite: "
               "ratios of programs doing different work, not like for like. Closed loop gives throughput; open loop "
               "latency from each request's due time (no coordinated omission).", ""]
        md += loadgen_table(rs)
    else:
        md += ["No target/bench/psp-*.jsonl: run `scripts/bench-psp.sh`."]
    others = [(fam, newest(fam)) for fam in FAMILIES if fam != "psp" and newest(fam)]
    sz = size_line(since)
    md += ["", "## The mobile library's size (`make size`)", "", sz if sz else "No target/bench/size.txt."]
    md += ["", "## Not re-measured by `make bench`", "",
           "Longer or heavier runs have their own targets; their newest figures still under target/ are below, with "
           "their date. The FFI call costs from Kotlin and Swift (`scripts/swift-env.sh bench`, "
           "`cd android/jvm && mvn -B -q -Pbench test`) need a release core with the `testing` feature, a JVM and "
           "the Swift root: they are not in this run, and their last figures are in the README's table."]
    for fam, path in others:
        rs = load_lines(path)
        if rs:
            md += ["", f"`{FAMILIES[fam]}`, from `{os.path.relpath(path, ROOT)}` ({when(os.path.getmtime(path))}):", ""]
            md += loadgen_table(rs)
    if earlier:
        md += ["", "criterion figures of other bench targets (`make bench-decision`, `make bench-auth-rules`, "
               "`cargo bench -p tierspay-core --bench coverage|invoices`, …):", ""]
        md += criterion_table(earlier, True)
    if skipped:
        md += ["", "Files skipped (unreadable):", ""] + [f"- {cell(s)}" for s in skipped]
    md += ["", "Command: `make bench` (knobs: `BENCH_DURATION`, `BENCH_RUNS`, `BENCH_SCENARIOS`, … "
           "passed to scripts/bench-psp.sh; see the Makefile and docs/benchmarks.md).", ""]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    print(f"bench-report: wrote {os.path.relpath(out_path, ROOT)}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", action="store_true", help="record the start of a run (time, load average) and exit")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    if args.start:
        os.makedirs(BENCH, exist_ok=True)
        with open(START_FILE, "w") as f:
            f.write(f"{dt.datetime.now(dt.timezone.utc).timestamp()}\n{loadavg()}\n")
        return
    write(args.out)


if __name__ == "__main__":
    main()
