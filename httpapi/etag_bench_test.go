package httpapi

import (
	"net/http"
	"testing"
)

// BenchmarkETag is what the validators cost a 200: making the tag and
// setting it as a header. An asset's or analyst's tag is its row version,
// read with the row, so no query is added; a list page's is a digest of
// its rows' ids and versions. Set beside BenchmarkAPI's get-by-id and
// page-of-100 (the whole request in process), they give the share of a
// plain GET the ETag takes (issue 12: at most 5%); docs/performance.md
// has the figures.
func BenchmarkETag(b *testing.B) {
	ids, versions := make([]int64, 100), make([]int64, 100)
	for i := range ids {
		ids[i], versions[i] = int64(1000+i), int64(5000+i)
	}
	for _, c := range []struct {
		name string
		tag  func() string
	}{
		{"resource", func() string { return etagOf(123456) }},
		{"page-of-100", func() string { return listETag(ids, versions, "/api/v1/assets?cursor=djE6MTEwMA&limit=100") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := http.Header{}
			for b.Loop() {
				h.Set("ETag", c.tag())
			}
			if len(h.Get("ETag")) < 3 {
				b.Fatal("no tag")
			}
		})
	}
	// The 304 path's own work: comparing If-None-Match with the tag.
	b.Run("if-none-match", func(b *testing.B) {
		c := ReadConditions{ListConditions: ListConditions{IfNoneMatch: `"12", W/"123456"`}}
		for b.Loop() {
			if !c.matches(etagOf(123456)) {
				b.Fatal("no match")
			}
		}
	})
}
