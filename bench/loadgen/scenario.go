package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// scenario builds request number i (0, 1, …) after a setup that ran once. With followUp set,
// one measured operation is two requests: the first, then the one followUp builds from the
// first's 2xx answer (payment-intent: create and confirm, then capture); its latency covers both.
type scenario struct {
	name     string
	request  func(ctx context.Context, i int64) (*http.Request, error)
	followUp func(ctx context.Context, i int64, first []byte) (*http.Request, error)
	cleanup  func() // after the run, if set
}

var scenarioNames = []string{"card-create", "card-retrieve", "payment-intent", "auth-tap"}

// paymentIntentForm is what tierspay-mock, stripe-mock and localstripe all accept: a test-card
// token both mocks know (pm_card_visa), manual capture, confirmed at creation. localstripe
// refuses any parameter it does not know, so nothing else is sent.
const paymentIntentForm = "amount=2500&currency=eur&payment_method=pm_card_visa&capture_method=manual&confirm=true"

// capturePath reads the intent's id from the create answer and checks it was held for capture,
// so a server that skipped the confirmation is an error, not a fast run.
func capturePath(first []byte) (string, error) {
	var doc struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(first, &doc); err != nil || doc.ID == "" {
		return "", fmt.Errorf("no intent id in the answer: %s", snippet(first))
	}
	if doc.Status != "requires_capture" {
		return "", fmt.Errorf("intent %s is %q, want requires_capture", doc.ID, doc.Status)
	}
	if strings.ContainsAny(doc.ID, "/?#%") {
		return "", fmt.Errorf("refusing intent id %q", doc.ID)
	}
	return "/v1/payment_intents/" + doc.ID + "/capture", nil
}

// cardholderForm is what both servers accept: stripe-mock validates against Stripe's OpenAPI
// (billing is required), tierspay-mock requires name (1–24 characters) and billing[address]
// with line1, city, postal_code and an ISO country.
func cardholderForm() url.Values {
	return url.Values{
		"name":                          {"Bench Holder"},
		"type":                          {"individual"},
		"billing[address][line1]":       {"1 rue de la Paix"},
		"billing[address][city]":        {"Paris"},
		"billing[address][postal_code]": {"75002"},
		"billing[address][country]":     {"FR"},
	}
}

func cardForm(cardholder string) string {
	return "cardholder=" + url.QueryEscape(cardholder) + "&currency=eur&type=virtual"
}

type apiClient struct {
	base string // http://127.0.0.1:PORT, no trailing slash
	key  string
	http *http.Client
}

func (a *apiClient) newRequest(ctx context.Context, method, path, body, idemKey string) (*http.Request, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	return req, nil
}

// createID posts a form during setup and returns the "id" of the answer.
func (a *apiClient) createID(ctx context.Context, path, body, idemKey string) (string, error) {
	req, err := a.newRequest(ctx, http.MethodPost, path, body, idemKey)
	if err != nil {
		return "", err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("setup POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("setup POST %s: %v", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("setup POST %s: %s: %s", path, resp.Status, snippet(raw))
	}
	var doc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.ID == "" {
		return "", fmt.Errorf("setup POST %s: no id in the answer: %s", path, snippet(raw))
	}
	return doc.ID, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// setupScenario creates what the scenario needs (one cardholder; one card for card-retrieve;
// nothing for payment-intent, whose card is a test token) and returns the request builder.
// Every POST carries its own Idempotency-Key.
func setupScenario(ctx context.Context, a *apiClient, name string) (*scenario, error) {
	run := randomHex(8)
	if name == "payment-intent" {
		// Before the cardholder: localstripe has no Issuing, and this scenario needs none.
		return &scenario{name: name,
			request: func(ctx context.Context, i int64) (*http.Request, error) {
				return a.newRequest(ctx, http.MethodPost, "/v1/payment_intents", paymentIntentForm, "bench-"+run+"-pi-"+strconv.FormatInt(i, 10))
			},
			followUp: func(ctx context.Context, i int64, first []byte) (*http.Request, error) {
				path, err := capturePath(first)
				if err != nil {
					return nil, err
				}
				return a.newRequest(ctx, http.MethodPost, path, "", "bench-"+run+"-capture-"+strconv.FormatInt(i, 10))
			}}, nil
	}
	holder, err := a.createID(ctx, "/v1/issuing/cardholders", cardholderForm().Encode(), "bench-"+run+"-holder")
	if err != nil {
		return nil, err
	}
	switch name {
	case "auth-tap":
		return setupAuthTap(ctx, a, run, holder)
	case "card-create":
		body := cardForm(holder)
		return &scenario{name: name, request: func(ctx context.Context, i int64) (*http.Request, error) {
			return a.newRequest(ctx, http.MethodPost, "/v1/issuing/cards", body, "bench-"+run+"-"+strconv.FormatInt(i, 10))
		}}, nil
	case "card-retrieve":
		card, err := a.createID(ctx, "/v1/issuing/cards", cardForm(holder), "bench-"+run+"-card")
		if err != nil {
			return nil, err
		}
		path := "/v1/issuing/cards/" + url.PathEscape(card)
		return &scenario{name: name, request: func(ctx context.Context, _ int64) (*http.Request, error) {
			return a.newRequest(ctx, http.MethodGet, path, "", "")
		}}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(scenarioNames, ", "))
}

func snippet(b []byte) string {
	const max = 600
	s := strings.TrimSpace(string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
