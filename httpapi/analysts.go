package httpapi

import (
	"context"
	"net/http"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// analyst is an analyst as the API shows it: exactly the contract's members.
type analyst struct {
	ID      int64  `json:"id" doc:"Assigned by the service." example:"7"`
	Name    string `json:"name" doc:"The analyst's name." example:"Ada Lovelace"`
	Company string `json:"company" doc:"The firm the analyst works for." example:"Analytical Engines Ltd"`
}

func toAnalyst(a *icymorning.Analyst) analyst {
	return analyst{ID: a.ID, Name: a.Name, Company: a.Company}
}

// AnalystWrite is the body of POST; unknown members are ignored. Exported
// for the same reason as AssetWrite.
type AnalystWrite struct {
	_       struct{} `additionalProperties:"true"`
	Name    string   `json:"name" minLength:"1" maxLength:"255" doc:"The analyst's name." example:"Ada Lovelace"`
	Company string   `json:"company" minLength:"1" maxLength:"255" doc:"The firm the analyst works for." example:"Analytical Engines Ltd"`
}

// analystReplace is the body of PUT: a whole analyst, and optionally its id.
type analystReplace struct {
	_ struct{} `additionalProperties:"true"`
	AnalystWrite
	ID int64 `json:"id,omitempty" doc:"Optional; must equal the id in the path." example:"7"`
}

// analystPatch is a JSON Merge Patch (RFC 7396) of an analyst.
type analystPatch struct {
	_       struct{} `additionalProperties:"true"`
	Name    string   `json:"name,omitempty" minLength:"1" maxLength:"255" doc:"A new name." example:"Ada King"`
	Company string   `json:"company,omitempty" minLength:"1" maxLength:"255" doc:"A new firm." example:"Difference Engines plc"`
}

type analystOutput struct {
	// Status: see assetOutput.
	Status       int
	ETag         string    `header:"ETag" doc:"The analyst's version as a strong entity tag: send it back in If-None-Match (GET) or If-Match (PUT, PATCH, DELETE)." example:"\"3\""`
	LastModified time.Time `header:"Last-Modified" doc:"When the analyst last changed." example:"Sat, 28 Nov 2026 09:00:00 GMT"`
	Body         analyst
}

func analystOut(a *icymorning.Analyst) *analystOutput {
	return &analystOutput{Status: http.StatusOK, ETag: etagOf(a.Version), LastModified: a.UpdatedAt, Body: toAnalyst(a)}
}

type analystListInput struct {
	PageParams
	ListConditions
}

func (s *Server) handleAnalystList(ctx context.Context, in *analystListInput) (*versionedListOutput[analyst], error) {
	return versionedListPage(ctx, s, in.PageParams, &in.ListConditions,
		func(p icymorning.Page) ([]icymorning.Analyst, error) { return s.store.Analysts(ctx, p) },
		func(a *icymorning.Analyst) int64 { return a.ID }, func(a *icymorning.Analyst) int64 { return a.Version }, toAnalyst)
}

type analystGetInput struct {
	PathID
	ReadConditions
}

func (s *Server) handleAnalystGet(ctx context.Context, in *analystGetInput) (*analystOutput, error) {
	if in.conditional() {
		v, at, err := s.store.AnalystVersion(ctx, in.ID)
		if err != nil {
			return nil, s.problemFromDomain(ctx, err)
		}
		if in.notModified(etagOf(v), at) {
			return &analystOutput{Status: http.StatusNotModified, ETag: etagOf(v), LastModified: at}, nil
		}
	}
	a, err := s.store.Analyst(ctx, in.ID)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return analystOut(a), nil
}

// analystWriteInput is the input of POST /analysts.
type analystWriteInput struct {
	Body AnalystWrite
}

func (s *Server) handleAnalystCreate(ctx context.Context, in *analystWriteInput) (*analystOutput, error) {
	a := &icymorning.Analyst{Name: in.Body.Name, Company: in.Body.Company}
	if err := s.store.CreateAnalyst(ctx, a); err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	out := analystOut(a)
	out.Status = http.StatusCreated
	return out, nil
}

type analystReplaceInput struct {
	PathID
	WriteConditions
	Body analystReplace
}

// analystVersion reads the version of analyst id, for WriteConditions.
func (s *Server) analystVersion(ctx context.Context, id int64) func() (int64, error) {
	return func() (int64, error) {
		v, _, err := s.store.AnalystVersion(ctx, id)
		return v, err
	}
}

func (s *Server) handleAnalystReplace(ctx context.Context, in *analystReplaceInput) (*analystOutput, error) {
	if in.Body.ID != 0 && in.Body.ID != in.ID {
		return nil, fieldError("body.id", "id %d in the body does not match id %d in the path", in.Body.ID, in.ID)
	}
	v, err := in.ifVersion(s.requireIfMatch, "analyst", in.ID, s.analystVersion(ctx, in.ID))
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.UpdateAnalyst(ctx, in.ID, icymorning.AnalystUpdate{
		Name: icymorning.Set(in.Body.Name), Company: icymorning.Set(in.Body.Company), IfVersion: v})
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return analystOut(a), nil
}

type analystPatchInput struct {
	PathID
	WriteConditions
	RawBody []byte
	Body    analystPatch `contentType:"application/merge-patch+json"`
}

func (s *Server) handleAnalystPatch(ctx context.Context, in *analystPatchInput) (*analystOutput, error) {
	present, err := members(in.RawBody, []string{"name", "company"})
	if err != nil {
		return nil, err
	}
	var u icymorning.AnalystUpdate
	if present["name"] {
		u.Name = icymorning.Set(in.Body.Name)
	}
	if present["company"] {
		u.Company = icymorning.Set(in.Body.Company)
	}
	if u.IfVersion, err = in.ifVersion(s.requireIfMatch, "analyst", in.ID, s.analystVersion(ctx, in.ID)); err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.UpdateAnalyst(ctx, in.ID, u)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return analystOut(a), nil
}

func (s *Server) handleAnalystDelete(ctx context.Context, in *deleteInput) (*analystOutput, error) {
	v, err := in.ifVersion(s.requireIfMatch, "analyst", in.ID, s.analystVersion(ctx, in.ID))
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	a, err := s.store.DeleteAnalyst(ctx, in.ID, v)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return analystOut(a), nil
}
