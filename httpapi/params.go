package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// optional is a query parameter that may be absent. Huma does not accept
// pointer parameters; this is its documented ParamWrapper extension point.
type optional[T any] struct {
	Value T
	IsSet bool
}

func (o optional[T]) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeOf(o.Value))
}

func (o *optional[T]) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

func (o *optional[T]) OnParamSet(isSet bool, _ any) { o.IsSet = isSet }

func (o optional[T]) ptr() *T {
	if !o.IsSet {
		return nil
	}
	return &o.Value
}

// PageParams are the paging query parameters of every list. It and PathID
// are exported because Huma reads parameters only from exported fields,
// embedded ones included.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Most items to return." example:"50"`
	Cursor string `query:"cursor" maxLength:"64" doc:"Opaque position from the previous page's Link rel=\"next\" header." example:"djE6NDI"`
}

// listOutput is a page: a bare JSON array, as the Python service's clients
// expect, with the next page in an RFC 8288 Link header.
type listOutput[T any] struct {
	Link string `header:"Link" doc:"The next page, as <...>; rel=\"next\"; absent on the last page." example:"<assets?cursor=djE6NDI&limit=50>; rel=\"next\""`
	Body []T
}

// cursorPrefix versions the cursor format, so it can change without old
// cursors being misread.
const cursorPrefix = "v1:"

func encodeCursor(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(lastID, 10)))
}

// page turns the paging parameters into a domain Page that asks for one
// row more than the limit (see listPage).
func (p PageParams) page() (icymorning.Page, error) {
	pg := icymorning.Page{Limit: p.Limit + 1}
	if p.Cursor == "" {
		return pg, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	id, perr := strconv.ParseInt(s, 10, 64)
	if err != nil || !ok || perr != nil || id < 0 {
		return pg, fieldError("query.cursor", "invalid cursor: pass the cursor from a Link header unchanged")
	}
	pg.After = id
	return pg, nil
}

// listPage runs one page of a list: it fetches one row more than the
// limit, which tells whether a next page exists, and when one does, links it
// with the request's own URL and a new cursor, so every filter carries over.
func listPage[T, O any](ctx context.Context, s *Server, p PageParams,
	fetch func(icymorning.Page) ([]T, error), id func(*T) int64, show func(*T) O) (*listOutput[O], error) {
	items, link, err := fetchPage(ctx, s, p, fetch, id)
	if err != nil {
		return nil, err
	}
	return &listOutput[O]{Link: link, Body: showAll(items, show)}, nil
}

// versionedListOutput is a page of analysts or assets: a listOutput with
// an ETag, and 304 when If-None-Match still matches it.
type versionedListOutput[T any] struct {
	Status int
	ETag   string `header:"ETag" doc:"The page's strong entity tag (a digest of its rows' versions): send it back in If-None-Match for a 304 while the page is unchanged." example:"\"l5d41402abc4b2a76b9719d91\""`
	Link   string `header:"Link" doc:"The next page, as <...>; rel=\"next\"; absent on the last page." example:"<assets?cursor=djE6NDI&limit=50>; rel=\"next\""`
	Body   []T
}

// versionedListPage is listPage for rows with versions (conditional.go).
// A revalidation reads the page's rows as a full GET does: the page's tag
// depends on which rows it holds.
func versionedListPage[T, O any](ctx context.Context, s *Server, p PageParams, c *ListConditions,
	fetch func(icymorning.Page) ([]T, error), id, version func(*T) int64, show func(*T) O) (*versionedListOutput[O], error) {
	items, link, err := fetchPage(ctx, s, p, fetch, id)
	if err != nil {
		return nil, err
	}
	ids, versions := make([]int64, len(items)), make([]int64, len(items))
	for i := range items {
		ids[i], versions[i] = id(&items[i]), version(&items[i])
	}
	tag := listETag(ids, versions, link)
	if c.IfNoneMatch != "" && c.matches(tag) {
		return &versionedListOutput[O]{Status: http.StatusNotModified, ETag: tag, Link: link}, nil
	}
	return &versionedListOutput[O]{Status: http.StatusOK, ETag: tag, Link: link, Body: showAll(items, show)}, nil
}

// fetchPage fetches one page of p and returns its items and the Link
// header to the next page ("" on the last).
func fetchPage[T any](ctx context.Context, s *Server, p PageParams,
	fetch func(icymorning.Page) ([]T, error), id func(*T) int64) ([]T, string, error) {
	pg, err := p.page()
	if err != nil {
		return nil, "", err
	}
	items, err := fetch(pg)
	if err != nil {
		return nil, "", s.problemFromDomain(ctx, err)
	}
	var link string
	if len(items) > p.Limit {
		items = items[:p.Limit]
		u := info(ctx).url
		q := u.Query()
		q.Set("cursor", encodeCursor(id(&items[len(items)-1])))
		q.Set("limit", strconv.Itoa(p.Limit))
		// A relative reference ("assets?cursor=..."): resolved against the
		// request's URL it keeps whatever prefix the client saw, such as an
		// API Gateway stage ("/prod") or a custom domain's base path, which
		// never reach the router.
		link = "<" + (&url.URL{Path: path.Base(u.Path), RawQuery: q.Encode()}).String() + `>; rel="next"`
	}
	return items, link, nil
}

func showAll[T, O any](items []T, show func(*T) O) []O {
	out := make([]O, len(items))
	for i := range items {
		out[i] = show(&items[i])
	}
	return out
}

// PathID is the id in a resource's path.
type PathID struct {
	ID int64 `path:"id" doc:"The resource's id." example:"42"`
}
