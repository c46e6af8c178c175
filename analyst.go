package icymorning

import (
	"context"
	"time"
)

// Analyst is a person who covers assets.
type Analyst struct {
	ID        int64
	Name      string
	Company   string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version counts the row's writes: 1 when created, one more with each
	// update. Ids are never reused, so (ID, Version) names one state of
	// one analyst for good: the HTTP layer's ETag.
	Version int64
}

// Validate reports the first rule a to-be-stored analyst breaks.
func (a *Analyst) Validate() error {
	if err := validateText("name", a.Name, MaxNameLength, true); err != nil {
		return err
	}
	return validateText("company", a.Company, MaxNameLength, true)
}

// AnalystUpdate changes some members of an analyst; unset ones stay.
type AnalystUpdate struct {
	Name    Field[string]
	Company Field[string]
	// IfVersion, when not 0, applies the update only to that version, in
	// the same statement: ESTALE when the analyst has another.
	IfVersion int64
}

// Validate reports the first rule the update breaks.
func (u *AnalystUpdate) Validate() error {
	if u.Name.Set {
		if err := validateText("name", u.Name.Value, MaxNameLength, true); err != nil {
			return err
		}
	}
	if u.Company.Set {
		return validateText("company", u.Company.Value, MaxNameLength, true)
	}
	return nil
}

// AnalystStore keeps analysts.
type AnalystStore interface {
	// CreateAnalyst stores a and sets its ID and timestamps.
	CreateAnalyst(ctx context.Context, a *Analyst) error
	// Analyst returns one analyst or ENOTFOUND.
	Analyst(ctx context.Context, id int64) (*Analyst, error)
	// Analysts returns analysts in id order, after p.After, at most p.Limit.
	Analysts(ctx context.Context, p Page) ([]Analyst, error)
	// AnalystVersion returns an analyst's version and when it last
	// changed, reading nothing else, or ENOTFOUND.
	AnalystVersion(ctx context.Context, id int64) (int64, time.Time, error)
	// UpdateAnalyst applies u atomically and returns the result, or ENOTFOUND.
	UpdateAnalyst(ctx context.Context, id int64, u AnalystUpdate) (*Analyst, error)
	// DeleteAnalyst removes an analyst and returns it: ENOTFOUND when there
	// is none, ECONFLICT while assets still refer to it, ESTALE when
	// ifVersion is not 0 and not its version.
	DeleteAnalyst(ctx context.Context, id int64, ifVersion int64) (*Analyst, error)
}
