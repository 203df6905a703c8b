package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// authHook chooses the decision hook of the auth-tap scenario: "local" (a loopback receiver
// of this process that verifies the signature and approves; the platform's endpoint is disabled
// for the run) or "platform" (the server's own platform receiver, left as it is).
var authHook = "local"

// do sends one setup request and returns the body of a 2xx answer.
func (a *apiClient) do(ctx context.Context, method, path, body string) ([]byte, error) {
	req, err := a.newRequest(ctx, method, path, body, "")
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("setup %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("setup %s %s: %v", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("setup %s %s: %s: %s", method, path, resp.Status, snippet(raw))
	}
	return raw, nil
}

// setupAuthTap funds the platform's Issuing balance, makes a card for doctors in France and the
// decision hook, and returns taps of 1 € at a doctor's, each with its own Idempotency-Key.
func setupAuthTap(ctx context.Context, a *apiClient, run, holder string) (*scenario, error) {
	topup := url.Values{"amount": {"99999999"}, "currency": {"eur"}, "destination_balance": {"issuing"}}
	if _, err := a.do(ctx, http.MethodPost, "/v1/topups", topup.Encode()); err != nil {
		return nil, err
	}
	card := url.Values{
		"cardholder": {holder}, "currency": {"eur"}, "type": {"virtual"}, "status": {"active"},
		"spending_controls[allowed_categories][0]":         {"doctors"},
		"spending_controls[allowed_merchant_countries][0]": {"FR"},
	}
	cardID, err := a.createID(ctx, "/v1/issuing/cards", card.Encode(), "bench-"+run+"-card")
	if err != nil {
		return nil, err
	}
	var cleanup func()
	switch authHook {
	case "local":
		hook, err := startHook()
		if err != nil {
			return nil, err
		}
		cleanup = hook.close
		if err := disablePlatformEndpoint(ctx, a); err != nil {
			hook.close()
			return nil, err
		}
		we := url.Values{"url": {hook.URL}, "enabled_events[]": {"issuing_authorization.request"}}
		raw, err := a.do(ctx, http.MethodPost, "/v1/webhook_endpoints", we.Encode())
		if err != nil {
			hook.close()
			return nil, err
		}
		var doc struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || !strings.HasPrefix(doc.Secret, "whsec_") {
			hook.close()
			return nil, fmt.Errorf("setup: no webhook secret in %s", snippet(raw))
		}
		hook.setSecret(doc.Secret)
	case "platform":
	default:
		return nil, fmt.Errorf("-hook must be local or platform, not %q", authHook)
	}
	body := url.Values{
		"card": {cardID}, "amount": {"100"}, "currency": {"eur"},
		"merchant_data[category]": {"doctors"}, "merchant_data[country]": {"FR"},
		"merchant_data[name]": {"Bench doctor"},
	}.Encode()
	return &scenario{name: "auth-tap", cleanup: cleanup, request: func(ctx context.Context, i int64) (*http.Request, error) {
		return a.newRequest(ctx, http.MethodPost, "/v1/test_helpers/issuing/authorizations", body, "bench-"+run+"-tap-"+strconv.FormatInt(i, 10))
	}}, nil
}

// disablePlatformEndpoint turns off the server's own platform endpoint so the local hook is the
// only one deciding.
func disablePlatformEndpoint(ctx context.Context, a *apiClient) error {
	raw, err := a.do(ctx, http.MethodGet, "/v1/webhook_endpoints?limit=100", "")
	if err != nil {
		return err
	}
	var list struct {
		Data []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("setup: webhook endpoints: %v", err)
	}
	for _, e := range list.Data {
		if strings.HasSuffix(e.URL, "/v1/platform/psp_events") {
			if _, err := a.do(ctx, http.MethodPost, "/v1/webhook_endpoints/"+url.PathEscape(e.ID), "disabled=true"); err != nil {
				return err
			}
		}
	}
	return nil
}
