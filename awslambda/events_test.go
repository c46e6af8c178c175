package awslambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// sample loads a recorded event from testdata and applies edits, given as
// dotted paths ("requestContext.stage") to new values.
func sample(t *testing.T, file string, edits map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for path, v := range edits {
		keys := strings.Split(path, ".")
		m := ev
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		if v == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = v
		}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seen is what the echo handler was given.
type seen struct {
	Method, Path, RawPath, Query, Host, Remote string
	Params                                     url.Values
	Headers                                    http.Header
	Cookies                                    map[string]string
	Body                                       string
}

// echo records the request it gets and answers with several values of one
// header, two cookies and a status other than 200; /binary answers with
// bytes that are not UTF-8, /silent writes nothing at all.
func echo(got *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery, Host: r.Host,
			Remote: r.RemoteAddr, Params: r.URL.Query(), Headers: r.Header, Cookies: map[string]string{}, Body: string(body)}
		for _, c := range r.Cookies() {
			got.Cookies[c.Name] = c.Value
		}
		switch r.URL.Path {
		case "/silent":
			return
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte{0xff, 0x00, 0xfe, 0x80})
			return
		}
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "héllo")
	})
}

func invoke(t *testing.T, h *Handler, payload []byte) []byte {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// requestCase is one event and what the handler must see of it.
type requestCase struct {
	name  string
	file  string
	edits map[string]any
	check func(t *testing.T, s seen)
}

func TestRequestTranslation(t *testing.T) {
	nonASCII := `{"name":"Zürich Ærø 東京 €"}`
	want := func(field, got, want string) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %q, want %q", field, got, want)
			}
		}
	}
	cases := []requestCase{
		{"v2 $default stage keeps the path", "http-api-v2.json",
			map[string]any{"rawPath": "/api/v1/assets", "requestContext.http.path": "/api/v1/assets"},
			func(t *testing.T, s seen) { want("path", s.Path, "/api/v1/assets")(t) }},
		{"v2 named stage is stripped", "http-api-v2.json",
			map[string]any{"rawPath": "/prod/api/v1/assets", "requestContext.http.path": "/prod/api/v1/assets", "requestContext.stage": "prod"},
			func(t *testing.T, s seen) { want("path", s.Path, "/api/v1/assets")(t) }},
		{"v2 stage root becomes /", "http-api-v2.json",
			map[string]any{"rawPath": "/prod", "requestContext.stage": "prod"},
			func(t *testing.T, s seen) { want("path", s.Path, "/")(t) }},
		{"v2 stage strips whole segments only", "http-api-v2.json",
			map[string]any{"rawPath": "/products/1", "requestContext.stage": "prod"},
			func(t *testing.T, s seen) { want("path", s.Path, "/products/1")(t) }},
		{"v2 escaped path stays escaped", "http-api-v2.json",
			map[string]any{"rawPath": "/prod/a%2Fb", "requestContext.stage": "prod"},
			func(t *testing.T, s seen) { want("escaped path", s.RawPath, "/a%2Fb")(t) }},
		{"v2 multi-value query", "http-api-v2.json",
			map[string]any{"rawQueryString": "is_active=true&id=1&id=2&name=a%20b%26c"},
			func(t *testing.T, s seen) {
				if !slices.Equal(s.Params["id"], []string{"1", "2"}) || s.Params.Get("name") != "a b&c" {
					t.Errorf("query = %v", s.Params)
				}
			}},
		{"v2 multi-value headers", "http-api-v2.json",
			map[string]any{"headers.accept": "application/json,text/plain", "headers.x-request-id": "client-1"},
			func(t *testing.T, s seen) {
				if !slices.Equal(s.Headers.Values("Accept"), []string{"application/json", "text/plain"}) {
					t.Errorf("Accept = %q", s.Headers.Values("Accept"))
				}
				want("host", s.Host, "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com")(t)
			}},
		{"v2 cookies", "http-api-v2.json",
			map[string]any{"cookies": []string{"session=abc", "theme=dark"}},
			func(t *testing.T, s seen) {
				if s.Cookies["session"] != "abc" || s.Cookies["theme"] != "dark" {
					t.Errorf("cookies = %v", s.Cookies)
				}
			}},
		{"v2 base64 body with non-ASCII text", "http-api-v2.json",
			map[string]any{"requestContext.http.method": "POST", "body": b64(nonASCII), "isBase64Encoded": true},
			func(t *testing.T, s seen) { want("body", s.Body, nonASCII)(t); want("method", s.Method, "POST")(t) }},
		{"v2 plain body with non-ASCII text", "http-api-v2.json",
			map[string]any{"requestContext.http.method": "POST", "body": nonASCII},
			func(t *testing.T, s seen) { want("body", s.Body, nonASCII)(t) }},
		{"v2 AWS documentation example", "http-api-v2-aws-docs.json", nil,
			func(t *testing.T, s seen) {
				want("path", s.Path, "/my/path")(t)
				want("method", s.Method, "POST")(t)
				want("body", s.Body, "Hello from Lambda")(t)
				want("remote", s.Remote, "192.0.2.1")(t)
				if !slices.Equal(s.Params["parameter1"], []string{"value1", "value2"}) || s.Params.Get("parameter2") != "value" {
					t.Errorf("query = %v", s.Params)
				}
				if !slices.Equal(s.Headers.Values("Header2"), []string{"value1", "value2"}) {
					t.Errorf("header2 = %q", s.Headers.Values("Header2"))
				}
				if !slices.Equal(s.Headers.Values("Cookie"), []string{"cookie1", "cookie2"}) {
					t.Errorf("Cookie = %q", s.Headers.Values("Cookie"))
				}
			}},
		{"Function URL", "function-url.json", nil,
			func(t *testing.T, s seen) {
				want("path", s.Path, "/my/path")(t)
				want("body", s.Body, "Hello from client!")(t)
				want("method", s.Method, "POST")(t)
				if !slices.Equal(s.Params["parameter1"], []string{"value1", "value2"}) {
					t.Errorf("query = %v", s.Params)
				}
				if !slices.Equal(s.Headers.Values("Header2"), []string{"value1", "value2"}) {
					t.Errorf("header2 = %q", s.Headers.Values("Header2"))
				}
				if len(s.Headers.Values("Cookie")) != 2 {
					t.Errorf("cookies = %q", s.Headers.Values("Cookie"))
				}
			}},
		{"v1 path excludes the stage", "rest-api-v1.json",
			map[string]any{"path": "/api/v1/assets", "requestContext.path": "/prod/api/v1/assets", "requestContext.stage": "prod"},
			func(t *testing.T, s seen) { want("path", s.Path, "/api/v1/assets")(t) }},
		{"v1 multi-value query and headers", "rest-api-v1.json",
			map[string]any{
				"multiValueQueryStringParameters": map[string][]string{"id": {"1", "2"}, "name": {"a b&c"}},
				"multiValueHeaders.X-Many":        []string{"x", "y"},
			},
			func(t *testing.T, s seen) {
				if !slices.Equal(s.Params["id"], []string{"1", "2"}) || s.Params.Get("name") != "a b&c" {
					t.Errorf("query = %v", s.Params)
				}
				if !slices.Equal(s.Headers.Values("X-Many"), []string{"x", "y"}) {
					t.Errorf("X-Many = %q", s.Headers.Values("X-Many"))
				}
			}},
		{"v1 cookies and base64 body", "rest-api-v1.json",
			map[string]any{"multiValueHeaders.Cookie": []string{"session=abc; theme=dark"}, "body": b64(nonASCII), "isBase64Encoded": true},
			func(t *testing.T, s seen) {
				want("body", s.Body, nonASCII)(t)
				if s.Cookies["session"] != "abc" || s.Cookies["theme"] != "dark" {
					t.Errorf("cookies = %v", s.Cookies)
				}
			}},
		{"ALB multi-value: query arrives still encoded", "alb-multi-value.json",
			map[string]any{"multiValueQueryStringParameters": map[string][]string{"name": {"a%20b%26c"}, "id": {"1", "2"}}},
			func(t *testing.T, s seen) {
				if s.Params.Get("name") != "a b&c" || !slices.Equal(s.Params["id"], []string{"1", "2"}) {
					t.Errorf("query = %v (raw %q)", s.Params, s.Query)
				}
				want("host", s.Host, "lambda-test-alb-1234567.us-east-1.elb.amazonaws.com")(t)
				want("remote", s.Remote, "72.21.198.67")(t)
			}},
		{"ALB client address: the entry the load balancer appended", "alb-multi-value.json",
			map[string]any{"multiValueHeaders.x-forwarded-for": []string{"10.9.9.9, 203.0.113.7", "198.51.100.4"}},
			func(t *testing.T, s seen) { want("remote", s.Remote, "198.51.100.4")(t) }},
		{"ALB single-value", "alb-single-value.json",
			map[string]any{"queryStringParameters": map[string]string{"name": "Z%C3%BCrich"}, "body": b64(nonASCII), "isBase64Encoded": true, "httpMethod": "PUT"},
			func(t *testing.T, s seen) {
				want("name", s.Params.Get("name"), "Zürich")(t)
				want("body", s.Body, nonASCII)(t)
				want("method", s.Method, "PUT")(t)
				want("x-myheader", s.Headers.Get("X-Myheader"), "123")(t)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got seen
			h := New(echo(&got), slog.New(slog.DiscardHandler), nil)
			invoke(t, h, sample(t, tc.file, tc.edits))
			if got.Method == "" {
				t.Fatal("the handler was not called")
			}
			tc.check(t, got)
		})
	}
}

func TestResponseTranslation(t *testing.T) {
	var got seen
	h := New(echo(&got), slog.New(slog.DiscardHandler), nil)

	t.Run("v2: status, several header values, cookies", func(t *testing.T) {
		var r events.APIGatewayV2HTTPResponse
		mustUnmarshal(t, invoke(t, h, sample(t, "http-api-v2.json", nil)), &r)
		if r.StatusCode != http.StatusTeapot || r.Body != "héllo" || r.IsBase64Encoded {
			t.Errorf("status %d body %q base64 %v", r.StatusCode, r.Body, r.IsBase64Encoded)
		}
		if r.Headers["X-Multi"] != "one,two" {
			t.Errorf("X-Multi = %q, want one,two", r.Headers["X-Multi"])
		}
		if !slices.Equal(r.Cookies, []string{"a=1", "b=2"}) || r.Headers["Set-Cookie"] != "" {
			t.Errorf("cookies = %q, Set-Cookie header %q", r.Cookies, r.Headers["Set-Cookie"])
		}
	})
	t.Run("v2: binary body is base64", func(t *testing.T) {
		var r events.APIGatewayV2HTTPResponse
		mustUnmarshal(t, invoke(t, h, sample(t, "http-api-v2.json", map[string]any{"rawPath": "/binary"})), &r)
		body, err := base64.StdEncoding.DecodeString(r.Body)
		if !r.IsBase64Encoded || err != nil || !bytes.Equal(body, []byte{0xff, 0x00, 0xfe, 0x80}) {
			t.Errorf("base64 %v body %q (%v)", r.IsBase64Encoded, r.Body, err)
		}
	})
	t.Run("v2: a handler that writes nothing answers 200", func(t *testing.T) {
		var r events.APIGatewayV2HTTPResponse
		mustUnmarshal(t, invoke(t, h, sample(t, "http-api-v2.json", map[string]any{"rawPath": "/silent"})), &r)
		if r.StatusCode != http.StatusOK {
			t.Errorf("status %d", r.StatusCode)
		}
	})
	t.Run("v2: a bad base64 body is the client's 400", func(t *testing.T) {
		var r events.APIGatewayV2HTTPResponse
		mustUnmarshal(t, invoke(t, h, sample(t, "http-api-v2.json", map[string]any{"body": "%%%not base64", "isBase64Encoded": true})), &r)
		if r.StatusCode != http.StatusBadRequest || r.Headers["Content-Type"] != "application/problem+json" {
			t.Errorf("status %d content type %q", r.StatusCode, r.Headers["Content-Type"])
		}
	})
	t.Run("v1: several header values and cookies", func(t *testing.T) {
		var r events.APIGatewayProxyResponse
		mustUnmarshal(t, invoke(t, h, sample(t, "rest-api-v1.json", nil)), &r)
		if r.StatusCode != http.StatusTeapot || r.Body != "héllo" {
			t.Errorf("status %d body %q", r.StatusCode, r.Body)
		}
		if !slices.Equal(r.MultiValueHeaders["X-Multi"], []string{"one", "two"}) || !slices.Equal(r.MultiValueHeaders["Set-Cookie"], []string{"a=1", "b=2"}) {
			t.Errorf("headers = %v", r.MultiValueHeaders)
		}
	})
	t.Run("ALB multi-value answers multiValueHeaders only", func(t *testing.T) {
		out := invoke(t, h, sample(t, "alb-multi-value.json", nil))
		var r map[string]json.RawMessage
		mustUnmarshal(t, out, &r)
		if _, ok := r["headers"]; ok {
			t.Errorf("headers present: %s", out)
		}
		var mv map[string][]string
		mustUnmarshal(t, r["multiValueHeaders"], &mv)
		if !slices.Equal(mv["X-Multi"], []string{"one", "two"}) || !slices.Equal(mv["Set-Cookie"], []string{"a=1", "b=2"}) {
			t.Errorf("multiValueHeaders = %v", mv)
		}
		if string(r["statusDescription"]) != `"418 I'm a teapot"` {
			t.Errorf("statusDescription = %s", r["statusDescription"])
		}
	})
	t.Run("ALB single-value answers headers only", func(t *testing.T) {
		out := invoke(t, h, sample(t, "alb-single-value.json", nil))
		var r map[string]json.RawMessage
		mustUnmarshal(t, out, &r)
		if _, ok := r["multiValueHeaders"]; ok {
			t.Errorf("multiValueHeaders present: %s", out)
		}
		var hd map[string]string
		mustUnmarshal(t, r["headers"], &hd)
		if hd["X-Multi"] != "one, two" || hd["Content-Type"] != "text/plain; charset=utf-8" {
			t.Errorf("headers = %v", hd)
		}
	})
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

func TestCommandsAndUnknownEvents(t *testing.T) {
	ran := 0
	h := New(http.NotFoundHandler(), slog.New(slog.DiscardHandler), map[string]Command{
		"migrate": func(context.Context) (any, error) { ran++; return map[string]int{"applied": 1}, nil },
		"broken":  func(context.Context) (any, error) { return nil, errors.New("database unreachable") },
	})
	out := invoke(t, h, []byte(`{"icy_morning": "migrate"}`))
	if ran != 1 || string(out) != `{"command":"migrate","ok":true,"result":{"applied":1}}` {
		t.Errorf("migrate: ran %d, output %s", ran, out)
	}
	tests := []struct {
		name, payload, wantErr string
	}{
		{"failing command fails the invocation", `{"icy_morning": "broken"}`, "broken: database unreachable"},
		{"unknown command", `{"icy_morning": "drop-everything"}`, `unknown command "drop-everything" (known: broken, migrate)`},
		{"other event kind", `{"Records": [{"eventSource": "aws:sqs"}]}`, "unsupported event"},
		{"not an object", `"hello"`, "unsupported event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Invoke(context.Background(), []byte(tt.payload))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestStripStage(t *testing.T) {
	tests := []struct{ path, stage, want string }{
		{"/prod/api", "prod", "/api"},
		{"/prod", "prod", "/"},
		{"/prod/", "prod", "/"},
		{"/production/api", "prod", "/production/api"},
		{"/api", "$default", "/api"},
		{"/api", "", "/api"},
		{"/dev/prod/api", "prod", "/dev/prod/api"},
	}
	for _, tt := range tests {
		if got := stripStage(tt.path, tt.stage); got != tt.want {
			t.Errorf("stripStage(%q, %q) = %q, want %q", tt.path, tt.stage, got, tt.want)
		}
	}
}
