package benchreport

import (
	"math"
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
