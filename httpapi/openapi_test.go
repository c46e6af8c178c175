package httpapi_test

import (
	"strings"
	"testing"
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
	if r.StatusCode != 200 || !jsonEqual(t, r.body, string(docJSON)) {
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
