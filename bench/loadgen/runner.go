package main

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one finished request: when it finished (since the measured start), how long it took
// (from its intended send time in open loop, from its actual send time in closed loop), its
// HTTP status (0 for a transport error).
type sample struct {
	at     time.Duration
	lat    time.Duration
	status int
}

type plan struct {
	conns    int
	duration time.Duration // 0: no time bound
	count    int64         // 0: no count bound
	rate     float64       // requests per second; 0: closed loop
}

type outcome struct {
	samples    []sample
	elapsed    time.Duration
	scheduled  int64 // open loop: requests the timetable held before the deadline
	firstError string
}

// errorSink keeps the first failure's description; later ones are only counted.
type errorSink struct {
	once sync.Once
	msg  string
}

func (e *errorSink) note(msg string) { e.once.Do(func() { e.msg = msg }) }

// send runs one operation to completion: its request, and its follow-up after a 2xx answer.
// The status is the last request's (0 for a transport error or a follow-up that could not be
// built from the first answer).
func send(ctx context.Context, client *http.Client, sc *scenario, i int64, errs *errorSink) int {
	req, err := sc.request(ctx, i)
	if err != nil {
		errs.note("building request: " + err.Error())
		return 0
	}
	status, body := roundTrip(ctx, client, req, sc.followUp != nil, errs)
	if sc.followUp == nil || status/100 != 2 {
		return status
	}
	next, err := sc.followUp(ctx, i, body)
	if err != nil {
		errs.note("building the follow-up: " + err.Error())
		return 0
	}
	status, _ = roundTrip(ctx, client, next, false, errs)
	return status
}

// roundTrip sends one request and reads the whole body so the connection is reused; keep
// returns a 2xx body (up to 1 MB) for a follow-up.
func roundTrip(ctx context.Context, client *http.Client, req *http.Request, keep bool, errs *errorSink) (int, []byte) {
	resp, err := client.Do(req)
	if err != nil {
		if !errors.Is(ctx.Err(), context.Canceled) {
			errs.note("transport: " + err.Error())
		}
		return 0, nil
	}
	var kept []byte
	if resp.StatusCode/100 == 2 {
		if keep {
			kept, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		}
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
		}
	} else {
		var raw []byte
		raw, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_, _ = io.Copy(io.Discard, resp.Body)
		errs.note(req.Method + " " + req.URL.Path + " → " + resp.Status + ": " + snippet(raw))
	}
	resp.Body.Close()
	if err != nil {
		errs.note("reading body: " + err.Error())
		return 0, nil
	}
	return resp.StatusCode, kept
}

// sleepUntil waits for t or for the context; false if the context ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// execute runs the plan with one worker per client. In closed loop each worker sends its next
// request as soon as its previous one finished. In open loop request i is due at
// start + i/rate; a free worker takes the next due request (sleeping until it is due), and its
// latency counts from the due time, so time spent queued behind a slow answer is measured.
// No request starts after the deadline; requests of the timetable that were due before the
// deadline but never started (the server could not keep up) are reported as unsent.
func execute(ctx context.Context, clients []*http.Client, sc *scenario, p plan, record bool) outcome {
	var next atomic.Int64
	errs := &errorSink{}
	start := time.Now()
	var deadline time.Time
	if p.duration > 0 {
		deadline = start.Add(p.duration)
	}
	var interval float64 // nanoseconds between due times
	if p.rate > 0 {
		interval = 1e9 / p.rate
	}
	perWorker := make([][]sample, len(clients))
	var wg sync.WaitGroup
	for w, client := range clients {
		wg.Add(1)
		go func(w int, client *http.Client) {
			defer wg.Done()
			var local []sample
			if record {
				local = make([]sample, 0, 1024)
			}
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if p.count > 0 && i >= p.count {
					break
				}
				var sendFrom time.Time
				if p.rate > 0 {
					due := start.Add(time.Duration(float64(i) * interval))
					if !deadline.IsZero() && !due.Before(deadline) {
						break
					}
					if !sleepUntil(ctx, due) {
						break
					}
					sendFrom = due
				}
				now := time.Now()
				if !deadline.IsZero() && !now.Before(deadline) {
					break
				}
				if p.rate == 0 {
					sendFrom = now
				}
				status := send(ctx, client, sc, i, errs)
				end := time.Now()
				if status == 0 && ctx.Err() != nil {
					break // interrupted: not a server error
				}
				if record {
					local = append(local, sample{at: end.Sub(start), lat: end.Sub(sendFrom), status: status})
				}
			}
			perWorker[w] = local
		}(w, client)
	}
	wg.Wait()
	out := outcome{elapsed: time.Since(start), firstError: errs.msg}
	n := 0
	for _, s := range perWorker {
		n += len(s)
	}
	out.samples = make([]sample, 0, n)
	for _, s := range perWorker {
		out.samples = append(out.samples, s...)
	}
	if p.rate > 0 {
		due := p.count
		if !deadline.IsZero() {
			// due times 0, interval, 2·interval, … strictly before the deadline
			byTime := int64(math.Ceil(float64(p.duration.Nanoseconds()) / interval))
			if due == 0 || byTime < due {
				due = byTime
			}
		}
		out.scheduled = due
	}
	return out
}
