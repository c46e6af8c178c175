//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

func TestJWTColdLine(t *testing.T) {
	ms := time.Millisecond
	basic := []time.Duration{30 * ms, 31 * ms, 29 * ms}
	jwt := []time.Duration{33 * ms, 34 * ms, 32 * ms}
	for _, tc := range []struct {
		name               string
		basicInit, jwtInit []time.Duration
		want               []string
		wantNoInit         bool
	}{
		{"with init reports", []time.Duration{10 * ms}, []time.Duration{12 * ms}, []string{"median **3.00 ms** (33.00 ms vs 30.00 ms)", "init (emulator's report) 2.00 ms (12.00 ms vs 10.00 ms)", "loopback"}, false},
		{"without", nil, nil, []string{"median **3.00 ms**"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := jwtColdLine(basic, jwt, tc.basicInit, tc.jwtInit)
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
			if tc.wantNoInit && strings.Contains(line, "init (") {
				t.Errorf("%q reports an init difference without init reports", line)
			}
		})
	}
}
