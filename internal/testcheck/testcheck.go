// Package testcheck holds checks the end-to-end tests share.
package testcheck

import (
	"fmt"
	"slices"
	"strings"
)

// T is the part of testing.TB that FailMany uses.
type T interface {
	Helper()
	Errorf(format string, args ...any)
}

// shown is how many of a fault's items a failure lists.
const shown = 5

// FailMany fails t once for a fault that many items share, saying how many
// and listing the first few in sorted order, so that a thousand lost
// writes read as one failure, not a thousand lines. No items, no failure.
func FailMany(t T, fault string, items []string) {
	t.Helper()
	if len(items) == 0 {
		return
	}
	sorted := slices.Sorted(slices.Values(items))
	more := ""
	if len(sorted) > shown {
		more = fmt.Sprintf("\n\t… and %d more", len(sorted)-shown)
	}
	t.Errorf("%d %s:\n\t%s%s", len(sorted), fault, strings.Join(sorted[:min(shown, len(sorted))], "\n\t"), more)
}
