package benchreport

import "slices"

// Median is the middle value of xs, or the mean of the two middle ones; 0
// when xs is empty, so that a benchmark that measured nothing reports 0
// rather than stops.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
