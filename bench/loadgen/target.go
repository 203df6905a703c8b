package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// checkLoopbackURL refuses anything but http:// to a loopback address (127.0.0.0/8, ::1 or
// "localhost", the latter checked again on every dial).
func checkLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad -url: %v", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("refusing %q: only http:// loopback targets are allowed", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("refusing %q: give a base URL without credentials, query or fragment", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("refusing %q: %q is not a loopback address (use 127.0.0.1)", raw, host)
	}
	return u, nil
}

var errNotLoopback = errors.New("connection refused by loadgen: peer is not a loopback address")

// loopbackDial dials and then checks that the peer really is on loopback, whatever the name
// resolved to. dials counts the connections opened, to verify keep-alive.
func loopbackDial(dials *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tcp, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok || !tcp.IP.IsLoopback() {
			c.Close()
			return nil, errNotLoopback
		}
		dials.Add(1)
		return c, nil
	}
}

// newClient gives one worker its own transport holding exactly one keep-alive connection. No
// proxy (HTTP_PROXY is ignored on purpose), no redirects, no compression, HTTP/1.1.
func newClient(timeout time.Duration, dials *atomic.Int64) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           loopbackDial(dials),
		MaxConnsPerHost:       1,
		MaxIdleConnsPerHost:   1,
		MaxIdleConns:          1,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
