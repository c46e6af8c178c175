package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"

	"github.com/icy-morning/icy-morning/httpapi"
)

// publishedDocument is the document the API serves, as plain JSON values.
func publishedDocument(t *testing.T, api *httpapi.Server) map[string]any {
	t.Helper()
	b, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc.(map[string]any)
}

// example is one example in the document and the schema it must match,
// both by JSON pointer.
type example struct {
	at, schema string
	value      any
}

// docWalk collects what the document says of itself: every example with
// its schema, and every member, parameter, operation or response that
// lacks its words.
type docWalk struct {
	examples []example
	missing  []string
	members  int // schema members and parameters checked
}

func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// schema walks a schema at ptr: each member needs a description and an
// example, and each example is kept to check.
func (w *docWalk) schema(ptr string, s map[string]any) {
	if ex, ok := s["examples"].([]any); ok {
		for i, v := range ex {
			w.examples = append(w.examples, example{at: fmt.Sprintf("%s/examples/%d", ptr, i), schema: ptr, value: v})
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			p := p.(map[string]any)
			at := ptr + "/properties/" + escape(name)
			w.members++
			if p["description"] == nil {
				w.missing = append(w.missing, at+": no description")
			}
			if p["examples"] == nil && p["$ref"] == nil {
				w.missing = append(w.missing, at+": no example")
			}
			w.schema(at, p)
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		w.schema(ptr+"/items", items)
	}
}

// mediaTypes walks the content of a request body or response at ptr.
func (w *docWalk) mediaTypes(ptr string, content map[string]any) {
	for media, mt := range content {
		mt := mt.(map[string]any)
		at := ptr + "/content/" + escape(media)
		ex, ok := mt["example"]
		if !ok {
			w.missing = append(w.missing, at+": no example")
			continue
		}
		w.examples = append(w.examples, example{at: at + "/example", schema: at + "/schema", value: ex})
		if s, ok := mt["schema"].(map[string]any); ok {
			w.schema(at+"/schema", s)
		}
	}
}

// walkDocument checks every operation, parameter, body, response, schema
// and tag of doc.
func walkDocument(doc map[string]any) *docWalk {
	w := &docWalk{}
	for name, s := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		w.schema("#/components/schemas/"+escape(name), s.(map[string]any))
	}
	described := map[string]bool{}
	for _, tag := range doc["tags"].([]any) {
		tag := tag.(map[string]any)
		described[tag["name"].(string)] = tag["description"] != nil && tag["description"] != ""
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			op := op.(map[string]any)
			at := "#/paths/" + escape(path) + "/" + method
			if d, _ := op["description"].(string); !strings.Contains(d, "**Who may call it:**") || len(d) < 80 {
				w.missing = append(w.missing, at+": no description saying what it does and who may call it")
			}
			if _, ok := op["security"]; !ok {
				w.missing = append(w.missing, at+": no security requirement (security: [] when open)")
			}
			for _, tag := range op["tags"].([]any) {
				if !described[tag.(string)] {
					w.missing = append(w.missing, at+": tag "+tag.(string)+" has no description")
				}
			}
			params, _ := op["parameters"].([]any)
			for i, p := range params {
				p := p.(map[string]any)
				pat := fmt.Sprintf("%s/parameters/%d", at, i)
				w.members++
				if p["description"] == nil {
					w.missing = append(w.missing, pat+": no description")
				}
				s := p["schema"].(map[string]any)
				if s["examples"] == nil {
					w.missing = append(w.missing, pat+": no example")
				}
				w.schema(pat+"/schema", s)
			}
			if body, ok := op["requestBody"].(map[string]any); ok {
				w.mediaTypes(at+"/requestBody", body["content"].(map[string]any))
			}
			for code, r := range op["responses"].(map[string]any) {
				r := r.(map[string]any)
				rat := at + "/responses/" + code
				if d, _ := r["description"].(string); len(d) < 3 {
					w.missing = append(w.missing, rat+": no description")
				}
				headers, _ := r["headers"].(map[string]any)
				for name, h := range headers {
					h := h.(map[string]any)
					hat := rat + "/headers/" + escape(name)
					w.members++
					if h["description"] == nil {
						w.missing = append(w.missing, hat+": no description")
					}
					s := h["schema"].(map[string]any)
					if s["examples"] == nil {
						w.missing = append(w.missing, hat+": no example")
					}
					w.schema(hat+"/schema", s)
				}
				if content, ok := r["content"].(map[string]any); ok {
					w.mediaTypes(rat, content)
				} else if code != "304" { // a 304 has no body (RFC 9110 §15.4.5)
					w.missing = append(w.missing, rat+": no content, so no example")
				}
			}
		}
	}
	return w
}

var writeDocuments = flag.String("write-documents", "",
	"write the document of each authentication set-up TestDocumentIsDescribed checks into this folder (make lint lints them)")

// TestDocumentIsDescribed: every operation says what it does and who may
// call it (with the schemes of each AUTH_TYPE), every member and parameter
// has a description and an example, every body and response an example,
// every tag a description.
func TestDocumentIsDescribed(t *testing.T) {
	for _, tc := range []struct {
		authType string
		// who are the words a write's description must hold.
		who []string
	}{
		{"basic", []string{"`basicAuth` (HTTP Basic"}},
		{"jwt", []string{"`bearerAuth` (an access token", "`oidcLogin` (log in at the provider with the scope `" + writeScope + "`)"}},
		{"basic,jwt", []string{"`basicAuth`", "`bearerAuth`", "`oidcLogin`"}},
	} {
		t.Run(tc.authType, func(t *testing.T) {
			e := newJWTEnvWith(t, tc.authType, httpapi.Config{}, "icy-docs")
			doc := publishedDocument(t, e.api)
			w := walkDocument(doc)
			slices.Sort(w.missing)
			for _, m := range w.missing {
				t.Error(m)
			}
			if w.members < 60 || len(w.examples) < 300 {
				t.Fatalf("only %d members and %d examples found: does the walk still see the document?", w.members, len(w.examples))
			}
			t.Logf("%d members and parameters described, %d examples", w.members, len(w.examples))
			create := e.api.OpenAPI().Paths["/api/v1/assets"].Post.Description
			for _, want := range tc.who {
				if !strings.Contains(create, want) {
					t.Errorf("create-asset's description lacks %q:\n%s", want, create)
				}
			}
			if list := e.api.OpenAPI().Paths["/api/v1/assets"].Get; list.Security == nil || len(list.Security) != 0 ||
				!strings.Contains(list.Description, "anyone") {
				t.Errorf("list-assets is open, but its document says security %v and %q", list.Security, list.Description)
			}
			if *writeDocuments != "" {
				b, err := json.MarshalIndent(e.api.OpenAPI(), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Join(*writeDocuments, "openapi-"+strings.ReplaceAll(tc.authType, ",", "-")+".json")
				if err := os.WriteFile(name, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// compileAt compiles the schema at ptr inside doc (OpenAPI 3.1 schemas
// are JSON Schema 2020-12), asserting formats such as date and email.
func compileAt(t *testing.T, c *jsonschema.Compiler, ptr string) *jsonschema.Schema {
	t.Helper()
	s, err := c.Compile("openapi.json" + ptr)
	if err != nil {
		t.Fatalf("schema %s: %v", ptr, err)
	}
	return s
}

func schemaCompiler(t *testing.T, doc map[string]any) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDocumentExamplesMatchTheirSchemas validates every example in the
// document against its schema, so that no example can drift from what
// the API takes and answers. The first cases show that the check can
// fail: examples that break their schemas are refused.
func TestDocumentExamplesMatchTheirSchemas(t *testing.T) {
	api, _ := newAPI(t, "sqlite://:memory:")
	doc := publishedDocument(t, api)
	c := schemaCompiler(t, doc)
	for _, tc := range []struct {
		name, schema string
		value        string
	}{
		{"an id that is a string", "#/components/schemas/Asset", `{"id":"42","name":"x","description":null,"inception_date":"2024-01-31","is_active":true,"analyst_id":7}`},
		{"a date that is no date", "#/components/schemas/Asset", `{"id":42,"name":"x","description":null,"inception_date":"31/01/2024","is_active":true,"analyst_id":7}`},
		{"an unknown topic", "#/components/schemas/Subscription", `{"id":3,"email":"ada@example.com","topic":"asset::sale","analyst_id":null,"status":"active"}`},
		{"a problem without its status as a number", "#/components/schemas/ErrorModel", `{"type":"about:blank","title":"Not Found","status":"404","detail":"x"}`},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.value))
			if err != nil {
				t.Fatal(err)
			}
			if err := compileAt(t, c, tc.schema).Validate(v); err == nil {
				t.Fatalf("%s validates against %s", tc.value, tc.schema)
			}
		})
	}
	w := walkDocument(doc)
	for _, ex := range w.examples {
		if err := compileAt(t, c, ex.schema).Validate(ex.value); err != nil {
			t.Errorf("example %s does not match its schema: %v", ex.at, err)
		}
	}
	t.Logf("%d examples validated", len(w.examples))
}
