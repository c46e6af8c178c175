package storetest

import (
	"sync"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
)

// Each write of an analyst or asset moves its version; a write that names
// a version (If-Match) changes the row only at that version, and says
// ESTALE otherwise, or ENOTFOUND when there is no row at all.
func testVersions(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	a := newAsset(t, s, "Fund", an.ID, true)
	if an.Version != 1 || a.Version != 1 {
		t.Fatalf("created at versions %d and %d, want 1", an.Version, a.Version)
	}
	for _, tc := range []struct {
		name    string
		write   func(ifVersion int64) (int64, error) // the version after it
		version func() (int64, error)
	}{
		{"asset update", func(v int64) (int64, error) {
			got, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Renamed"), IfVersion: v})
			if err != nil {
				return 0, err
			}
			return got.Version, nil
		}, func() (int64, error) { v, _, err := s.AssetVersion(ctx, a.ID); return v, err }},
		{"analyst update", func(v int64) (int64, error) {
			got, err := s.UpdateAnalyst(ctx, an.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Initech"), IfVersion: v})
			if err != nil {
				return 0, err
			}
			return got.Version, nil
		}, func() (int64, error) { v, _, err := s.AnalystVersion(ctx, an.ID); return v, err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := tc.version()
			must(t, err)
			if v, err := tc.write(0); err != nil || v != before+1 {
				t.Fatalf("unconditional write: version %d, %v; want %d", v, err, before+1)
			}
			if _, err := tc.write(before); icymorning.ErrorCode(err) != icymorning.ESTALE {
				t.Fatalf("write at the old version %d: %v, want ESTALE", before, err)
			}
			if now, err := tc.version(); err != nil || now != before+1 {
				t.Fatalf("a stale write changed the version: %d, %v", now, err)
			}
			if v, err := tc.write(before + 1); err != nil || v != before+2 {
				t.Fatalf("write at the current version: %d, %v", v, err)
			}
		})
	}

	if _, err := s.DeleteAsset(ctx, a.ID, 1); icymorning.ErrorCode(err) != icymorning.ESTALE {
		t.Fatalf("delete at an old version: %v, want ESTALE", err)
	}
	v, _, err := s.AssetVersion(ctx, a.ID)
	must(t, err)
	if _, err := s.DeleteAsset(ctx, a.ID, v); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}
	for name, err := range map[string]error{
		"update of a deleted asset":   second(s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("x"), IfVersion: v})),
		"delete of a deleted asset":   second(s.DeleteAsset(ctx, a.ID, v)),
		"version of a deleted asset":  third(s.AssetVersion(ctx, a.ID)),
		"update of a missing analyst": second(s.UpdateAnalyst(ctx, 9999, icymorning.AnalystUpdate{Name: icymorning.Set("x"), IfVersion: 1})),
		"delete of a missing analyst": second(s.DeleteAnalyst(ctx, 9999, 1)),
	} {
		if icymorning.ErrorCode(err) != icymorning.ENOTFOUND {
			t.Errorf("%s: %v, want ENOTFOUND", name, err)
		}
	}
	v, _, err = s.AnalystVersion(ctx, an.ID)
	must(t, err)
	if _, err := s.DeleteAnalyst(ctx, an.ID, v-1); icymorning.ErrorCode(err) != icymorning.ESTALE {
		t.Fatalf("analyst delete at an old version: %v, want ESTALE", err)
	}
	if _, err := s.DeleteAnalyst(ctx, an.ID, v); err != nil {
		t.Fatalf("analyst delete at the current version: %v", err)
	}
}

// Writers that all start from one version: exactly one wins, the others
// are told ESTALE, and the row holds the winner's write.
func testVersionRace(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	a := newAsset(t, s, "Fund", an.ID, true)
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := string(rune('A' + i))
			_, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set(name), IfVersion: a.Version})
			switch icymorning.ErrorCode(err) {
			case "":
				won <- name
			case icymorning.ESTALE:
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	got, err := s.Asset(ctx, a.ID)
	must(t, err)
	if len(winners) != 1 || got.Name != winners[0] || got.Version != a.Version+1 {
		t.Fatalf("winners %v; the asset is %q at version %d", winners, got.Name, got.Version)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
