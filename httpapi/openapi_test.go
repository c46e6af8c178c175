package httpapi_test

import (
	"strings"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
)

// TestOpenAPIDocument checks the published document against the OpenAPI
// 3.1 specification's own schema, and that the docs are served with it.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	if ok, errs := e.checks.ValidateDocument(); !ok {
		for _, err := range errs {
			t.Errorf("invalid OpenAPI document: %s: %s %v", err.Message, err.Reason, err.SchemaValidationErrors)
		}
	}
	r := e.do(req{method: "GET", path: "/openapi.json", auth: "none"})
	if r.StatusCode != 200 || !jsonEqual(t, r.body, mustJSON(t, e.api.OpenAPI())) {
		t.Fatalf("/openapi.json: %d, differs from the server's document", r.StatusCode)
	}
	for _, want := range []string{`"openapi":"3.1.0"`, `"basicAuth"`, `"/api/v1/assets/{id}"`, `"application/problem+json"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("document lacks %s", want)
		}
	}
	r = e.do(req{method: "GET", path: "/docs", auth: "none"})
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "openapi.json") {
		t.Fatalf("/docs: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

// TestDocumentLimitsAreTheDomains: struct tags cannot name constants, so
// the limits the document states (and Huma enforces) are written twice;
// this test makes them one source: every member and parameter limit in the
// document must equal the domain's constant.
func TestDocumentLimitsAreTheDomains(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	doc := e.api.OpenAPI()
	maxLength := map[string]int{
		"name": icymorning.MaxNameLength, "company": icymorning.MaxNameLength,
		"description": icymorning.MaxDescriptionLength, "email": icymorning.MaxEmailLength,
	}
	var checked int
	for name, s := range doc.Components.Schemas.Map() {
		for member, p := range s.Properties {
			want, limited := maxLength[member]
			if !limited || p.ReadOnly || strings.HasSuffix(name, "Output") || !strings.Contains(strings.ToLower(name), "write") &&
				!strings.Contains(strings.ToLower(name), "patch") && !strings.Contains(strings.ToLower(name), "replace") {
				continue
			}
			checked++
			if p.MaxLength == nil || *p.MaxLength != want {
				t.Errorf("schema %s member %s: maxLength %v, want %d", name, member, p.MaxLength, want)
			}
		}
	}
	for path, item := range doc.Paths {
		for method, op := range operations(item) {
			for _, p := range op.Parameters {
				switch p.Name {
				case "limit":
					checked++
					if p.Schema.Maximum == nil || int(*p.Schema.Maximum) != icymorning.MaxPageLimit || p.Schema.Default != icymorning.DefaultPageLimit {
						t.Errorf("%s %s: limit maximum %v default %v, want %d and %d", method, path, p.Schema.Maximum, p.Schema.Default, icymorning.MaxPageLimit, icymorning.DefaultPageLimit)
					}
				case "name":
					checked++
					if p.Schema.MaxLength == nil || *p.Schema.MaxLength != icymorning.MaxNameLength {
						t.Errorf("%s %s: name maxLength %v", method, path, p.Schema.MaxLength)
					}
				}
			}
		}
	}
	if checked < 15 {
		t.Fatalf("only %d limits checked: did the schema names change?", checked)
	}
}
