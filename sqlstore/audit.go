package sqlstore

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
)

// Who did it: analysts and assets record the principal that created each
// row (created_by) and the one that last changed it (updated_by), migration
// 00005. The columns are the store's own: they are written here and read by
// no domain type, so the API's bodies stay as the contract has them.

// actor is whom a write acts for: the subject of the principal ctx carries,
// or nil (stored as NULL) when it carries none, as for seeds, tests and the
// CLI. Store methods call it where they start, in the caller's goroutine,
// and hand the value on: a write run later by a group commit or an inserter
// records its own caller's principal, never its batch-mates'.
func actor(ctx context.Context) *string {
	p, ok := icymorning.PrincipalFrom(ctx)
	if !ok || p.Subject == "" {
		return nil
	}
	subject := p.Subject
	return &subject
}
