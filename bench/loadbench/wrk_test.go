//go:build linux

package main

import (
	"testing"
	"time"
)

// wrk's report as Debian's wrk 4.1.0 prints it, with the error lines it
// adds only when there were errors.
const wrkSample = `Running 1s test @ http://127.0.0.1:18571/api/v1/assets/99999
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   408.92us    1.44ms  23.16ms   98.42%
    Req/Sec     7.98k     1.03k    8.83k    90.91%
  Latency Distribution
     50%  229.00us
     75%  296.00us
     90%  394.00us
     99%    6.69ms
  8732 requests in 1.10s, 2.17MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 8732
Requests/sec:   7939.03
Transfer/sec:      1.97MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 8732, rps: 7939.03, p50: 229 * time.Microsecond, p99: 6690 * time.Microsecond, non2xx: 8732, socketErrors: 10}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
}

func TestParseWrkIncomplete(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parseWrk accepted a report without figures")
	}
}

func TestWrkDuration(t *testing.T) {
	for in, want := range map[[2]string]time.Duration{
		{"476.00", "us"}: 476 * time.Microsecond,
		{"1.50", "ms"}:   1500 * time.Microsecond,
		{"2.00", "s"}:    2 * time.Second,
		{"1.50", "m"}:    90 * time.Second,
	} {
		if got, err := wrkDuration(in[0], in[1]); err != nil || got != want {
			t.Errorf("wrkDuration(%q, %q) = %v, %v; want %v", in[0], in[1], got, err, want)
		}
	}
}
