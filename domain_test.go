package icymorning

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2024-02-29", "2024-02-29", true},
		{"0001-01-01", "0001-01-01", true},
		{"2023-02-29", "", false},
		{"2024-13-01", "", false},
		{"2024-1-1", "", false},
		{"2024-01-01T00:00:00Z", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || (tt.ok && d.String() != tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v", tt.in, d, err)
		}
	}
	if DateOf(time.Date(2020, 5, 6, 23, 59, 0, 0, time.UTC)).String() != "2020-05-06" {
		t.Error("DateOf")
	}
}

func TestValidateEmail(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"ada@example.com", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"", false},
		{"ada", false},
		{"ada@", false},
		{"@example.com", false},
		{"ada@localhost", false},
		{"Ada <ada@example.com>", false},
		{"ada@example.com, bob@example.com", false},
		{strings.Repeat("a", 245) + "@example.com", false},
	}
	for _, tt := range tests {
		if err := ValidateEmail(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidateEmail(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestSubscriptionNormalize(t *testing.T) {
	s := Subscription{Email: "  Ada.L@Example.COM "}
	s.Normalize()
	if s.Email != "Ada.L@example.com" || s.Topic != TopicAssetCreation {
		t.Fatalf("%+v", s)
	}
	if err := (&Subscription{Email: "a@example.com", Topic: "other"}).Validate(); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown topic accepted: %v", err)
	}
}

func TestAssetValidate(t *testing.T) {
	desc := strings.Repeat("d", MaxDescriptionLength+1)
	ok := Asset{Name: "Fund", InceptionDate: Date{2020, 1, 1}, AnalystID: 1}
	tests := []struct {
		name  string
		edit  func(a *Asset)
		field string
	}{
		{"valid", func(*Asset) {}, ""},
		{"empty name", func(a *Asset) { a.Name = "" }, "name"},
		{"long description", func(a *Asset) { a.Description = &desc }, "description"},
		{"no date", func(a *Asset) { a.InceptionDate = Date{} }, "inception_date"},
		{"no analyst", func(a *Asset) { a.AnalystID = 0 }, "analyst_id"},
	}
	for _, tt := range tests {
		a := ok
		tt.edit(&a)
		err := a.Validate()
		var e *Error
		if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &e) || e.Field != tt.field || e.Code != EINVALID) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	u := AssetUpdate{Name: Set("")}
	if ErrorCode(u.Validate()) != EINVALID {
		t.Error("update with empty name accepted")
	}
	if (&AssetUpdate{}).Validate() != nil {
		t.Error("empty update refused")
	}
}

func TestErrorHelpers(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", Errorf(ENOTFOUND, "asset %d not found", 3))
	if ErrorCode(wrapped) != ENOTFOUND || ErrorMessage(wrapped) != "asset 3 not found" {
		t.Fatalf("%q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	secret := errors.New("dial tcp 10.0.0.1: password=hunter2")
	if ErrorCode(secret) != EINTERNAL || strings.Contains(ErrorMessage(secret), "hunter2") {
		t.Fatal("internal error leaks")
	}
	if ErrorCode(nil) != "" {
		t.Fatal("nil error has a code")
	}
}

func TestDateString(t *testing.T) {
	for _, d := range []Date{{1, 1, 1}, {999, 12, 31}, {2024, 2, 29}, {9999, 12, 31}, {10000, 1, 1}, {0, 1, 1}} {
		want := fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
		if got := d.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", d, got, want)
		}
	}
}
