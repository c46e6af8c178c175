package httpapi

import (
	"net/http"
	"testing"
)

func TestViewerAddr(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"serve behind CloudFront: the viewer is last", "192.0.2.10:443", []string{"198.51.100.7"}, "198.51.100.7"},
		{"API Gateway appended the edge (sourceIp)", "192.0.2.10", []string{"198.51.100.7, 192.0.2.10"}, "198.51.100.7"},
		{"a forged first entry is passed over", "192.0.2.10", []string{"203.0.113.99, 198.51.100.7, 192.0.2.10"}, "198.51.100.7"},
		{"several header lines are one list", "192.0.2.10", []string{"203.0.113.99", "198.51.100.7, 192.0.2.10"}, "198.51.100.7"},
		{"IPv6 viewer", "192.0.2.10", []string{"2001:db8::7, 192.0.2.10"}, "2001:db8::7"},
		{"an edge that is an IPv4-mapped peer", "[::ffff:192.0.2.10]:443", []string{"198.51.100.7, 192.0.2.10"}, "198.51.100.7"},
		{"only the peer itself", "192.0.2.10", []string{"192.0.2.10"}, "192.0.2.10"},
		{"no header", "192.0.2.10", nil, ""},
		{"garbage last", "192.0.2.10", []string{"198.51.100.7, not-an-address"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := viewerAddr(r); got != tt.want {
				t.Errorf("viewerAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
