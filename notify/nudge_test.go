package notify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/notify"
)

// Each committed change to an asset is followed by one nudge; a change
// that fails is not.
func TestNudgeAfterChanges(t *testing.T) {
	ctx := context.Background()
	raw := openStore(t, "sqlite:///"+filepath.Join(t.TempDir(), "n.db"))
	nudges := 0
	s := notify.NudgeAfterChanges(raw, func(context.Context) { nudges++ })
	analyst := &icymorning.Analyst{Name: "Ada", Company: "E"}
	must(t, s.CreateAnalyst(ctx, analyst))
	asset := &icymorning.Asset{Name: "Fund", InceptionDate: icymorning.DateOf(time.Now()), AnalystID: analyst.ID}
	name := "Fund 2"
	for _, tt := range []struct {
		name   string
		change func() error
		want   int
	}{
		{"analyst created", func() error { return nil }, 0},
		{"asset created", func() error { return s.CreateAsset(ctx, asset) }, 1},
		{"create refused", func() error {
			return s.CreateAsset(ctx, &icymorning.Asset{Name: "X", InceptionDate: asset.InceptionDate, AnalystID: 999})
		}, 1},
		{"asset updated", func() error {
			_, err := s.UpdateAsset(ctx, asset.ID, icymorning.AssetUpdate{Name: icymorning.Set(name)})
			return err
		}, 2},
		{"update of no asset", func() error {
			_, err := s.UpdateAsset(ctx, 999, icymorning.AssetUpdate{Name: icymorning.Set(name)})
			return err
		}, 2},
		{"asset deleted", func() error { _, err := s.DeleteAsset(ctx, asset.ID, 0); return err }, 3},
		{"deleted again", func() error { _, err := s.DeleteAsset(ctx, asset.ID, 0); return err }, 3},
	} {
		_ = tt.change()
		if nudges != tt.want {
			t.Fatalf("after %s: %d nudges, want %d", tt.name, nudges, tt.want)
		}
	}
}
