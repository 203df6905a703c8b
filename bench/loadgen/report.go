package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

type groupKey struct {
	scenario string
	mode     string
	rate     float64
	conns    int
	server   string
}

type caseKey struct {
	scenario string
	mode     string
	rate     float64
	conns    int
}

func (g groupKey) caseKey() caseKey { return caseKey{g.scenario, g.mode, g.rate, g.conns} }

// median of a copy of xs; the mean of the two middle values for an even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func readResults(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var res result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("bad JSON line: %v", err)
		}
		if res.Tool != "tierspay-loadgen" {
			continue
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

func reportCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	baseline := fs.String("baseline", "stripe-mock", "servers the others are compared with, comma-separated: one ratio column of median req/s each")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var all []result
	if fs.NArg() == 0 {
		rs, err := readResults(stdin)
		if err != nil {
			return err
		}
		all = rs
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		rs, err := readResults(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		all = append(all, rs...)
	}
	if len(all) == 0 {
		return errors.New("no loadgen results in the input")
	}
	var matrix, tagged []result
	for _, r := range all {
		if r.Tag == "" {
			matrix = append(matrix, r)
		} else {
			tagged = append(tagged, r)
		}
	}
	if len(matrix) > 0 {
		var bases []string
		for _, b := range strings.Split(*baseline, ",") {
			if b = strings.TrimSpace(b); b != "" {
				bases = append(bases, b)
			}
		}
		writeMatrix(stdout, matrix, bases)
	}
	if len(tagged) > 0 {
		if len(matrix) > 0 {
			fmt.Fprintln(stdout)
		}
		writeSlices(stdout, tagged)
	}
	return nil
}

func fmtRPS(x float64) string {
	if x >= 100 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func fmtMS(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

func modeLabel(mode string, rate float64) string {
	if mode == "open" {
		return "open " + fmtRPS(rate) + "/s"
	}
	return "closed"
}

func writeMatrix(w io.Writer, rs []result, baselines []string) {
	groups := map[groupKey][]result{}
	var order []groupKey
	scenarioRank := map[string]int{}
	serverRank := map[string]int{}
	for _, r := range rs {
		k := groupKey{r.Scenario, r.Mode, r.TargetRPS, r.Connections, r.Server}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
		if _, ok := scenarioRank[r.Scenario]; !ok {
			scenarioRank[r.Scenario] = len(scenarioRank)
		}
		if _, ok := serverRank[r.Server]; !ok {
			serverRank[r.Server] = len(serverRank)
		}
	}
	slices.SortStableFunc(order, func(a, b groupKey) int {
		if d := scenarioRank[a.scenario] - scenarioRank[b.scenario]; d != 0 {
			return d
		}
		if a.mode != b.mode {
			return strings.Compare(a.mode, b.mode) // closed before open
		}
		if a.rate != b.rate {
			if a.rate < b.rate {
				return -1
			}
			return 1
		}
		if a.conns != b.conns {
			return a.conns - b.conns
		}
		return serverRank[a.server] - serverRank[b.server]
	})
	medRPS := map[groupKey]float64{}
	for k, g := range groups {
		xs := make([]float64, len(g))
		for i, r := range g {
			xs[i] = r.RPS
		}
		medRPS[k] = median(xs)
	}
	baseRPS := map[string]map[caseKey]float64{}
	for _, b := range baselines {
		baseRPS[b] = map[caseKey]float64{}
	}
	for k, v := range medRPS {
		if m, ok := baseRPS[k.server]; ok {
			m[k.caseKey()] = v
		}
	}

	fmt.Fprint(w, "| scenario | mode | conn | server | req/s median (min–max) | p50 ms | p99 ms | errors | runs | load 1 min |")
	for _, b := range baselines {
		fmt.Fprintf(w, " ÷ %s |", b)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"+strings.Repeat("---:|", len(baselines)))
	for _, k := range order {
		g := groups[k]
		var rps, p50, p99, load []float64
		var errs, unsent int64
		for _, r := range g {
			rps = append(rps, r.RPS)
			p50 = append(p50, r.Latency.P50)
			p99 = append(p99, r.Latency.P99)
			errs += r.Errors
			unsent += r.Unsent
			if f := strings.Fields(r.LoadStart); len(f) > 0 {
				if x, err := strconv.ParseFloat(f[0], 64); err == nil {
					load = append(load, x)
				}
			}
		}
		spread := fmtRPS(slices.Min(rps)) + "–" + fmtRPS(slices.Max(rps))
		errCell := strconv.FormatInt(errs, 10)
		if unsent > 0 {
			errCell += fmt.Sprintf(" (+%d unsent)", unsent)
		}
		loadCell := "—"
		if len(load) > 0 {
			loadCell = strconv.FormatFloat(median(load), 'f', 2, 64)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s (%s) | %s | %s | %s | %d | %s |",
			k.scenario, modeLabel(k.mode, k.rate), k.conns, k.server, fmtRPS(medRPS[k]), spread,
			fmtMS(median(p50)), fmtMS(median(p99)), errCell, len(g), loadCell)
		for _, base := range baselines {
			ratio := "—" // open loop: req/s is the timetable's, compare latency instead
			if k.server != base && k.mode == "closed" {
				if b := baseRPS[base][k.caseKey()]; b > 0 {
					ratio = strconv.FormatFloat(medRPS[k]/b, 'f', 2, 64) + "×"
				}
			}
			fmt.Fprintf(w, " %s |", ratio)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "req/s: 2xx answers per second, median over runs (min–max). p50, p99: median over runs of each run's percentile; open-loop latency counts from the intended send time, and its req/s is the target rate (no ratio). ÷: ratio of median closed-loop req/s (— where that server did not run the case). payment-intent: one operation is create+confirm then capture, two HTTP requests; req/s and latency are per operation. load: 1-minute load average when each run started (median).")
}

// writeSlices shows each tagged run cut into equal slices of time: does throughput hold?
func writeSlices(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| run | scenario | conn | server | s | requests | req/s | req/s by slice | last ÷ first | p99 ms by slice | errors | load 1 min |")
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---|---:|---|---:|---:|")
	for _, r := range rs {
		var rps, p99 []string
		for _, s := range r.Segments {
			rps = append(rps, fmtRPS(s.RPS))
			p99 = append(p99, fmtMS(s.P99))
		}
		ratio := "—"
		if n := len(r.Segments); n > 1 && r.Segments[0].RPS > 0 {
			ratio = strconv.FormatFloat(r.Segments[n-1].RPS/r.Segments[0].RPS, 'f', 2, 64) + "×"
		}
		load := "—"
		if f := strings.Fields(r.LoadStart); len(f) > 0 {
			load = f[0]
			if e := strings.Fields(r.LoadEnd); len(e) > 0 {
				load += " → " + e[0]
			}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %.0f | %d | %s | %s | %s | %s | %d | %s |\n",
			r.Tag, r.Scenario, r.Connections, r.Server, r.DurationS, r.Requests, fmtRPS(r.RPS),
			strings.Join(rps, " / "), ratio, strings.Join(p99, " / "), r.Errors, load)
	}
}
