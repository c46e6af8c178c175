package benchreport

import (
	"strings"
	"testing"
)

func TestMarkdownTable(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		left   int
		rows   [][]string
		want   string
	}{
		{"text then figures", []string{"Scenario", "req/s", "p99"}, 1, [][]string{{"GET", "1,000", "2.00 ms"}, {"POST", "900", "3.00 ms"}},
			"| Scenario | req/s | p99 |\n|---|--:|--:|\n| GET | 1,000 | 2.00 ms |\n| POST | 900 | 3.00 ms |\n"},
		{"all text", []string{"a", "b"}, 2, [][]string{{"x", "y"}}, "| a | b |\n|---|---|\n| x | y |\n"},
		{"no rows", []string{"a", "n"}, 1, nil, "| a | n |\n|---|--:|\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			MarkdownTable(&sb, tt.header, tt.left, tt.rows)
			if got := sb.String(); got != tt.want {
				t.Errorf("MarkdownTable =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPassFail(t *testing.T) {
	for ok, want := range map[bool]string{true: "PASS", false: "FAIL"} {
		if got := PassFail(ok); got != want {
			t.Errorf("PassFail(%v) = %q, want %q", ok, got, want)
		}
	}
}
