package auth

import (
	"context"
	"encoding/base64"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestBasicAuthenticate(t *testing.T) {
	b, err := NewBasic("admin", "s3cret:with:colons")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"right", basic("admin", "s3cret:with:colons"), true},
		{"scheme is case-insensitive", "basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret:with:colons")), true},
		{"wrong password", basic("admin", "nope"), false},
		{"wrong user", basic("root", "s3cret:with:colons"), false},
		{"password prefix", basic("admin", "s3cret"), false},
		{"empty", "", false},
		{"empty credentials", basic("", ""), false},
		{"bearer", "Bearer abc", false},
		{"bad base64", "Basic !!!", false},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := b.Authenticate(context.Background(), tt.header)
			if tt.ok {
				if err != nil || p.Subject != "admin" {
					t.Fatalf("got %v, %v; want admin", p, err)
				}
				return
			}
			if icymorning.ErrorCode(err) != icymorning.EUNAUTHORIZED || p != nil {
				t.Fatalf("got %v, %v; want EUNAUTHORIZED", p, err)
			}
		})
	}
}

func TestNewBasicRefusesEmptyCredentials(t *testing.T) {
	for _, c := range [][2]string{{"", ""}, {"admin", ""}, {"", "pw"}} {
		if _, err := NewBasic(c[0], c[1]); err == nil {
			t.Errorf("NewBasic(%q, %q) accepted empty credentials", c[0], c[1])
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	a, b := GeneratePassword(), GeneratePassword()
	if len(a) < 20 || a == b {
		t.Fatalf("weak or repeated passwords: %q %q", a, b)
	}
}
