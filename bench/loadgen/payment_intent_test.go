package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAcquirer holds each intent it creates for capture (or, with skipConfirm, leaves it
// unconfirmed) and records every capture path, each intent capturable once.
func fakeAcquirer(t *testing.T, skipConfirm bool) (*httptest.Server, func() (created, captured int)) {
	var mu sync.Mutex
	held := map[string]bool{}
	created, captured := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents":
			if r.FormValue("confirm") != "true" || r.FormValue("capture_method") != "manual" ||
				r.FormValue("payment_method") != "pm_card_visa" || r.Header.Get("Idempotency-Key") == "" {
				http.Error(w, `{"error":{"message":"bad intent"}}`, http.StatusBadRequest)
				return
			}
			created++
			id := fmt.Sprintf("pi_%d", created)
			status := "requires_capture"
			if skipConfirm {
				status = "requires_confirmation"
			} else {
				held[id] = true
			}
			fmt.Fprintf(w, `{"id":%q,"status":%q}`, id, status)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/capture"):
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/"), "/capture")
			if !held[id] {
				http.Error(w, `{"error":{"message":"not capturable"}}`, http.StatusBadRequest)
				return
			}
			delete(held, id)
			captured++
			fmt.Fprintf(w, `{"id":%q,"status":"succeeded"}`, id)
		default:
			http.NotFound(w, r) // no Issuing here, like localstripe
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() (int, int) { mu.Lock(); defer mu.Unlock(); return created, captured }
}

// One operation is a create and the capture of that very intent; no cardholder is needed.
func TestPaymentIntentCapturesWhatItCreated(t *testing.T) {
	srv, counts := fakeAcquirer(t, false)
	out := runAgainst(t, srv.URL, "payment-intent", plan{conns: 2, count: 40})
	created, captured := counts()
	if len(out.samples) != 40 || created != 40 || captured != 40 {
		t.Fatalf("%d operations, %d created, %d captured, want 40 each (first error %q)", len(out.samples), created, captured, out.firstError)
	}
	for _, s := range out.samples {
		if s.status != 200 {
			t.Fatalf("status %d, first error %q", s.status, out.firstError)
		}
	}
}

// A server that did not hold the intent for capture fails the operation before the capture.
func TestPaymentIntentRefusesAnUnconfirmedIntent(t *testing.T) {
	srv, counts := fakeAcquirer(t, true)
	out := runAgainst(t, srv.URL, "payment-intent", plan{conns: 1, count: 3})
	if _, captured := counts(); captured != 0 {
		t.Fatalf("%d captures sent", captured)
	}
	if len(out.samples) != 3 || out.samples[0].status != 0 || !strings.Contains(out.firstError, `"requires_confirmation", want requires_capture`) {
		t.Fatalf("samples %+v, first error %q", out.samples, out.firstError)
	}
}

func TestCapturePathRefusesHostileIDs(t *testing.T) {
	for _, body := range []string{`{"id":"pi_1/../../v1/x","status":"requires_capture"}`, `{"id":"pi_1?x=1","status":"requires_capture"}`,
		`{"status":"requires_capture"}`, `not json`, `{"id":"pi_%2F","status":"requires_capture"}`} {
		if p, err := capturePath([]byte(body)); err == nil {
			t.Errorf("%s gave %q", body, p)
		}
	}
	if p, err := capturePath([]byte(`{"id":"pi_3Ab","status":"requires_capture"}`)); err != nil || p != "/v1/payment_intents/pi_3Ab/capture" {
		t.Errorf("%q %v", p, err)
	}
}

// Each baseline gets its column; a case a baseline did not run shows —.
func TestReportOneRatioColumnPerBaseline(t *testing.T) {
	var in bytes.Buffer
	for _, r := range []result{
		{Tool: "tierspay-loadgen", Scenario: "payment-intent", Server: "tierspay-mock", Mode: "closed", Connections: 1, RPS: 600},
		{Tool: "tierspay-loadgen", Scenario: "payment-intent", Server: "localstripe", Mode: "closed", Connections: 1, RPS: 50},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "tierspay-mock", Mode: "closed", Connections: 1, RPS: 300},
		{Tool: "tierspay-loadgen", Scenario: "card-create", Server: "stripe-mock", Mode: "closed", Connections: 1, RPS: 600},
	} {
		b, _ := jsonLine(r)
		in.Write(b)
	}
	var out bytes.Buffer
	if err := reportCmd([]string{"-baseline", "stripe-mock,localstripe"}, &in, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"| ÷ stripe-mock | ÷ localstripe |", "| payment-intent | closed | 1 | tierspay-mock | 600 (600–600) | 0.00 | 0.00 | 0 | 1 | — | — | 12.00× |",
		"| card-create | closed | 1 | tierspay-mock | 300 (300–300) | 0.00 | 0.00 | 0 | 1 | — | 0.50× | — |"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}
