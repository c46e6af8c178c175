package cdn

import (
	"slices"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

func changes(ids ...int64) []icymorning.Change {
	out := make([]icymorning.Change, 0, len(ids))
	for _, id := range ids {
		out = append(out, icymorning.Change{EventID: id, Topic: icymorning.TopicAssetUpdate})
	}
	return out
}

func TestAdvance(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := t0.Add(time.Minute)
	gap := func(id int64, since time.Time) icymorning.InvalidationGap {
		return icymorning.InvalidationGap{ID: id, Since: since}
	}
	tests := []struct {
		name     string
		high     int64
		gaps     []icymorning.InvalidationGap
		changes  []icymorning.Change
		max      int
		wantHigh int64
		wantGaps []icymorning.InvalidationGap
	}{
		{"nothing new", 5, nil, nil, 10, 5, nil},
		{"in a row", 5, nil, changes(6, 7, 8), 10, 8, nil},
		{"skipped ids become gaps", 5, nil, changes(7, 10), 10, 10, []icymorning.InvalidationGap{gap(6, now), gap(8, now), gap(9, now)}},
		{"a gap filled", 10, []icymorning.InvalidationGap{gap(6, t0), gap(8, t0)}, changes(6), 10, 10, []icymorning.InvalidationGap{gap(8, t0)}},
		{"a gap filled beside new ones", 10, []icymorning.InvalidationGap{gap(8, t0)}, changes(8, 12), 10, 12, []icymorning.InvalidationGap{gap(11, now)}},
		{"an old gap given up", 10, []icymorning.InvalidationGap{gap(3, t0.Add(-5*time.Minute)), gap(8, t0)}, nil, 10, 10, []icymorning.InvalidationGap{gap(8, t0)}},
		{"the newest gaps kept past the most", 0, nil, changes(1, 6), 3, 6, []icymorning.InvalidationGap{gap(3, now), gap(4, now), gap(5, now)}},
		{"a long jump of ids keeps the newest", 0, nil, changes(1_000_000), 2, 1_000_000, []icymorning.InvalidationGap{gap(999_998, now), gap(999_999, now)}},
		{"from the start", -1, nil, changes(1, 2), 10, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &icymorning.InvalidationCursor{High: tt.high, Gaps: slices.Clone(tt.gaps)}
			advance(c, tt.changes, now, 3*time.Minute, tt.max)
			if c.High != tt.wantHigh || !slices.Equal(c.Gaps, tt.wantGaps) {
				t.Fatalf("high %d, gaps %v; want %d, %v", c.High, c.Gaps, tt.wantHigh, tt.wantGaps)
			}
		})
	}
}

func TestPathsOf(t *testing.T) {
	of := func(topics ...icymorning.Topic) []icymorning.Change {
		var out []icymorning.Change
		for i, tp := range topics {
			out = append(out, icymorning.Change{EventID: int64(i + 1), Topic: tp})
		}
		return out
	}
	tests := []struct {
		name       string
		changes    []icymorning.Change
		everything bool
		want       []string
	}{
		{"nothing", nil, false, []string{}},
		{"everything", nil, true, []string{analystPaths, assetPaths}},
		{"an asset", of(icymorning.TopicAssetCreation), false, []string{assetPaths}},
		{"a thousand assets", of(slices.Repeat([]icymorning.Topic{icymorning.TopicAssetUpdate}, 1000)...), false, []string{assetPaths}},
		{"every asset topic", of(icymorning.TopicAssetCreation, icymorning.TopicAssetUpdate, icymorning.TopicAssetDeletion), false, []string{assetPaths}},
		{"an analyst", of(icymorning.TopicAnalystDeletion), false, []string{analystPaths}},
		{"both", of(icymorning.TopicAnalystCreation, icymorning.TopicAssetCreation), false, []string{analystPaths, assetPaths}},
		{"a topic unknown here", of("portfolio::creation"), false, []string{analystPaths, assetPaths}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pathsOf(tt.changes, tt.everything); !slices.Equal(got, tt.want) {
				t.Fatalf("pathsOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCallerRef(t *testing.T) {
	a := callerRef("e1", 9, changes(7, 9))
	tests := []struct {
		name string
		ref  string
		same bool
	}{
		{"the same batch again", callerRef("e1", 9, changes(7, 9)), true},
		{"another change", callerRef("e1", 9, changes(8, 9)), false},
		{"one more change", callerRef("e1", 10, changes(7, 9, 10)), false},
		{"another database", callerRef("e2", 9, changes(7, 9)), false},
		{"no changes (the first round)", callerRef("e1", 9, nil), false},
	}
	for _, tt := range tests {
		if (tt.ref == a) != tt.same {
			t.Errorf("%s: %q vs %q, same = %v", tt.name, tt.ref, a, tt.same)
		}
	}
}
