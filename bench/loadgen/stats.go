package main

import (
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are in milliseconds in every report.
type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

type segment struct {
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
	OK    int64   `json:"ok"`
	RPS   float64 `json:"rps"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
}

// percentile is the nearest-rank percentile of sorted values (0 < p ≤ 100).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d.Nanoseconds())/1e3) / 1e3
}

func summarize(lats []time.Duration) latency {
	if len(lats) == 0 {
		return latency{}
	}
	sorted := slices.Clone(lats)
	slices.Sort(sorted)
	var sum time.Duration
	for _, l := range sorted {
		sum += l
	}
	return latency{
		P50:  ms(percentile(sorted, 50)),
		P90:  ms(percentile(sorted, 90)),
		P99:  ms(percentile(sorted, 99)),
		Max:  ms(sorted[len(sorted)-1]),
		Mean: ms(sum / time.Duration(len(sorted))),
	}
}

func isOK(status int) bool { return status/100 == 2 }

// segments cuts the run into k equal slices of time by completion time and gives each one's
// throughput (2xx answers per second) and latency.
func segments(samples []sample, elapsed time.Duration, k int) []segment {
	if k <= 0 || elapsed <= 0 {
		return nil
	}
	width := elapsed / time.Duration(k)
	if width <= 0 {
		return nil
	}
	lats := make([][]time.Duration, k)
	oks := make([]int64, k)
	for _, s := range samples {
		j := int(s.at / width)
		if j >= k {
			j = k - 1
		}
		lats[j] = append(lats[j], s.lat)
		if isOK(s.status) {
			oks[j]++
		}
	}
	out := make([]segment, k)
	for j := range out {
		from := width * time.Duration(j)
		to := from + width
		if j == k-1 {
			to = elapsed
		}
		l := summarize(lats[j])
		out[j] = segment{
			FromS: round(from.Seconds(), 3),
			ToS:   round(to.Seconds(), 3),
			OK:    oks[j],
			RPS:   round(float64(oks[j])/(to-from).Seconds(), 1),
			P50:   l.P50,
			P99:   l.P99,
		}
	}
	return out
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// hdrLatency is the open-loop report's HdrHistogram view (microsecond resolution, 3
// significant digits, up to one minute): the tail percentiles a sorted sample gives only
// coarsely, and the max.
type hdrLatency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func hdrSummary(lats []time.Duration) hdrLatency {
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	for _, l := range lats {
		us := l.Microseconds()
		if us < 1 {
			us = 1
		}
		// A latency past the range is recorded at the top rather than lost.
		if err := h.RecordValue(us); err != nil {
			_ = h.RecordValue(h.HighestTrackableValue())
		}
	}
	ms := func(us int64) float64 { return round(float64(us)/1e3, 3) }
	return hdrLatency{
		P50:  ms(h.ValueAtQuantile(50)),
		P99:  ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)),
		Max:  ms(h.Max()),
	}
}
