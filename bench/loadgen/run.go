package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// result is the JSON line of one run.
type result struct {
	Tool        string           `json:"tool"`
	Scenario    string           `json:"scenario"`
	Server      string           `json:"server"`
	Tag         string           `json:"tag,omitempty"`
	URL         string           `json:"url"`
	Mode        string           `json:"mode"` // "closed" or "open"
	Connections int              `json:"connections"`
	TargetRPS   float64          `json:"target_rps,omitempty"`
	StartedAt   string           `json:"started_at"`
	DurationS   float64          `json:"duration_s"`                            // measured, from start to the last answer
	Requests    int64            `json:"requests"`                              // finished, whatever the outcome
	OK          int64            `json:"ok"`                                    // 2xx
	Errors      int64            `json:"errors"`                                // non-2xx and transport errors
	Unsent      int64            `json:"unsent"`                                // open loop: due before the deadline, never sent
	RPS         float64          `json:"rps"`                                   // 2xx answers (operations) per second
	PerOp       int              `json:"http_requests_per_operation,omitempty"` // 2 for payment-intent
	Latency     latency          `json:"latency_ms"`                            // over every finished request
	HDR         *hdrLatency      `json:"hdr_ms,omitempty"`                      // open loop: HdrHistogram of the same latencies
	Status      map[string]int64 `json:"status_counts"`
	Segments    []segment        `json:"segments,omitempty"`
	Dials       int64            `json:"connections_opened"` // by the workers, warm-up included
	FirstError  string           `json:"first_error,omitempty"`
	LoadStart   string           `json:"loadavg_start,omitempty"`
	LoadEnd     string           `json:"loadavg_end,omitempty"`
	Interrupted bool             `json:"interrupted,omitempty"`
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	target := fs.String("url", "", "base URL of the server, loopback only (http://127.0.0.1:PORT)")
	scenarioName := fs.String("scenario", "card-create", "card-create, card-retrieve, payment-intent (create+confirm, then capture: two requests per operation) or auth-tap")
	hook := fs.String("hook", "local", "auth-tap's decision hook: local (a loopback receiver here that verifies the signature and approves) or platform (the server's own)")
	conns := fs.Int("c", 1, "connections: workers, each with its own keep-alive connection")
	duration := fs.Duration("duration", 10*time.Second, "measured duration (0: bounded by -n only)")
	count := fs.Int64("n", 0, "stop after this many requests (0: bounded by -duration only)")
	rate := fs.Float64("rate", 0, "open loop: target requests per second over all connections (0: closed loop, max throughput)")
	warmup := fs.Duration("warmup", 0, "closed-loop warm-up on the same connections before measuring, not recorded")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	key := fs.String("key", "sk_test_tierspay", "secret key sent as Authorization: Bearer")
	server := fs.String("server", "", "name of the server in the report (default: the URL)")
	tag := fs.String("tag", "", "free label copied to the JSON line (report keeps tagged runs apart)")
	nseg := fs.Int("segments", 3, "report throughput and latency for this many equal slices of the run")
	samplesOut := fs.String("samples", "", "also write every measured request as a CSV line (finished_ms,latency_us,status) to this file, to place stalls in time")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *target == "" {
		return errors.New("-url is required")
	}
	u, err := checkLoopbackURL(*target)
	if err != nil {
		return err
	}
	switch {
	case *conns < 1 || *conns > 1024:
		return errors.New("-c must be between 1 and 1024")
	case *duration < 0 || *count < 0 || *rate < 0 || *warmup < 0:
		return errors.New("-duration, -n, -rate and -warmup cannot be negative")
	case *duration == 0 && *count == 0:
		return errors.New("unbounded run: give -duration and/or -n")
	case *duration > 24*time.Hour || *warmup > time.Hour:
		return errors.New("-duration is capped at 24h and -warmup at 1h")
	case *timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	name := *server
	if name == "" {
		name = u.String()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var setupDials, dials atomic.Int64
	base := strings.TrimRight(u.String(), "/")
	setupClient := newClient(*timeout, &setupDials)
	authHook = *hook
	sc, err := setupScenario(ctx, &apiClient{base: base, key: *key, http: setupClient}, *scenarioName)
	if err != nil {
		return err
	}
	if sc.cleanup != nil {
		defer sc.cleanup()
	}
	clients := make([]*http.Client, *conns)
	for i := range clients {
		clients[i] = newClient(*timeout, &dials)
	}
	if *warmup > 0 {
		execute(ctx, clients, sc, plan{conns: *conns, duration: *warmup}, false)
	}

	res := result{
		Tool:        "tierspay-loadgen",
		Scenario:    sc.name,
		Server:      name,
		Tag:         *tag,
		URL:         base,
		Mode:        "closed",
		Connections: *conns,
		StartedAt:   time.Now().UTC().Format(time.RFC3339),
		LoadStart:   loadavg(),
		Status:      map[string]int64{},
	}
	if sc.followUp != nil {
		res.PerOp = 2
	}
	if *rate > 0 {
		res.Mode = "open"
		res.TargetRPS = *rate
	}
	// A warm-up's requests would otherwise collide with the measured ones' keys.
	measured := *sc
	if *warmup > 0 {
		offset := int64(1) << 40
		inner := sc.request
		measured.request = func(ctx context.Context, i int64) (*http.Request, error) { return inner(ctx, offset+i) }
		if then := sc.followUp; then != nil {
			measured.followUp = func(ctx context.Context, i int64, first []byte) (*http.Request, error) {
				return then(ctx, offset+i, first)
			}
		}
	}
	out := execute(ctx, clients, &measured, plan{conns: *conns, duration: *duration, count: *count, rate: *rate}, true)
	res.LoadEnd = loadavg()
	res.Interrupted = ctx.Err() != nil
	res.DurationS = round(out.elapsed.Seconds(), 3)
	res.Dials = dials.Load() // warm-up included: equals -c when keep-alive held
	res.FirstError = out.firstError
	lats := make([]time.Duration, len(out.samples))
	for i, s := range out.samples {
		lats[i] = s.lat
		res.Requests++
		if isOK(s.status) {
			res.OK++
		} else {
			res.Errors++
		}
		key := "transport"
		if s.status != 0 {
			key = strconv.Itoa(s.status)
		}
		res.Status[key]++
	}
	if *rate > 0 && !res.Interrupted && out.scheduled > res.Requests {
		res.Unsent = out.scheduled - res.Requests
	}
	if out.elapsed > 0 {
		res.RPS = round(float64(res.OK)/out.elapsed.Seconds(), 1)
	}
	res.Latency = summarize(lats)
	if *rate > 0 {
		h := hdrSummary(lats)
		res.HDR = &h
	}
	res.Segments = segments(out.samples, out.elapsed, *nseg)
	if *samplesOut != "" {
		if err := writeSamples(*samplesOut, out.samples); err != nil {
			return err
		}
	}

	line, err := jsonLine(res)
	if err != nil {
		return err
	}
	os.Stdout.Write(line)
	fmt.Fprintln(os.Stderr, humanLine(res))
	if res.FirstError != "" {
		fmt.Fprintf(os.Stderr, "  first error: %s\n", res.FirstError)
	}
	if res.Interrupted {
		return errors.New("interrupted")
	}
	return nil
}

func jsonLine(r result) ([]byte, error) {
	b, err := json.Marshal(r)
	return append(b, '\n'), err
}

func humanLine(r result) string {
	var b strings.Builder
	mode := "closed loop"
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %g/s", r.TargetRPS)
	}
	fmt.Fprintf(&b, "%s on %s, %s, %d conn, %.1f s: %.1f req/s, %d ok, %d errors",
		r.Scenario, r.Server, mode, r.Connections, r.DurationS, r.RPS, r.OK, r.Errors)
	if r.Unsent > 0 {
		fmt.Fprintf(&b, ", %d unsent (target rate not sustained)", r.Unsent)
	}
	fmt.Fprintf(&b, " | latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	if r.HDR != nil {
		fmt.Fprintf(&b, " | hdr ms p50 %.3f p99 %.3f p99.9 %.3f max %.3f", r.HDR.P50, r.HDR.P99, r.HDR.P999, r.HDR.Max)
	}
	if len(r.Segments) > 1 {
		parts := make([]string, len(r.Segments))
		for i, s := range r.Segments {
			parts[i] = strconv.FormatFloat(s.RPS, 'f', 0, 64)
		}
		fmt.Fprintf(&b, " | req/s by slice %s", strings.Join(parts, " / "))
	}
	if len(r.Status) > 1 {
		keys := make([]string, 0, len(r.Status))
		for k := range r.Status {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s×%d", k, r.Status[k])
		}
		fmt.Fprintf(&b, " | status %s", strings.Join(parts, " "))
	}
	if r.Dials != int64(r.Connections) {
		fmt.Fprintf(&b, " | %d connections opened", r.Dials)
	}
	if r.LoadStart != "" {
		fmt.Fprintf(&b, " | load %s", r.LoadStart)
	}
	return b.String()
}

// writeSamples writes one CSV line per request, in the order they finished.
func writeSamples(path string, samples []sample) error {
	sorted := append([]sample(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].at < sorted[j].at })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "finished_ms,latency_us,status")
	for _, s := range sorted {
		fmt.Fprintf(w, "%.3f,%d,%d\n", float64(s.at.Microseconds())/1000, s.lat.Microseconds(), s.status)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
