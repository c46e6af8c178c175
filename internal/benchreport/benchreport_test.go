package benchreport

import (
	"context"
	"math"
	"os"
	"regexp"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", -1000: "-1,000", 123456: "123,456",
		1_000_000: "1,000,000", -12_345_678: "-12,345,678",
		math.MinInt64: "-9,223,372,036,854,775,808", math.MaxInt64: "9,223,372,036,854,775,807",
	} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMs(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.00 ms", 1234567 * time.Nanosecond: "1.23 ms", 1500 * time.Millisecond: "1500.00 ms", -2 * time.Millisecond: "-2.00 ms",
	} {
		if got := Ms(d); got != want {
			t.Errorf("Ms(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMB(t *testing.T) {
	for b, want := range map[int64]string{
		0: "0.0 MB", 59_949_999: "59.9 MB", 60_000_000: "60.0 MB", 123_456_789: "123.5 MB",
	} {
		if got := MB(b); got != want {
			t.Errorf("MB(%d) = %q, want %q", b, got, want)
		}
	}
}

// ModuleVersion reads what the go command recorded in a Go binary (this
// test's own), and says it does not know for anything else.
func TestModuleVersion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bin string
		unknown   bool
	}{
		{"a Go binary", self, false},
		{"not a Go binary", "/bin/sh", true},
		{"missing", "/nonexistent/bin", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ModuleVersion(context.Background(), tt.bin)
			if (got == "(version unknown)") != tt.unknown {
				t.Errorf("ModuleVersion(%s) = %q, want unknown %v", tt.bin, got, tt.unknown)
			}
		})
	}
}

func TestMachine(t *testing.T) {
	m := Machine()
	if !regexp.MustCompile(`^Machine: [0-9]+ CPUs \(.+\), [0-9.]+ GiB memory, Linux .+$`).MatchString(m) {
		t.Errorf("Machine() = %q", m)
	}
}

func TestField(t *testing.T) {
	text := "Architecture:  aarch64\nModel name:    Neoverse-N1\nModel name: second\n"
	if got := field(text, "Model name"); got != "Neoverse-N1" {
		t.Errorf("field = %q", got)
	}
	if got := field(text, "Missing"); got != "" {
		t.Errorf("field of a missing key = %q", got)
	}
}
