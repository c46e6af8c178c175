package testcheck

import (
	"fmt"
	"testing"
)

// recorder keeps what FailMany reports.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestFailMany(t *testing.T) {
	tests := []struct {
		name  string
		items []string
		want  []string
	}{
		{"none", nil, nil},
		{"one", []string{"write 7"}, []string{"1 writes lost:\n\twrite 7"}},
		{"sorted", []string{"b", "a"}, []string{"2 writes lost:\n\ta\n\tb"}},
		{"more than shown", []string{"g", "f", "e", "d", "c", "b", "a"},
			[]string{"7 writes lost:\n\ta\n\tb\n\tc\n\td\n\te\n\t… and 2 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			items := append([]string(nil), tt.items...)
			FailMany(&r, "writes lost", items)
			if fmt.Sprint(r.errs) != fmt.Sprint(tt.want) {
				t.Errorf("reported %q, want %q", r.errs, tt.want)
			}
			if fmt.Sprint(items) != fmt.Sprint(tt.items) {
				t.Errorf("the caller's items were reordered: %q", items)
			}
		})
	}
}
