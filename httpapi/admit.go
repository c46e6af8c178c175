package httpapi

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// admit is the Huma middleware that checks, before anything is parsed,
// what every operation's request must be. It runs for matched operations
// only, so an unknown path is a 404 whatever else is wrong with it.
func (s *Server) admit(ctx huma.Context, next func(huma.Context)) {
	r, _ := humago.Unwrap(ctx)
	op := ctx.Operation()
	status, msg, detail := admitQuery(op, r)
	if status == 0 && op.RequestBody != nil {
		if hasBody(r) {
			status, msg = admitBody(op, r)
			if status == http.StatusUnsupportedMediaType && r.Header.Get("Content-Encoding") != "" {
				// RFC 9110 §12.5.3: say which content codings are accepted.
				ctx.SetHeader("Accept-Encoding", "identity")
			}
		}
		if status == 0 {
			status, msg, detail = readWholeBody(op, r)
		}
	}
	if status != 0 {
		var errs []error
		if detail != nil {
			errs = append(errs, detail)
		}
		_ = huma.WriteErr(s.api, ctx, status, msg, errs...)
		return
	}
	next(ctx)
}

var msgBodyTooLarge = "the request body is over the limit of " + strconv.Itoa(MaxBodyBytes) + " bytes"

// hasBody reports whether the request carries content: a Content-Length
// above zero, or chunked (length -1).
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
}

// admitQuery refuses a query string that does not decode, which url.Query
// would silently drop (so ?name=%zz listed every asset), and parameters
// that are not text a database can store: PostgreSQL refuses NUL and
// invalid UTF-8 with an error, SQLite compares the bytes, and neither is a
// name anyone can have.
func admitQuery(op *huma.Operation, r *http.Request) (int, string, *huma.ErrorDetail) {
	var query url.Values
	if r.URL.RawQuery != "" {
		var err error
		query, err = url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			msg := "the query string is malformed: a % must be followed by two hexadecimal digits"
			if !errors.As(err, new(url.EscapeError)) {
				msg = "the query string is malformed: separate parameters with &, not ;"
			}
			return http.StatusBadRequest, msg, nil
		}
	}
	for _, p := range op.Parameters {
		var values []string
		switch p.In {
		case "query":
			values = query[p.Name]
		case "path":
			values = []string{r.PathValue(p.Name)}
		case "header":
			values = r.Header.Values(p.Name)
		}
		for _, v := range values {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return http.StatusUnprocessableEntity, "validation failed",
					&huma.ErrorDetail{Location: p.In + "." + p.Name, Message: "must be UTF-8 text without NUL characters"}
			}
		}
	}
	return 0, "", nil
}

// admitBody checks a body's framing and labels before it is read: its
// declared size (so that Expect: 100-continue gets its 413 before the
// upload, not after), its content coding and its media type.
func admitBody(op *huma.Operation, r *http.Request) (int, string) {
	if r.ContentLength > MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, msgBodyTooLarge
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
		return http.StatusUnsupportedMediaType, "the request body must not be compressed: no Content-Encoding is accepted"
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return 0, "" // JSON is assumed, as the Python service did
	}
	// Media types are case-insensitive (RFC 9110 §8.3.1); ParseMediaType
	// lowercases the type and refuses a malformed one.
	takesJSON := op.RequestBody.Content["application/json"] != nil || op.RequestBody.Content["application/merge-patch+json"] != nil
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return http.StatusUnsupportedMediaType, notAccepted(op, takesJSON)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return http.StatusUnsupportedMediaType, "request bodies must be UTF-8 (charset=utf-8)"
	}
	// application/json is also taken where only a JSON Merge Patch is
	// declared, as the Python service took it; a form is never JSON.
	if _, declared := op.RequestBody.Content[media]; !declared && (media != "application/json" || !takesJSON) {
		return http.StatusUnsupportedMediaType, notAccepted(op, takesJSON)
	}
	// Huma picks the decoder by the header's exact spelling; give it the
	// canonical one.
	r.Header.Set("Content-Type", media)
	return 0, ""
}

// notAccepted says which bodies an operation takes.
func notAccepted(op *huma.Operation, takesJSON bool) string {
	if takesJSON {
		return msgNotJSON
	}
	return "the request body must be " + strings.Join(slices.Sorted(maps.Keys(op.RequestBody.Content)), " or ")
}

// readWholeBody reads the body into memory before Huma does, so that what
// can go wrong in reading gets the client's status: Huma answers any read
// error with a 500 quoting the reader, and a missing body with a 400 where
// the contract says 422. Huma then reads the copy, which cannot fail.
func readWholeBody(op *huma.Operation, r *http.Request) (int, string, *huma.ErrorDetail) {
	var body []byte
	if hasBody(r) {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		var nerr net.Error
		switch {
		case errors.As(err, &nerr) && nerr.Timeout():
			return http.StatusRequestTimeout, "the request body did not arrive in time", nil
		case err != nil:
			return http.StatusBadRequest, msgBodyUnreadable, nil // observe logs the cause
		case len(body) > MaxBodyBytes:
			return http.StatusRequestEntityTooLarge, msgBodyTooLarge, nil
		}
	}
	if len(body) == 0 && op.RequestBody.Required {
		return http.StatusUnprocessableEntity, "validation failed", &huma.ErrorDetail{Location: "body", Message: msgFieldRequired}
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return 0, "", nil
}
