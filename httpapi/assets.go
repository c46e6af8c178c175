package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// asset is an asset as the API shows it: exactly the contract's members.
type asset struct {
	ID            int64   `json:"id" doc:"Assigned by the service." example:"42"`
	Name          string  `json:"name" doc:"The asset's name." example:"Global Equity Fund"`
	Description   *string `json:"description" nullable:"true" doc:"Free text about the asset; null when it has none." example:"Large-cap equities across developed markets."`
	InceptionDate string  `json:"inception_date" format:"date" doc:"The day the asset came into being (ISO 8601 date)." example:"2024-01-31"`
	IsActive      bool    `json:"is_active" doc:"Whether the asset is still held and followed." example:"true"`
	AnalystID     int64   `json:"analyst_id" doc:"The id of the analyst who covers it." example:"7"`
}

func toAsset(a *icymorning.Asset) asset {
	return asset{ID: a.ID, Name: a.Name, Description: a.Description, InceptionDate: a.InceptionDate.String(),
		IsActive: a.IsActive, AnalystID: a.AnalystID}
}

// AssetWrite is the body of POST. Unknown members are ignored, as the
// Python service did. It is exported because Huma reads the members of
// embedded structs (see assetReplace) only from exported types.
type AssetWrite struct {
	_             struct{} `additionalProperties:"true"`
	Name          string   `json:"name" minLength:"1" maxLength:"255" doc:"The asset's name." example:"Global Equity Fund"`
	Description   *string  `json:"description,omitempty" nullable:"true" maxLength:"10000" doc:"Free text about the asset; absent or null: none." example:"Large-cap equities across developed markets."`
	InceptionDate string   `json:"inception_date,omitempty" format:"date" doc:"The day the asset came into being (ISO 8601 date). Defaults to today (UTC)." example:"2024-01-31"`
	IsActive      bool     `json:"is_active" doc:"Whether the asset is still held and followed." example:"true"`
	AnalystID     int64    `json:"analyst_id" minimum:"1" doc:"The id of an existing analyst who covers it; an unknown id is a 422." example:"7"`
}

// assetReplace is the body of PUT: a whole asset, and optionally its id,
// which clients of the Python service send.
type assetReplace struct {
	_ struct{} `additionalProperties:"true"`
	AssetWrite
	ID int64 `json:"id,omitempty" doc:"Optional; must equal the id in the path." example:"42"`
}

// assetPatch is a JSON Merge Patch (RFC 7396) of an asset: members present
// change, absent ones stay, and null clears the only nullable one.
type assetPatch struct {
	_             struct{} `additionalProperties:"true"`
	Name          string   `json:"name,omitempty" minLength:"1" maxLength:"255" doc:"A new name." example:"Global Equity Fund II"`
	Description   *string  `json:"description,omitempty" nullable:"true" maxLength:"10000" doc:"A new description; null removes it." example:"Closed to new money since 2026."`
	InceptionDate string   `json:"inception_date,omitempty" format:"date" doc:"A new inception date (ISO 8601 date)." example:"2024-02-29"`
	IsActive      bool     `json:"is_active,omitempty" doc:"Whether the asset is still held and followed." example:"false"`
	AnalystID     int64    `json:"analyst_id,omitempty" minimum:"1" doc:"The id of another existing analyst to cover it." example:"8"`
}

type assetOutput struct {
	// Status is the answer's: 201 for a create, 304 for a GET whose
	// validators still match (Huma then writes no body), else 200.
	Status       int
	ETag         string    `header:"ETag" doc:"The asset's version as a strong entity tag: send it back in If-None-Match (GET) or If-Match (PUT, PATCH, DELETE)." example:"\"3\""`
	LastModified time.Time `header:"Last-Modified" doc:"When the asset last changed." example:"Sat, 28 Nov 2026 09:00:00 GMT"`
	Body         asset
}

func assetOut(a *icymorning.Asset) *assetOutput {
	return &assetOutput{Status: http.StatusOK, ETag: etagOf(a.Version), LastModified: a.UpdatedAt, Body: toAsset(a)}
}

type assetListInput struct {
	PageParams
	AnalystID optional[int64]  `query:"analyst_id" doc:"Only assets of this analyst." example:"7"`
	IsActive  optional[bool]   `query:"is_active" doc:"Only active (true) or inactive (false) assets." example:"true"`
	Name      optional[string] `query:"name" maxLength:"255" doc:"Only assets with exactly this name." example:"Global Equity Fund"`
	ListConditions
}

func (s *Server) handleAssetList(ctx context.Context, in *assetListInput) (*versionedListOutput[asset], error) {
	return versionedListPage(ctx, s, in.PageParams, &in.ListConditions, func(p icymorning.Page) ([]icymorning.Asset, error) {
		return s.store.Assets(ctx, icymorning.AssetFilter{
			AnalystID: in.AnalystID.ptr(), IsActive: in.IsActive.ptr(), Name: in.Name.ptr(), Page: p})
	}, func(a *icymorning.Asset) int64 { return a.ID }, func(a *icymorning.Asset) int64 { return a.Version }, toAsset)
}

type assetGetInput struct {
	PathID
	ReadConditions
}

func (s *Server) handleAssetGet(ctx context.Context, in *assetGetInput) (*assetOutput, error) {
	if in.conditional() {
		// The version alone answers a revalidation that still matches.
		v, at, err := s.store.AssetVersion(ctx, in.ID)
		if err != nil {
			return nil, s.problemFromDomain(ctx, err)
		}
		if in.notModified(etagOf(v), at) {
			return &assetOutput{Status: http.StatusNotModified, ETag: etagOf(v), LastModified: at}, nil
		}
	}
	a, err := s.store.Asset(ctx, in.ID)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return assetOut(a), nil
}

type assetWriteInput struct {
	Body AssetWrite
}

// inceptionDate reads the optional inception date, defaulting to today.
func inceptionDate(s string) (icymorning.Date, error) {
	if s == "" {
		return icymorning.DateOf(time.Now().UTC()), nil
	}
	d, err := icymorning.ParseDate(s)
	if err != nil {
		return d, fieldError("body.inception_date", "%v", err)
	}
	return d, nil
}

func (s *Server) handleAssetCreate(ctx context.Context, in *assetWriteInput) (*assetOutput, error) {
	date, err := inceptionDate(in.Body.InceptionDate)
	if err != nil {
		return nil, err
	}
	a := &icymorning.Asset{Name: in.Body.Name, Description: in.Body.Description, InceptionDate: date,
		IsActive: in.Body.IsActive, AnalystID: in.Body.AnalystID}
	if err := s.store.CreateAsset(ctx, a); err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	out := assetOut(a)
	out.Status = http.StatusCreated
	return out, nil
}

type assetReplaceInput struct {
	PathID
	WriteConditions
	Body assetReplace
}

// assetVersion reads the version of asset id, for WriteConditions.
func (s *Server) assetVersion(ctx context.Context, id int64) func() (int64, error) {
	return func() (int64, error) {
		v, _, err := s.store.AssetVersion(ctx, id)
		return v, err
	}
}

func (s *Server) handleAssetReplace(ctx context.Context, in *assetReplaceInput) (*assetOutput, error) {
	if in.Body.ID != 0 && in.Body.ID != in.ID {
		return nil, fieldError("body.id", "id %d in the body does not match id %d in the path", in.Body.ID, in.ID)
	}
	date, err := inceptionDate(in.Body.InceptionDate)
	if err != nil {
		return nil, err
	}
	v, err := in.ifVersion(s.requireIfMatch, "asset", in.ID, s.assetVersion(ctx, in.ID))
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.UpdateAsset(ctx, in.ID, icymorning.AssetUpdate{
		Name:          icymorning.Set(in.Body.Name),
		Description:   icymorning.Set(in.Body.Description),
		InceptionDate: icymorning.Set(date),
		IsActive:      icymorning.Set(in.Body.IsActive),
		AnalystID:     icymorning.Set(in.Body.AnalystID),
		IfVersion:     v,
	})
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return assetOut(a), nil
}

type assetPatchInput struct {
	PathID
	WriteConditions
	RawBody []byte
	Body    assetPatch `contentType:"application/merge-patch+json"`
}

func (s *Server) handleAssetPatch(ctx context.Context, in *assetPatchInput) (*assetOutput, error) {
	present, err := members(in.RawBody,
		[]string{"name", "description", "inception_date", "is_active", "analyst_id"}, "description")
	if err != nil {
		return nil, err
	}
	var u icymorning.AssetUpdate
	if present["name"] {
		u.Name = icymorning.Set(in.Body.Name)
	}
	if present["description"] {
		u.Description = icymorning.Set(in.Body.Description)
	}
	if present["inception_date"] {
		d, err := inceptionDate(in.Body.InceptionDate)
		if err != nil {
			return nil, err
		}
		u.InceptionDate = icymorning.Set(d)
	}
	if present["is_active"] {
		u.IsActive = icymorning.Set(in.Body.IsActive)
	}
	if present["analyst_id"] {
		u.AnalystID = icymorning.Set(in.Body.AnalystID)
	}
	if u.IfVersion, err = in.ifVersion(s.requireIfMatch, "asset", in.ID, s.assetVersion(ctx, in.ID)); err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.UpdateAsset(ctx, in.ID, u)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return assetOut(a), nil
}

// deleteInput is the path and If-Match of a DELETE.
type deleteInput struct {
	PathID
	WriteConditions
}

func (s *Server) handleAssetDelete(ctx context.Context, in *deleteInput) (*assetOutput, error) {
	v, err := in.ifVersion(s.requireIfMatch, "asset", in.ID, s.assetVersion(ctx, in.ID))
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.DeleteAsset(ctx, in.ID, v)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return assetOut(a), nil
}

// members lists the top-level members of a merge patch: a member that is
// present changes and one that is absent stays. null means "remove", which
// only the nullable members (listed in nullable) can be; any other null is a
// 422 rather than a silent zero. Huma has already checked the body against
// the schema, so it is a JSON object; unknown members are ignored.
func members(raw []byte, known []string, nullable ...string) (map[string]bool, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldError("body", "a merge patch must be a JSON object")
	}
	out := make(map[string]bool, len(m))
	for _, k := range known {
		v, ok := m[k]
		if !ok {
			continue
		}
		if string(v) == "null" && !slices.Contains(nullable, k) {
			return nil, fieldError("body."+k, "must not be null")
		}
		out[k] = true
	}
	return out, nil
}
