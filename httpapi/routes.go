package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// routes is the whole API surface. Reads are open; every write (and the
// list of subscriptions, which holds personal data) goes through secured,
// which declares the authenticator's schemes in the document and so makes
// authenticate enforce them (and throttle failures with 429).
func (s *Server) routes() {
	api := s.api
	op := func(id, method, path, summary, tag string, status int) huma.Operation {
		// The body limit is admit's alone (MaxBodyBytes, checked before
		// and while it reads the body); -1 turns Huma's own check off.
		o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary,
			Tags: []string{tag}, DefaultStatus: status, MaxBodyBytes: -1}
		// Every status an operation can answer is documented, so that
		// clients (and the tests, which check every response against this
		// document) know each one. 400 is a malformed query string.
		o.Errors = []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusServiceUnavailable}
		if strings.HasPrefix(path, "/api/") || strings.Contains(path, "{") {
			o.Errors = append(o.Errors, http.StatusUnprocessableEntity)
		}
		if strings.Contains(path, "{id}") {
			o.Errors = append(o.Errors, http.StatusNotFound)
		}
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
			o.Errors = append(o.Errors, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
		}
		return o
	}
	also := func(o huma.Operation, statuses ...int) huma.Operation {
		for _, st := range statuses {
			if !slices.Contains(o.Errors, st) {
				o.Errors = append(o.Errors, st)
			}
		}
		return o
	}
	conflicts := func(o huma.Operation) huma.Operation { return also(o, http.StatusConflict) }
	// versioned is a change of one analyst or asset, which If-Match may
	// make conditional (conditional.go).
	versioned := func(o huma.Operation) huma.Operation {
		return also(o, http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	}
	// One requirement per scheme: any one of them is enough.
	secured := func(o huma.Operation) huma.Operation {
		for _, sc := range s.schemes {
			o.Security = append(o.Security, map[string][]string{sc.Name: append([]string{}, sc.Scopes...)})
		}
		o.Metadata = map[string]any{needsWrite: true, cacheControlOf: privateNoStore}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
		if o.Method == http.MethodPost {
			// Keyed retries (idempotency.go).
			o.Parameters = append(o.Parameters, idempotencyKeyParam())
			o = also(o, http.StatusConflict)
		}
		return o
	}
	// read is a read of assets or analysts: open, unless PrivateReads
	// asks for credentials, which need no write permission (and no scope).
	read := func(o huma.Operation) huma.Operation {
		o.Metadata = map[string]any{cacheControlOf: s.cacheControl}
		o.Responses = map[string]*huma.Response{"304": notModifiedResponse()}
		if !s.privateReads {
			return o
		}
		o.Metadata[cacheControlOf] = privateNoStore
		for _, sc := range s.schemes {
			o.Security = append(o.Security, map[string][]string{sc.Name: {}})
		}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusTooManyRequests)
		return o
	}

	huma.Register(api, op("healthz", http.MethodGet, "/healthz", "Liveness: the process is up", "operations", 200), s.handleHealthz)
	huma.Register(api, op("readyz", http.MethodGet, "/readyz", "Readiness: the database answers", "operations", 200), s.handleReadyz)

	huma.Register(api, read(op("list-assets", http.MethodGet, "/api/v1/assets", "List assets", "assets", 200)), s.handleAssetList)
	huma.Register(api, secured(op("create-asset", http.MethodPost, "/api/v1/assets", "Create an asset", "assets", 201)), s.handleAssetCreate)
	huma.Register(api, read(op("get-asset", http.MethodGet, "/api/v1/assets/{id}", "Get an asset", "assets", 200)), s.handleAssetGet)
	huma.Register(api, secured(versioned(op("replace-asset", http.MethodPut, "/api/v1/assets/{id}", "Replace an asset", "assets", 200))), s.handleAssetReplace)
	huma.Register(api, secured(versioned(op("patch-asset", http.MethodPatch, "/api/v1/assets/{id}", "Update an asset (JSON Merge Patch)", "assets", 200))), s.handleAssetPatch)
	huma.Register(api, secured(versioned(op("delete-asset", http.MethodDelete, "/api/v1/assets/{id}", "Delete an asset", "assets", 200))), s.handleAssetDelete)

	huma.Register(api, read(op("list-analysts", http.MethodGet, "/api/v1/analysts", "List analysts", "analysts", 200)), s.handleAnalystList)
	huma.Register(api, secured(op("create-analyst", http.MethodPost, "/api/v1/analysts", "Create an analyst", "analysts", 201)), s.handleAnalystCreate)
	huma.Register(api, read(op("get-analyst", http.MethodGet, "/api/v1/analysts/{id}", "Get an analyst", "analysts", 200)), s.handleAnalystGet)
	huma.Register(api, secured(versioned(op("replace-analyst", http.MethodPut, "/api/v1/analysts/{id}", "Replace an analyst", "analysts", 200))), s.handleAnalystReplace)
	huma.Register(api, secured(versioned(op("patch-analyst", http.MethodPatch, "/api/v1/analysts/{id}", "Update an analyst (JSON Merge Patch)", "analysts", 200))), s.handleAnalystPatch)
	huma.Register(api, secured(versioned(conflicts(op("delete-analyst", http.MethodDelete, "/api/v1/analysts/{id}", "Delete an analyst", "analysts", 200)))), s.handleAnalystDelete)

	huma.Register(api, secured(op("list-subscriptions", http.MethodGet, "/api/v1/subscriptions", "List subscriptions", "subscriptions", 200)), s.handleSubscriptionList)
	huma.Register(api, secured(op("create-subscription", http.MethodPost, "/api/v1/subscriptions", "Subscribe an e-mail address to a topic", "subscriptions", 201)), s.handleSubscriptionCreate)
	legacy := secured(op("create-subscription-legacy", http.MethodPost, "/api/v1/assets/subscription", "Subscribe (the Python service's path)", "subscriptions", 201))
	legacy.Deprecated = true
	huma.Register(api, legacy, s.handleSubscriptionCreateLegacy)
	alsoAnswers(api, "/api/v1/subscriptions", http.StatusCreated, http.StatusOK, "Already subscribed: the existing subscription.")
	alsoAnswers(api, "/api/v1/assets/subscription", http.StatusCreated, http.StatusOK, "Already subscribed: the existing subscription.")
	s.onlyMethods("/api/v1/assets/subscription") // not GET /api/v1/assets/{id}
	huma.Register(api, secured(op("delete-subscription", http.MethodDelete, "/api/v1/subscriptions/{id}", "Unsubscribe", "subscriptions", 200)), s.handleSubscriptionDelete)

	// The public side of subscriptions (signup.go): no credentials; a
	// link's token is the proof. Each sign-up may mail, so it is limited
	// (429) and depends on the mail server (503). The pages answer HTML,
	// and problems only for what admit refuses; a GET changes nothing.
	signUp := func(o huma.Operation) huma.Operation {
		return also(o, http.StatusUnprocessableEntity, http.StatusTooManyRequests)
	}
	huma.Register(api, signUp(op("sign-up", http.MethodPost, "/api/v1/subscribe", "Sign up for e-mail notifications (double opt-in)", "sign-up", 202)), s.handleSignUp)
	registerPage(api, op("sign-up-page", http.MethodGet, "/subscribe", "The sign-up page (HTML)", "sign-up", 200), s.handleSignUpPage)
	registerPage(api, signUp(op("sign-up-form", http.MethodPost, "/subscribe", "Sign up from the page's form (HTML)", "sign-up", 200)), s.handleSignUpForm)
	registerPage(api, conflicts(op("confirm-page", http.MethodGet, "/subscribe/confirm/{token}", "The page of a confirmation link (HTML): it confirms nothing itself", "sign-up", 200)), s.handleConfirmPage)
	registerPage(api, also(op("confirm", http.MethodPost, "/subscribe/confirm/{token}", "Confirm a sign-up (HTML)", "sign-up", 200), http.StatusNotFound, http.StatusConflict), s.handleConfirm)
	registerPage(api, also(op("unsubscribe-page", http.MethodGet, "/unsubscribe/{token}", "The page of an unsubscribe link (HTML): it unsubscribes nothing itself", "sign-up", 200), http.StatusNotFound), s.handleUnsubscribePage)
	registerPage(api, also(op("unsubscribe", http.MethodPost, "/unsubscribe/{token}", "Unsubscribe at once (RFC 8058 one-click; HTML)", "sign-up", 200), http.StatusNotFound), s.handleUnsubscribe)
	describeForms(api)

	huma.Register(api, secured(op("list-deliveries", http.MethodGet, "/api/v1/deliveries", "List deliveries (the delivery log)", "deliveries", 200)), s.handleDeliveryList)
	huma.Register(api, secured(conflicts(op("retry-delivery", http.MethodPost, "/api/v1/deliveries/{id}/retry", "Retry a dead or failed delivery", "deliveries", 200))), s.handleDeliveryRetry)

	documentRetryAfter(api)
}

// alsoAnswers documents a second success status of a POST operation, with
// the same body as its first.
func alsoAnswers(api huma.API, path string, documented, extra int, description string) {
	op := api.OpenAPI().Paths[path].Post
	r := *op.Responses[strconv.Itoa(documented)]
	r.Description = description
	op.Responses[strconv.Itoa(extra)] = &r
}

// registered returns the operation of method and path in the document.
func registered(api huma.API, method, path string) *huma.Operation {
	item := api.OpenAPI().Paths[path]
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	}
	panic("httpapi: no " + method + " " + path)
}

// registerPage registers an operation that answers HTML pages (pages.go).
// Each of its answers may be a page, except admit's refusals of a body
// (408, 413, 415), which are problems only; the others may be problems
// too, from admit and Huma. A POST takes a form, or nothing.
func registerPage[I any](api huma.API, o huma.Operation, handler func(context.Context, *I) (*pageOutput, error)) {
	huma.Register(api, o, handler)
	op := registered(api, o.Method, o.Path)
	html := &huma.MediaType{Schema: &huma.Schema{Type: "string", Description: "An HTML page."}}
	for code, r := range op.Responses {
		switch code {
		case "408", "413", "415":
			continue
		}
		if r.Content == nil {
			r.Content = map[string]*huma.MediaType{}
		}
		r.Content["text/html"] = html
	}
	if op.RequestBody != nil {
		// Huma requires a RawBody; a one-click POST may have none.
		op.RequestBody.Required = false
	}
}

// describeForms documents the form members of the pages' POSTs, which
// the handlers read themselves (Huma documents a RawBody as bytes).
func describeForms(api huma.API) {
	const form = "application/x-www-form-urlencoded"
	topics := make([]any, len(icymorning.Topics))
	for i, t := range icymorning.Topics {
		topics[i] = string(t)
	}
	maxEmail := icymorning.MaxEmailLength
	registered(api, http.MethodPost, "/subscribe").RequestBody.Content[form].Schema = &huma.Schema{
		Type: "object", Required: []string{"email"},
		Properties: map[string]*huma.Schema{
			"email": {Type: "string", Format: "email", MaxLength: &maxEmail,
				Description: "The address to mail.", Examples: []any{"ada@example.com"}},
			"topic": {Type: "string", Enum: topics, Default: string(icymorning.TopicAssetCreation),
				Description: "Which asset events to mail.", Examples: []any{string(icymorning.TopicAssetCreation)}},
			"analyst_id": {Type: "string", Pattern: "^[0-9]*$", Description: "Only events of this analyst's assets; empty or absent: every analyst's.",
				Examples: []any{"7"}},
		},
	}
	registered(api, http.MethodPost, "/subscribe/confirm/{token}").RequestBody.Content[form].Schema = &huma.Schema{
		Type: "object", Description: "The page's button sends no members; a body is not needed.",
	}
	registered(api, http.MethodPost, "/unsubscribe/{token}").RequestBody.Content[form].Schema = &huma.Schema{
		Type: "object", Description: "What a mail provider sends for RFC 8058 one-click unsubscribe; a bare POST unsubscribes too.",
		Properties: map[string]*huma.Schema{"List-Unsubscribe": {Type: "string", Enum: []any{"One-Click"},
			Description: "One-Click: an RFC 8058 unsubscribe by a mail provider.", Examples: []any{"One-Click"}}},
	}
}

// documentRetryAfter documents the Retry-After header of every 429 (the
// authentication and sign-up limits), and of the 503s that can carry one.
func documentRetryAfter(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			for code, required := range map[string]bool{"429": true, "503": false} {
				r := op.Responses[code]
				if r == nil {
					continue
				}
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				r.Headers["Retry-After"] = &huma.Param{Required: required, Schema: &huma.Schema{Type: "integer", Minimum: ptr(1.0)},
					Description: "Seconds to wait before trying again."}
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
