package icymorning

import (
	"context"
	"time"
)

// Asset is an investment asset, covered by one analyst.
type Asset struct {
	ID            int64
	Name          string
	Description   *string // nil: no description
	InceptionDate Date
	IsActive      bool
	AnalystID     int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version counts the row's writes (see Analyst.Version).
	Version int64
}

// Validate reports the first rule a to-be-stored asset breaks.
func (a *Asset) Validate() error {
	if err := validateText("name", a.Name, MaxNameLength, true); err != nil {
		return err
	}
	if a.Description != nil {
		if err := validateText("description", *a.Description, MaxDescriptionLength, false); err != nil {
			return err
		}
	}
	if a.InceptionDate.IsZero() {
		return FieldErrorf("inception_date", "field required")
	}
	return validateID("analyst_id", a.AnalystID)
}

// AssetUpdate changes some members of an asset; unset ones stay.
type AssetUpdate struct {
	Name          Field[string]
	Description   Field[*string]
	InceptionDate Field[Date]
	IsActive      Field[bool]
	AnalystID     Field[int64]
	// IfVersion, when not 0, applies the update only to that version, in
	// the same statement: ESTALE when the asset has another.
	IfVersion int64
}

// Validate reports the first rule the update breaks.
func (u *AssetUpdate) Validate() error {
	if u.Name.Set {
		if err := validateText("name", u.Name.Value, MaxNameLength, true); err != nil {
			return err
		}
	}
	if u.Description.Set && u.Description.Value != nil {
		if err := validateText("description", *u.Description.Value, MaxDescriptionLength, false); err != nil {
			return err
		}
	}
	if u.InceptionDate.Set && u.InceptionDate.Value.IsZero() {
		return FieldErrorf("inception_date", "must be a date")
	}
	if u.AnalystID.Set {
		return validateID("analyst_id", u.AnalystID.Value)
	}
	return nil
}

// AssetFilter selects a page of assets. Nil members do not filter.
type AssetFilter struct {
	AnalystID *int64
	IsActive  *bool
	Name      *string
	Page
}

// AssetStore keeps assets. Each change records its Event (see OutboxStore)
// in the change's own transaction.
type AssetStore interface {
	// CreateAsset stores a and sets its ID and timestamps, and records
	// TopicAssetCreation; EINVALID on analyst_id when the analyst does not
	// exist.
	CreateAsset(ctx context.Context, a *Asset) error
	// Asset returns one asset or ENOTFOUND.
	Asset(ctx context.Context, id int64) (*Asset, error)
	// AssetVersion returns an asset's version and when it last changed,
	// reading nothing else, or ENOTFOUND.
	AssetVersion(ctx context.Context, id int64) (int64, time.Time, error)
	// Assets returns the assets matching f in id order.
	Assets(ctx context.Context, f AssetFilter) ([]Asset, error)
	// UpdateAsset applies u atomically and returns the result, or
	// ENOTFOUND. It records TopicAssetUpdate only when a public member
	// changed: an update that changes nothing (a repeated PUT) mails
	// nobody, though it still moves UpdatedAt.
	UpdateAsset(ctx context.Context, id int64, u AssetUpdate) (*Asset, error)
	// DeleteAsset removes an asset and returns it, or ENOTFOUND, and
	// records TopicAssetDeletion with the asset as it was; ESTALE when
	// ifVersion is not 0 and not its version.
	DeleteAsset(ctx context.Context, id int64, ifVersion int64) (*Asset, error)
}
