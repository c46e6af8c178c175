package benchreport

import (
	"slices"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ratios := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{1.5}, 1.5},
		{"two: their mean", []float64{2.5, 1.5}, 2},
		{"odd", []float64{3, 1, 2}, 2},
	}
	for _, tt := range ratios {
		in := slices.Clone(tt.xs)
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("%s: Median(%v) = %v, want %v", tt.name, tt.xs, got, tt.want)
		}
		if !slices.Equal(in, tt.xs) {
			t.Errorf("%s: Median reordered its input to %v", tt.name, tt.xs)
		}
	}
	durations := []struct {
		xs   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2, truncated
	}
	for _, tt := range durations {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}
