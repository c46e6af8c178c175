package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// routes is the whole API surface. Reads are open; every write (and the
// list of subscriptions, which holds personal data) goes through secured,
// which declares Basic auth in the document and so makes authenticate
// enforce it (and throttle failures with 429).
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
		if strings.HasPrefix(path, "/api/") {
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
	conflicts := func(o huma.Operation) huma.Operation {
		o.Errors = append(o.Errors, http.StatusConflict)
		return o
	}
	secured := func(o huma.Operation) huma.Operation {
		o.Security = []map[string][]string{{s.scheme: {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusTooManyRequests)
		return o
	}

	huma.Register(api, op("healthz", http.MethodGet, "/healthz", "Liveness: the process is up", "operations", 200), s.handleHealthz)
	huma.Register(api, op("readyz", http.MethodGet, "/readyz", "Readiness: the database answers", "operations", 200), s.handleReadyz)

	huma.Register(api, op("list-assets", http.MethodGet, "/api/v1/assets", "List assets", "assets", 200), s.handleAssetList)
	huma.Register(api, secured(op("create-asset", http.MethodPost, "/api/v1/assets", "Create an asset", "assets", 201)), s.handleAssetCreate)
	huma.Register(api, op("get-asset", http.MethodGet, "/api/v1/assets/{id}", "Get an asset", "assets", 200), s.handleAssetGet)
	huma.Register(api, secured(op("replace-asset", http.MethodPut, "/api/v1/assets/{id}", "Replace an asset", "assets", 200)), s.handleAssetReplace)
	huma.Register(api, secured(op("patch-asset", http.MethodPatch, "/api/v1/assets/{id}", "Update an asset (JSON Merge Patch)", "assets", 200)), s.handleAssetPatch)
	huma.Register(api, secured(op("delete-asset", http.MethodDelete, "/api/v1/assets/{id}", "Delete an asset", "assets", 200)), s.handleAssetDelete)

	huma.Register(api, op("list-analysts", http.MethodGet, "/api/v1/analysts", "List analysts", "analysts", 200), s.handleAnalystList)
	huma.Register(api, secured(op("create-analyst", http.MethodPost, "/api/v1/analysts", "Create an analyst", "analysts", 201)), s.handleAnalystCreate)
	huma.Register(api, op("get-analyst", http.MethodGet, "/api/v1/analysts/{id}", "Get an analyst", "analysts", 200), s.handleAnalystGet)
	huma.Register(api, secured(op("replace-analyst", http.MethodPut, "/api/v1/analysts/{id}", "Replace an analyst", "analysts", 200)), s.handleAnalystReplace)
	huma.Register(api, secured(op("patch-analyst", http.MethodPatch, "/api/v1/analysts/{id}", "Update an analyst (JSON Merge Patch)", "analysts", 200)), s.handleAnalystPatch)
	huma.Register(api, secured(conflicts(op("delete-analyst", http.MethodDelete, "/api/v1/analysts/{id}", "Delete an analyst", "analysts", 200))), s.handleAnalystDelete)

	huma.Register(api, secured(op("list-subscriptions", http.MethodGet, "/api/v1/subscriptions", "List subscriptions", "subscriptions", 200)), s.handleSubscriptionList)
	huma.Register(api, secured(op("create-subscription", http.MethodPost, "/api/v1/subscriptions", "Subscribe an e-mail address to a topic", "subscriptions", 201)), s.handleSubscriptionCreate)
	legacy := secured(op("create-subscription-legacy", http.MethodPost, "/api/v1/assets/subscription", "Subscribe (the Python service's path)", "subscriptions", 201))
	legacy.Deprecated = true
	huma.Register(api, legacy, s.handleSubscriptionCreateLegacy)
	alsoAnswers(api, "/api/v1/subscriptions", http.StatusCreated, http.StatusOK, "Already subscribed: the existing subscription.")
	alsoAnswers(api, "/api/v1/assets/subscription", http.StatusCreated, http.StatusOK, "Already subscribed: the existing subscription.")
	s.onlyMethods("/api/v1/assets/subscription") // not GET /api/v1/assets/{id}
	huma.Register(api, secured(op("delete-subscription", http.MethodDelete, "/api/v1/subscriptions/{id}", "Unsubscribe", "subscriptions", 200)), s.handleSubscriptionDelete)
}

// alsoAnswers documents a second success status of a POST operation, with
// the same body as its first.
func alsoAnswers(api huma.API, path string, documented, extra int, description string) {
	op := api.OpenAPI().Paths[path].Post
	r := *op.Responses[strconv.Itoa(documented)]
	r.Description = description
	op.Responses[strconv.Itoa(extra)] = &r
}
