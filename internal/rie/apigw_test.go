//go:build linux

package rie

import (
	"encoding/json"
	"testing"
)

func TestHTTPEvent(t *testing.T) {
	ev := HTTPEvent(Request{Method: "GET", Path: "/api/v1/assets", RawQuery: "a=1&b=x%20y&a=2", RequestID: "gw-1",
		Header: map[string]string{"user-agent": "ua", "host": "example.org"}})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version        string            `json:"version"`
		RawPath        string            `json:"rawPath"`
		RawQueryString string            `json:"rawQueryString"`
		Query          map[string]string `json:"queryStringParameters"`
		Headers        map[string]string `json:"headers"`
		RequestContext struct {
			RequestID string `json:"requestId"`
			Stage     string `json:"stage"`
			HTTP      struct {
				Method    string `json:"method"`
				Path      string `json:"path"`
				UserAgent string `json:"userAgent"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"version", got.Version, "2.0"},
		{"rawPath", got.RawPath, "/api/v1/assets"},
		{"rawQueryString", got.RawQueryString, "a=1&b=x%20y&a=2"},
		{"query a", got.Query["a"], "1,2"},
		{"query b", got.Query["b"], "x y"},
		{"host header overridden", got.Headers["host"], "example.org"},
		{"requestId", got.RequestContext.RequestID, "gw-1"},
		{"stage", got.RequestContext.Stage, "$default"},
		{"method", got.RequestContext.HTTP.Method, "GET"},
		{"http.path", got.RequestContext.HTTP.Path, "/api/v1/assets"},
		{"userAgent", got.RequestContext.HTTP.UserAgent, "ua"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestDecodeHTTPResponse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		status   int
		body     string
		header   map[string][]string
		wantFail bool
	}{
		{name: "single-value headers", in: `{"statusCode":201,"headers":{"Content-Type":"application/json"},"body":"{}"}`,
			status: 201, body: "{}", header: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "multi-value headers merged", in: `{"statusCode":200,"headers":{"x-a":"1"},"multiValueHeaders":{"X-A":["1","2"],"Link":["<a>","<b>"]},"body":""}`,
			status: 200, header: map[string][]string{"X-A": {"1", "2"}, "Link": {"<a>", "<b>"}}},
		{name: "base64 body", in: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, status: 200, body: "hi"},
		{name: "bad base64", in: `{"statusCode":200,"body":"!","isBase64Encoded":true}`, wantFail: true},
		{name: "no status", in: `{"body":"x"}`, wantFail: true},
		{name: "not JSON", in: `Task timed out`, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeHTTPResponse([]byte(tt.in))
			if tt.wantFail {
				if err == nil {
					t.Fatalf("got %+v, want an error", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != tt.status || string(r.Body) != tt.body {
				t.Errorf("got %d %q, want %d %q", r.StatusCode, r.Body, tt.status, tt.body)
			}
			for k, want := range tt.header {
				if got := r.Header.Values(k); len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) || (len(got) > 1 && got[1] != want[1]) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
