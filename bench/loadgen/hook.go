package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hookServer is a local decision hook for the auth-tap scenario: it checks Stripe's
// Stripe-Signature on every request (HMAC-SHA256 of "{t}.{body}" with the whsec_ secret, 300 s
// tolerance, constant-time compare) and approves. It listens on loopback only.
type hookServer struct {
	URL      string
	srv      *http.Server
	mu       sync.RWMutex
	secret   string
	approved atomic.Int64
	refused  atomic.Int64
}

func startHook() (*hookServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookServer{URL: "http://" + ln.Addr().String() + "/hook"}
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", h.serve)
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hookServer) setSecret(s string) {
	h.mu.Lock()
	h.secret = s
	h.mu.Unlock()
}

func (h *hookServer) close() { _ = h.srv.Close() }

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	h.mu.RLock()
	secret := h.secret
	h.mu.RUnlock()
	if err := verifySignature(r.Header.Get("Stripe-Signature"), body, secret, time.Now(), 300*time.Second); err != nil {
		h.refused.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.approved.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"approved":true}`))
}

// verifySignature checks a Stripe-Signature header (t=…,v1=…[,v1=…]) against the raw body.
func verifySignature(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	if len(header) > 2048 {
		return errors.New("signature header too long")
	}
	var ts int64 = -1
	var sigs [][]byte
	for i, part := range strings.Split(header, ",") {
		if i >= 16 {
			return errors.New("too many signature entries")
		}
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errors.New("bad timestamp")
			}
			ts = n
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts < 0 || len(sigs) == 0 {
		return errors.New("no timestamp or no v1 signature")
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > tolerance || age < -tolerance {
		return errors.New("timestamp outside the tolerance")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}
