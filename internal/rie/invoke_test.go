//go:build linux

package rie

import (
	"errors"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantBody string
		wantType string // FunctionError.Type; "" means no FunctionError
		wantErr  bool   // a plain (emulator) error
	}{
		{name: "answer", status: 200, body: `{"statusCode":200,"body":"{}"}`, wantBody: `{"statusCode":200,"body":"{}"}`},
		{name: "answer with only errorType is not an error", status: 200, body: `{"errorType":"x"}`, wantBody: `{"errorType":"x"}`},
		{name: "non-JSON answer", status: 200, body: `hello`, wantBody: `hello`},
		{name: "empty answer", status: 200, body: ``, wantBody: ``},
		{name: "returned error", status: 200, body: `{"errorMessage":"boom","errorType":"errorString"}`, wantType: "errorString"},
		{name: "timeout", status: 200, body: `Task timed out after 1.00 seconds`, wantType: "Timeout"},
		{name: "panic", status: 502, body: `{"errorMessage":"p","errorType":"string","stackTrace":[]}`, wantType: "string"},
		{name: "exit", status: 502, body: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: x Error: Runtime exited with error: exit status 3"}`, wantType: "Runtime.ExitError"},
		{name: "init failure", status: 502, body: ``, wantType: "Runtime.Unknown"},
		{name: "overlapping invoke", status: 400, body: ``, wantErr: true},
		{name: "emulator trouble", status: 500, body: ``, wantErr: true},
		{name: "reservation timeout", status: 504, body: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classify(tt.status, []byte(tt.body))
			var fe *FunctionError
			switch {
			case tt.wantType != "":
				if !errors.As(err, &fe) {
					t.Fatalf("got (%q, %v), want a FunctionError of type %s", got, err, tt.wantType)
				}
				if fe.Type != tt.wantType || fe.Status != tt.status || string(fe.Body) != tt.body {
					t.Fatalf("got %+v, want type %s status %d", fe, tt.wantType, tt.status)
				}
			case tt.wantErr:
				if err == nil || errors.As(err, &fe) {
					t.Fatalf("got (%q, %v), want a plain error", got, err)
				}
			default:
				if err != nil || string(got) != tt.wantBody {
					t.Fatalf("got (%q, %v), want %q", got, err, tt.wantBody)
				}
			}
		})
	}
}
