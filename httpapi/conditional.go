package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// Validators and conditional requests (RFC 9110 §8.8, §13). An analyst's
// or asset's ETag is its row version, which the database moves with each
// write and never reuses (ids are never reused either), so a tag names one
// state of one resource for good and can be checked without reading the
// row: GET answers 304 from the version alone, and If-Match is compared
// in the statement that writes. Huma's conditional package compares tags
// with a row it has read first, which cannot keep two writers apart.

// etagOf is the strong ETag of a resource at version v.
func etagOf(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// listETag is a list page's strong ETag: a digest of the versions of the
// rows on the page and of its next link, which is all the page shows
// that can change.
func listETag(ids, versions []int64, link string) string {
	h := sha256.New()
	var b []byte
	for i := range ids {
		b = strconv.AppendInt(b[:0], ids[i], 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, versions[i], 10)
		b = append(b, ',')
		h.Write(b)
	}
	h.Write([]byte(link))
	return `"l` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// ListConditions are a list page's validator (RFC 9110 §13.1.2). Huma
// reads the parameters of embedded structs of exported types only, hence
// the exported names of these.
type ListConditions struct {
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag (or several, or *) from an earlier answer: 304 Not Modified, without a body, while the answer would still have one of them." example:"\"3\""`
}

// ReadConditions are a GET's validators (RFC 9110 §13.1.2, §13.1.3).
type ReadConditions struct {
	ListConditions
	IfModifiedSince string `header:"If-Modified-Since" doc:"A Last-Modified date from an earlier answer: 304 Not Modified while the resource has not changed since. Ignored when If-None-Match is present." example:"Sat, 28 Nov 2026 09:00:00 GMT"`
}

// conditional reports whether the request has a validator to compare.
func (c *ReadConditions) conditional() bool {
	return c.IfNoneMatch != "" || c.IfModifiedSince != ""
}

// matches reports whether If-None-Match names etag (weakly, or by *).
func (c *ListConditions) matches(etag string) bool {
	for _, t := range strings.Split(c.IfNoneMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// notModified reports whether a GET with these conditions of a resource
// with etag, last changed at modified, is answered 304. If-None-Match
// compares weakly and wins over If-Modified-Since (RFC 9110 §13.2.2); an
// unparsable date is ignored (§13.1.3).
func (c *ReadConditions) notModified(etag string, modified time.Time) bool {
	if c.IfNoneMatch != "" {
		return c.matches(etag)
	}
	since, err := http.ParseTime(c.IfModifiedSince)
	return err == nil && !modified.Truncate(time.Second).After(since)
}

// WriteConditions are the If-Match of a PUT, PATCH or DELETE.
type WriteConditions struct {
	IfMatch string `header:"If-Match" doc:"The ETag of the version this change is made against (from a GET or an earlier write): the change is applied only if the resource still has it, checked in the same database statement, else 412 Precondition Failed and nothing changes. * asks only that the resource exists. Required when the server runs with REQUIRE_IF_MATCH (428 without it)." example:"\"3\""`
}

// ifVersion turns If-Match into the version a write applies to: 0 for
// none (or *, which asks only that the resource exists: a write to a
// missing one is a 404 anyway). With several tags, current (which reads
// the resource's version) picks the one the resource has; the write
// still checks it in its statement. Weak tags never match (RFC 9110
// §13.1.1 compares strongly); a header that matches nothing is a 412,
// and a missing one a 428 when required.
func (c *WriteConditions) ifVersion(required bool, kind string, id int64, current func() (int64, error)) (int64, error) {
	if c.IfMatch == "" {
		if required {
			return 0, newProblem(http.StatusPreconditionRequired, "this server requires If-Match on changes: send the ETag of the "+kind+" you are changing")
		}
		return 0, nil
	}
	var versions []int64
	for _, t := range strings.Split(c.IfMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return 0, nil
		}
		if len(t) < 3 || t[0] != '"' || t[len(t)-1] != '"' {
			continue // a weak or malformed tag matches nothing
		}
		if v, err := strconv.ParseInt(t[1:len(t)-1], 10, 64); err == nil && v > 0 {
			versions = append(versions, v)
		}
	}
	switch len(versions) {
	case 0:
		return 0, icymorning.Stale(kind, id)
	case 1:
		return versions[0], nil
	}
	v, err := current()
	if err != nil {
		return 0, err
	}
	for _, w := range versions {
		if w == v {
			return v, nil
		}
	}
	return 0, icymorning.Stale(kind, id)
}

// notModifiedResponse documents a GET's 304: no body, the validators again.
func notModifiedResponse() *huma.Response {
	header := func(doc, example string) *huma.Param {
		return &huma.Param{Description: doc, Schema: &huma.Schema{Type: huma.TypeString, Description: doc, Examples: []any{example}}}
	}
	return &huma.Response{
		Description: "Not Modified: the resource still has the ETag in If-None-Match (or has not changed since If-Modified-Since). No body.",
		Headers: map[string]*huma.Param{
			"ETag":          header("The resource's current entity tag.", `"3"`),
			"Last-Modified": header("When the resource last changed.", "Sat, 28 Nov 2026 09:00:00 GMT"),
			"Cache-Control": header("What caches may do with the answer.", "public, max-age=0, s-maxage=60, stale-while-revalidate=30"),
		},
	}
}
