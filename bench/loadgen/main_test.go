package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOnlyLoopbackTargets(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:1234", "http://127.0.0.2:80/", "http://[::1]:8080", "http://localhost:9"} {
		if _, err := checkLoopbackURL(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:80", "http://example.com", "https://127.0.0.1:1", "http://0.0.0.0:80",
		"http://192.168.1.2", "ftp://127.0.0.1", "http://u:p@127.0.0.1:1", "127.0.0.1:80", "http://127.0.0.1.example.com"} {
		if _, err := checkLoopbackURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 100; i++ {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]int{50: 50, 90: 90, 99: 99, 100: 100, 0.1: 1} {
		if got := percentile(xs, p); got != time.Duration(want)*time.Millisecond {
			t.Errorf("p%v = %v, want %d ms", p, got, want)
		}
	}
}

// fakeIssuer answers the setup and card requests at once, except that request number stallAt
// of POST /v1/issuing/cards takes stall.
func fakeIssuer(t *testing.T, stallAt int64, stall time.Duration) (*httptest.Server, *atomic.Int64) {
	var cards atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk_test_tierspay" {
			http.Error(w, `{"error":{"type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/issuing/cardholders":
			fmt.Fprint(w, `{"id":"ich_1"}`)
		case r.URL.Path == "/v1/issuing/cards" && r.Method == http.MethodPost:
			if r.Header.Get("Idempotency-Key") == "" || r.FormValue("cardholder") != "ich_1" {
				http.Error(w, `{"error":{"type":"invalid_request_error","message":"bad card"}}`, http.StatusBadRequest)
				return
			}
			if cards.Add(1) == stallAt {
				time.Sleep(stall)
			}
			fmt.Fprint(w, `{"id":"ic_1"}`)
		case strings.HasPrefix(r.URL.Path, "/v1/issuing/cards/"):
			fmt.Fprint(w, `{"id":"ic_1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &cards
}

func runAgainst(t *testing.T, base string, name string, p plan) outcome {
	t.Helper()
	var dials atomic.Int64
	a := &apiClient{base: base, key: "sk_test_tierspay", http: newClient(5*time.Second, &dials)}
	sc, err := setupScenario(context.Background(), a, name)
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]*http.Client, p.conns)
	for i := range clients {
		clients[i] = newClient(5*time.Second, &dials)
	}
	return execute(context.Background(), clients, sc, p, true)
}

func slowCount(out outcome, over time.Duration) int {
	n := 0
	for _, s := range out.samples {
		if s.lat > over {
			n++
		}
	}
	return n
}

// A 300 ms stall on one connection: closed loop sees one slow request, open loop at 100/s charges
// the ~30 requests that were due during the stall (no coordinated omission).
func TestOpenLoopChargesTheStallToEveryDelayedRequest(t *testing.T) {
	srv, _ := fakeIssuer(t, 20, 300*time.Millisecond)
	open := runAgainst(t, srv.URL, "card-create", plan{conns: 1, duration: time.Second, rate: 100})
	if got := slowCount(open, 100*time.Millisecond); got < 15 {
		t.Errorf("open loop: %d requests over 100 ms, want the ones queued behind the stall (≥ 15)", got)
	}
	if len(open.samples) < 90 || open.scheduled != 100 {
		t.Errorf("open loop: %d sent of %d scheduled, want about 100", len(open.samples), open.scheduled)
	}

	srv2, _ := fakeIssuer(t, 20, 300*time.Millisecond)
	closed := runAgainst(t, srv2.URL, "card-create", plan{conns: 1, count: 100})
	if got := slowCount(closed, 100*time.Millisecond); got != 1 {
		t.Errorf("closed loop: %d requests over 100 ms, want 1", got)
	}
	if len(closed.samples) != 100 {
		t.Errorf("closed loop: %d requests, want exactly -n 100", len(closed.samples))
	}
}

func TestClosedLoopKeepsOneConnectionPerWorker(t *testing.T) {
	srv, cards := fakeIssuer(t, -1, 0)
	var dials atomic.Int64
	a := &apiClient{base: srv.URL, key: "sk_test_tierspay", http: newClient(5*time.Second, &atomic.Int64{})}
	sc, err := setupScenario(context.Background(), a, "card-create")
	if err != nil {
		t.Fatal(err)
	}
	clients := []*http.Client{newClient(5*time.Second, &dials), newClient(5*time.Second, &dials), newClient(5*time.Second, &dials)}
	out := execute(context.Background(), clients, sc, plan{conns: 3, duration: 300 * time.Millisecond}, true)
	if dials.Load() != 3 {
		t.Errorf("%d connections opened, want 3 (keep-alive)", dials.Load())
	}
	if int64(len(out.samples)) != cards.Load() || len(out.samples) == 0 {
		t.Errorf("%d samples for %d cards", len(out.samples), cards.Load())
	}
	for _, s := range out.samples {
		if s.status != 200 {
			t.Fatalf("status %d", s.status)
		}
	}
}

func TestErrorsAreCountedWithTheFirstBody(t *testing.T) {
	srv, _ := fakeIssuer(t, -1, 0)
	a := &apiClient{base: srv.URL, key: "sk_test_tierspay", http: newClient(5*time.Second, &atomic.Int64{})}
	bad := &scenario{name: "bad", request: func(ctx context.Context, i int64) (*http.Request, error) {
		return a.newRequest(ctx, http.MethodPost, "/v1/issuing/cards", "cardholder=nope", "k")
	}}
	out := execute(context.Background(), []*http.Client{newClient(5*time.Second, &atomic.Int64{})}, bad, plan{conns: 1, count: 5}, true)
	if len(out.samples) != 5 || out.samples[0].status != 400 || !strings.Contains(out.firstError, "bad card") {
		t.Errorf("samples %d, first error %q", len(out.samples), out.firstError)
	}
}

func TestReportRatioAndSlices(t *testing.T) {
	var in bytes.Buffer
	for _, r := range []result{
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "stripe-mock", Mode: "closed", Connections: 16, RPS: 1000},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "stripe-mock", Mode: "closed", Connections: 16, RPS: 1200},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "stripe-mock", Mode: "closed", Connections: 16, RPS: 800},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "tierspay-mock", Mode: "closed", Connections: 16, RPS: 500},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "tierspay-mock", Mode: "closed", Connections: 16, RPS: 100, Tag: "growth",
			Segments: []segment{{RPS: 200}, {RPS: 150}, {RPS: 100}}},
	} {
		b, _ := jsonLine(r)
		in.Write(b)
	}
	var out bytes.Buffer
	if err := reportCmd(nil, &in, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"| 1000 (800–1200) |", "| 0.50× |", "200 / 150 / 100 | 0.50× |"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

func TestVerifySignatureMatchesStripesScheme(t *testing.T) {
	// python3: hmac.new(b'whsec_test_secret', b'1700000000.{"id":"evt_1","object":"event"}', sha256)
	body := []byte(`{"id":"evt_1","object":"event"}`)
	h := "t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd"
	now := time.Unix(1700000010, 0)
	if err := verifySignature(h, body, "whsec_test_secret", now, 300*time.Second); err != nil {
		t.Fatalf("known vector refused: %v", err)
	}
	if verifySignature(h, body, "whsec_other", now, 300*time.Second) == nil {
		t.Fatal("wrong secret accepted")
	}
	if verifySignature(h, body, "whsec_test_secret", now.Add(time.Hour), 300*time.Second) == nil {
		t.Fatal("stale timestamp accepted")
	}
}

func TestHdrSummaryKeepsTheTail(t *testing.T) {
	lats := make([]time.Duration, 0, 1000)
	for i := 0; i < 999; i++ {
		lats = append(lats, time.Millisecond)
	}
	lats = append(lats, 2*time.Second)
	h := hdrSummary(lats)
	if h.P50 < 0.99 || h.P50 > 1.01 || h.Max < 1999 || h.P999 > 1.01 {
		t.Fatalf("%+v", h)
	}
}
