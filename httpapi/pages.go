package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// The public sign-up, confirmation and unsubscribe pages: small HTML
// documents for people, with everything inline (no script, no external
// assets), written from one html/template, which escapes whatever they
// show.

//go:embed templates/page.html templates/page.css
var pageFS embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(pageFS, "templates/page.html"))
	pageStyle    = template.CSS(mustRead(pageFS, "templates/page.css"))
	// pageCSP allows the pages nothing but their own inline style (by its
	// hash, so no injected style could run either) and forms that post
	// back to this server; no script, frame, image or base URL.
	pageCSP = "default-src 'none'; style-src '" + cspHash(string(pageStyle)) + "'; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
)

func mustRead(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cspHash is a CSP source expression for an inline element's content.
func cspHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageView is what a page shows.
type pageView struct {
	Title  string   // the <title> and the heading
	Alert  string   // what went wrong, announced to screen readers (role="alert")
	Errors []string // the alert's particulars
	Text   []string // paragraphs
	Form   *signUpFormView
	// Button, when set, is the label of a form that posts to the page's
	// own URL: the one step a person takes to confirm or unsubscribe.
	Button string
	Style  template.CSS
}

// pageOutput is an HTML answer of a Huma operation: the page and its
// headers, written by Body.
type pageOutput struct {
	Body func(huma.Context)
}

// renderPage writes v as the answer, with status and any extra headers
// (Retry-After). Every page is no-store (links carry tokens, pages show
// addresses) and sends no Referer onwards.
func (s *Server) renderPage(ctx context.Context, status int, v pageView, extra http.Header) (*pageOutput, error) {
	v.Style = pageStyle
	var buf bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&buf, "page", v); err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return &pageOutput{Body: func(hc huma.Context) {
		for k, vs := range extra {
			for _, v := range vs {
				hc.AppendHeader(k, v)
			}
		}
		hc.SetHeader("Content-Type", "text/html; charset=utf-8")
		hc.SetHeader("Content-Security-Policy", pageCSP)
		hc.SetHeader("Cache-Control", "no-store")
		hc.SetHeader("Referrer-Policy", "no-referrer")
		hc.SetStatus(status)
		_, _ = hc.BodyWriter().Write(buf.Bytes())
	}}, nil
}

// errorPage shows err, a problem built by errors.go (from a domain error, a
// limit, a malformed form), as a page with the problem's status and
// headers; v holds what the page shows besides (the form to correct).
// An invalid member of the sign-up form is shown beside its field.
func (s *Server) errorPage(ctx context.Context, err error, v pageView) (*pageOutput, error) {
	var se huma.StatusError
	if !errors.As(err, &se) {
		err = s.problemFromDomain(ctx, err)
		errors.As(err, &se)
	}
	var extra http.Header
	var he huma.HeadersError
	if errors.As(err, &he) {
		extra = he.GetHeaders()
	}
	status := se.GetStatus()
	if v.Title == "" {
		v.Title = pageTitles[status]
		if v.Title == "" {
			v.Title = http.StatusText(status)
		}
	}
	v.Alert = sentence(se.Error())
	if m, ok := se.(*huma.ErrorModel); ok {
		v.Alert = sentence(m.Detail)
		switch {
		case v.Form != nil && len(m.Errors) > 0:
			// Each error is shown beside its field, and listed.
			v.Alert = "Some of what was sent is not valid:"
			for _, d := range m.Errors {
				field := strings.TrimPrefix(d.Location, "body.")
				if label := fieldLabels[field]; label != "" && field != d.Location {
					v.Form.Errors[field] = d.Message
					v.Errors = append(v.Errors, label+": "+d.Message)
				} else {
					v.Errors = append(v.Errors, d.Message)
				}
			}
		case len(m.Errors) == 1:
			v.Alert = sentence(m.Errors[0].Message) // the link's, say
		}
	}
	if retry := extra.Get("Retry-After"); retry != "" {
		v.Text = append(v.Text, "Please try again in "+retry+" seconds.")
	}
	return s.renderPage(ctx, status, v, extra)
}

// pageTitles head the error pages by status.
var pageTitles = map[int]string{
	http.StatusBadRequest:          "That request could not be read",
	http.StatusNotFound:            "Not found",
	http.StatusConflict:            "This subscription has ended",
	http.StatusUnprocessableEntity: "Please check what you entered",
	http.StatusTooManyRequests:     "Too many requests",
	http.StatusInternalServerError: "Something went wrong on our side",
	http.StatusServiceUnavailable:  "Please try again later",
}

// fieldLabels name the sign-up form's members as the page does.
var fieldLabels = map[string]string{
	"email":      "E-mail address",
	"topic":      "Topic",
	"analyst_id": "Analyst id",
}

// sentence makes a problem's detail read as a sentence on a page.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
