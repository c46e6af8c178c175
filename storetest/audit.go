package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
)

// Auditor is what the audit case needs beyond icymorning.Store: who created
// a row of analysts or assets and who last changed it, as stored (nil for
// NULL). No domain type carries these columns, so a store exposes them to
// its tests only; the case is skipped, and says so, for a store that does
// not.
type Auditor interface {
	Audit(ctx context.Context, table string, id int64) (createdBy, updatedBy *string, err error)
}

// as is ctx carrying the principal subject, or no principal for "".
func as(subject string) context.Context {
	if subject == "" {
		return ctx
	}
	return icymorning.WithPrincipal(ctx, &icymorning.Principal{Subject: subject, CanWrite: true})
}

// audited is one kind of row the audit case writes: create makes a row as
// the principal ctx carries and returns its id; update changes it.
type audited struct {
	table  string
	create func(t *testing.T, s icymorning.Store, ctx context.Context, analyst int64) int64
	update func(t *testing.T, s icymorning.Store, ctx context.Context, id int64, n int)
}

var auditedKinds = []audited{
	{
		table: "analysts",
		create: func(t *testing.T, s icymorning.Store, ctx context.Context, _ int64) int64 {
			t.Helper()
			a := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
			must(t, s.CreateAnalyst(ctx, a))
			return a.ID
		},
		update: func(t *testing.T, s icymorning.Store, ctx context.Context, id int64, n int) {
			t.Helper()
			_, err := s.UpdateAnalyst(ctx, id, icymorning.AnalystUpdate{Company: icymorning.Set(fmt.Sprintf("Acme %d", n))})
			must(t, err)
		},
	},
	{
		table: "assets",
		create: func(t *testing.T, s icymorning.Store, ctx context.Context, analyst int64) int64 {
			t.Helper()
			a := &icymorning.Asset{Name: "Fund", InceptionDate: icymorning.Date{Year: 2020, Month: 1, Day: 2}, AnalystID: analyst}
			must(t, s.CreateAsset(ctx, a))
			return a.ID
		},
		update: func(t *testing.T, s icymorning.Store, ctx context.Context, id int64, n int) {
			t.Helper()
			_, err := s.UpdateAsset(ctx, id, icymorning.AssetUpdate{Name: icymorning.Set(fmt.Sprintf("Fund %d", n))})
			must(t, err)
		},
	},
}

// wantAudit fails unless row id of table records created and updated (""
// for NULL).
func wantAudit(t *testing.T, au Auditor, table string, id int64, created, updated string) {
	t.Helper()
	c, u, err := au.Audit(ctx, table, id)
	must(t, err)
	if str(c) != str(ptr(created)) || str(u) != str(ptr(updated)) {
		t.Fatalf("%s %d: created_by %s, updated_by %s; want %s, %s", table, id, str(c), str(u), str(ptr(created)), str(ptr(updated)))
	}
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func str(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// Every analyst and asset records who created it and who last changed it:
// the subject of the principal the call's context carries, NULL without
// one; an update changes only updated_by, and a failed one nothing.
func testAudit(t *testing.T, s icymorning.Store, _ *clock) {
	au, ok := s.(Auditor)
	if !ok {
		t.Skip("the store does not expose its audit columns to tests (storetest.Auditor)")
	}
	analyst := newAnalyst(t, s, "Owner")
	for _, kind := range auditedKinds {
		t.Run(kind.table, func(t *testing.T) {
			// Each step writes as the principal by (none for "") and then
			// the row must record created and updated.
			type step struct {
				name             string
				by               string
				write            func(ctx context.Context, id *int64)
				created, updated string
			}
			n := 0
			create := func(ctx context.Context, id *int64) { *id = kind.create(t, s, ctx, analyst.ID) }
			update := func(ctx context.Context, id *int64) { n++; kind.update(t, s, ctx, *id, n) }
			inTx := func(ctx context.Context, id *int64) {
				must(t, s.InTx(ctx, func(tx icymorning.Tx) error {
					// The transaction's handle writes as the principal of
					// the context each call is given.
					n++
					if kind.table == "analysts" {
						_, err := tx.UpdateAnalyst(ctx, *id, icymorning.AnalystUpdate{Name: icymorning.Set(fmt.Sprintf("Ada %d", n))})
						return err
					}
					_, err := tx.UpdateAsset(ctx, *id, icymorning.AssetUpdate{IsActive: icymorning.Set(n%2 == 0)})
					return err
				}))
			}
			steps := []step{
				{"created by A", "alice", create, "alice", "alice"},
				{"updated by B", "bob@example.com", update, "alice", "bob@example.com"},
				{"updated by A again", "alice", update, "alice", "alice"},
				{"updated in a transaction by B", "bob@example.com", inTx, "alice", "bob@example.com"},
				{"updated without a principal", "", update, "alice", ""},
				{"created without a principal", "", create, "", ""},
				{"then updated by B", "bob@example.com", update, "", "bob@example.com"},
				{"created by a subject of odd text", "Zoë 'x' \\ %_ 株式", create, "Zoë 'x' \\ %_ 株式", "Zoë 'x' \\ %_ 株式"},
			}
			var id int64
			for _, st := range steps {
				st.write(as(st.by), &id)
				t.Run(st.name, func(t *testing.T) { wantAudit(t, au, kind.table, id, st.created, st.updated) })
			}
			// A refused update changes no one's record.
			if kind.table == "analysts" {
				_, err := s.UpdateAnalyst(as("mallory"), id, icymorning.AnalystUpdate{Name: icymorning.Set("")})
				wantCode(t, err, icymorning.EINVALID)
			} else {
				_, err := s.UpdateAsset(as("mallory"), id, icymorning.AssetUpdate{AnalystID: icymorning.Set[int64](9999)})
				wantCode(t, err, icymorning.EINVALID)
			}
			last := steps[len(steps)-1]
			wantAudit(t, au, kind.table, id, last.created, last.updated)
		})
	}

	// Writes that run together (a group commit, a batch of creates) each
	// record their own caller's principal.
	t.Run("concurrent", func(t *testing.T) {
		const writers = 16
		ids := make([][2]int64, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				ctx := as(fmt.Sprintf("user-%d", i))
				an := &icymorning.Analyst{Name: fmt.Sprintf("A%d", i), Company: "Acme"}
				asset := &icymorning.Asset{Name: fmt.Sprintf("F%d", i), InceptionDate: icymorning.Date{Year: 2020, Month: 1, Day: 2}, AnalystID: analyst.ID}
				if err := s.CreateAnalyst(ctx, an); err != nil {
					t.Error(err)
					return
				}
				if err := s.CreateAsset(ctx, asset); err != nil {
					t.Error(err)
					return
				}
				ids[i] = [2]int64{an.ID, asset.ID}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, id := range ids {
			who := fmt.Sprintf("user-%d", i)
			wantAudit(t, au, "analysts", id[0], who, who)
			wantAudit(t, au, "assets", id[1], who, who)
		}
	})
}
