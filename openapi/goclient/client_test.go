package goclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/openapi/goclient"
	"github.com/icy-morning/icy-morning/sqlstore"
)

const (
	user = "client"
	pass = "generated client password"
)

// startServer serves the real API over a fresh SQLite database on
// 127.0.0.1, and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.Open(ctx, "sqlite:///"+t.TempDir()+"/client.db", sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	basic, err := auth.NewBasic(user, pass)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{Store: store, Auth: basic, Version: "client-test"}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, base string, authorized bool) *goclient.ClientWithResponses {
	t.Helper()
	var opts []goclient.ClientOption
	if authorized {
		opts = append(opts, goclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.SetBasicAuth(user, pass)
			return nil
		}))
	}
	c, err := goclient.NewClientWithResponses(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// status fails the test unless r answered want.
func status(t *testing.T, what string, r interface{ StatusCode() int }, body []byte, want int) {
	t.Helper()
	if got := r.StatusCode(); got != want {
		t.Fatalf("%s: status %d, want %d: %s", what, got, want, body)
	}
}

var nextCursor = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// cursor is the cursor of the next page in a Link header, or "" on the
// last page.
func cursor(t *testing.T, link string) string {
	t.Helper()
	if link == "" {
		return ""
	}
	m := nextCursor.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("Link %q is not a next link", link)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("cursor")
}

// TestGeneratedClient drives the running server through the client
// generated from its document: what the client sends must be what the
// server takes, and what the server answers must decode into the
// client's types, problems included.
func TestGeneratedClient(t *testing.T) {
	base := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := newClient(t, base, true)

	health, err := c.HealthzWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status(t, "healthz", health, health.Body, http.StatusOK)
	if health.JSON200 == nil || health.JSON200.Status != "ok" || health.HTTPResponse.Header.Get("X-Build-Version") != "client-test" {
		t.Fatalf("healthz: %s, X-Build-Version %q", health.Body, health.HTTPResponse.Header.Get("X-Build-Version"))
	}

	an, err := c.CreateAnalystWithResponse(ctx, nil, goclient.CreateAnalystJSONRequestBody{Name: "Ada Lovelace", Company: "Analytical Engines Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	status(t, "create analyst", an, an.Body, http.StatusCreated)
	analystID := an.JSON201.Id

	// Create three assets, then read one back.
	desc := "Large-cap equities"
	var ids []int64
	for _, name := range []string{"First", "Second", "Third"} {
		key := "create-" + name
		r, err := c.CreateAssetWithResponse(ctx, &goclient.CreateAssetParams{IdempotencyKey: &key}, goclient.CreateAssetJSONRequestBody{Name: name, Description: &desc,
			InceptionDate: &openapi_types.Date{Time: time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)}, IsActive: true, AnalystId: analystID})
		if err != nil {
			t.Fatal(err)
		}
		status(t, "create asset "+name, r, r.Body, http.StatusCreated)
		if r.JSON201.Name != name || r.JSON201.AnalystId != analystID || r.JSON201.InceptionDate.String() != "2024-01-31" {
			t.Fatalf("created %+v", *r.JSON201)
		}
		ids = append(ids, r.JSON201.Id)
	}
	// A retry with the first create's key gets its answer, not a fourth asset.
	key := "create-First"
	retry, err := c.CreateAssetWithResponse(ctx, &goclient.CreateAssetParams{IdempotencyKey: &key}, goclient.CreateAssetJSONRequestBody{Name: "First", Description: &desc,
		InceptionDate: &openapi_types.Date{Time: time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)}, IsActive: true, AnalystId: analystID})
	if err != nil {
		t.Fatal(err)
	}
	status(t, "retried create", retry, retry.Body, http.StatusCreated)
	if retry.JSON201.Id != ids[0] || retry.HTTPResponse.Header.Get("Idempotency-Replayed") != "true" {
		t.Fatalf("the retry made asset %d (the first was %d)", retry.JSON201.Id, ids[0])
	}
	got, err := c.GetAssetWithResponse(ctx, ids[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	status(t, "get asset", got, got.Body, http.StatusOK)
	if got.JSON200.Name != "Second" || got.JSON200.Description == nil || *got.JSON200.Description != desc {
		t.Fatalf("got %+v", *got.JSON200)
	}

	// List two at a time, following the Link header's cursor.
	var listed []int64
	limit := int64(2)
	params := &goclient.ListAssetsParams{Limit: &limit, AnalystId: &analystID}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		page, err := c.ListAssetsWithResponse(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		status(t, "list assets", page, page.Body, http.StatusOK)
		for _, a := range *page.JSON200 {
			listed = append(listed, a.Id)
		}
		next := cursor(t, page.HTTPResponse.Header.Get("Link"))
		if next == "" {
			break
		}
		params.Cursor = &next
	}
	if len(listed) != 3 || listed[0] != ids[0] || listed[1] != ids[1] || listed[2] != ids[2] {
		t.Fatalf("listed %v, want %v", listed, ids)
	}

	// A JSON Merge Patch changes only what it names; If-Match makes it
	// apply only to the version read, and a stale tag is a 412 problem.
	first, err := c.GetAssetWithResponse(ctx, ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	inactive, tag, stale := false, first.HTTPResponse.Header.Get("ETag"), `"999"`
	refused, err := c.PatchAssetWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, ids[0], &goclient.PatchAssetParams{IfMatch: &stale},
		goclient.PatchAssetApplicationMergePatchPlusJSONRequestBody{IsActive: &inactive})
	if err != nil {
		t.Fatal(err)
	}
	status(t, "patch asset with a stale tag", refused, refused.Body, http.StatusPreconditionFailed)
	if refused.ApplicationproblemJSON412 == nil || *refused.ApplicationproblemJSON412.Status != http.StatusPreconditionFailed {
		t.Fatalf("412 not decoded as a problem: %s", refused.Body)
	}
	patched, err := c.PatchAssetWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, ids[0], &goclient.PatchAssetParams{IfMatch: &tag},
		goclient.PatchAssetApplicationMergePatchPlusJSONRequestBody{IsActive: &inactive})
	if err != nil {
		t.Fatal(err)
	}
	status(t, "patch asset", patched, patched.Body, http.StatusOK)
	if patched.JSON200.IsActive || patched.JSON200.Name != "First" {
		t.Fatalf("patched %+v", *patched.JSON200)
	}

	deleted, err := c.DeleteAssetWithResponse(ctx, ids[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	status(t, "delete asset", deleted, deleted.Body, http.StatusOK)
	gone, err := c.GetAssetWithResponse(ctx, ids[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	status(t, "get deleted asset", gone, gone.Body, http.StatusNotFound)
	if gone.ApplicationproblemJSON404 == nil || *gone.ApplicationproblemJSON404.Status != http.StatusNotFound {
		t.Fatalf("404 not decoded as a problem: %s", gone.Body)
	}
}

// TestGeneratedClientProblems: the client decodes the server's refusals
// as RFC 9457 problems.
func TestGeneratedClientProblems(t *testing.T) {
	base := startServer(t)
	ctx := t.Context()
	tests := []struct {
		name       string
		authorized bool
		body       goclient.CreateAssetJSONRequestBody
		want       int
		location   string // of the first error detail, for a 422
	}{
		{"no credentials", false, goclient.CreateAssetJSONRequestBody{Name: "X", AnalystId: 1}, http.StatusUnauthorized, ""},
		{"empty name", true, goclient.CreateAssetJSONRequestBody{Name: "", AnalystId: 1}, http.StatusUnprocessableEntity, "body.name"},
		{"no such analyst", true, goclient.CreateAssetJSONRequestBody{Name: "X", AnalystId: 999}, http.StatusUnprocessableEntity, "body.analyst_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newClient(t, base, tc.authorized).CreateAssetWithResponse(ctx, nil, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			status(t, tc.name, r, r.Body, tc.want)
			if ct := r.HTTPResponse.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			p := map[int]*goclient.ErrorModel{401: r.ApplicationproblemJSON401, 422: r.ApplicationproblemJSON422}[tc.want]
			if p == nil || p.Status == nil || *p.Status != int64(tc.want) || p.Title == nil || p.Detail == nil || *p.Detail == "" {
				t.Fatalf("not decoded as a problem: %s", r.Body)
			}
			if tc.location != "" && (p.Errors == nil || len(*p.Errors) == 0 || (*p.Errors)[0].Location == nil || *(*p.Errors)[0].Location != tc.location) {
				t.Fatalf("errors do not name %s: %s", tc.location, r.Body)
			}
			if tc.want == http.StatusUnauthorized && r.HTTPResponse.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}
