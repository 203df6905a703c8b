// Command loadgen drives a Stripe Issuing–shaped server on loopback and reports throughput and
// latency without coordinated omission. It has two subcommands:
//
//	loadgen run    -url http://127.0.0.1:PORT -scenario card-create|card-retrieve -c N -duration 10s [-rate R]
//	loadgen report [-baseline stripe-mock] [FILE.jsonl ...]
//
// run is closed loop ("max throughput": N workers, each with one keep-alive connection, each
// sending its next request as soon as the previous answer arrived) unless -rate is given; then it
// is open loop: requests are scheduled on a fixed timetable (request i at start + i/rate), N
// connections serve that timetable, and latency is measured from the intended send time, so a
// stalled server is charged for the requests it kept waiting. run prints one JSON line on
// standard output and one human line on standard error. report turns JSON lines into markdown.
//
// Only loopback targets are accepted; every connection is checked after it is dialled.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:], os.Stdin, os.Stdout)
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown subcommand %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  loadgen run -url http://127.0.0.1:PORT -scenario card-create|card-retrieve [-c N] [-duration D] [-n COUNT] [-rate R] ...
  loadgen report [-baseline SERVER] [FILE.jsonl ...]   (reads standard input without files)

run -h and report -h list every flag.
`)
}
