package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// The document's prose and examples, kept apart from routes.go so that the
// API surface stays on one screen there. describe applies them to the
// operations routes built, by operation id; a test fails when an operation
// has no entry here, or an example no longer matches its schema.

// apiDescription is the document's info.description (Markdown).
const apiDescription = "Tracks investment assets and the analysts who cover them, and e-mails subscribers when assets change.\n\n" +
	"**Credentials.** Reads, the public sign-up and the links in mails are open (`security: []`); writes, the subscription list " +
	"and the delivery log need credentials with the write permission, by any one of the security schemes below.\n\n" +
	"**Errors.** Every error is an RFC 9457 problem document (`application/problem+json`); a 422 names each failing " +
	"parameter or member in `errors[].location`. 429 and 503 say when to try again in `Retry-After`.\n\n" +
	"**Versions.** `info.version` is the version of this contract (semantic versioning); the build answering is in the " +
	"`X-Build-Version` header of `GET /healthz`.\n\n" +
	"**This document:** [openapi.json](openapi.json) (OpenAPI 3.1), [openapi.yaml](openapi.yaml), " +
	"and OpenAPI 3.0 for older tools: [openapi-3.0.json](openapi-3.0.json)."

// tags describe the groups of operations, in the order the docs show them.
var tags = []*huma.Tag{
	{Name: "assets", Description: "Investment assets, each covered by one analyst. Anyone may read them; " +
		"creating, changing and deleting one needs credentials with the write permission, and mails the subscribers of its topic."},
	{Name: "analysts", Description: "The people who cover assets. Anyone may read them; writes need the write permission. " +
		"An analyst cannot be deleted while assets refer to it."},
	{Name: "subscriptions", Description: "E-mail subscriptions to asset events, managed by an operator: " +
		"they hold personal data, so even listing them needs the write permission."},
	{Name: "sign-up", Description: "The public side of subscriptions: a person signs up (double opt-in: a mailed link confirms), " +
		"and unsubscribes from a link in any mail. No credentials: a link's signed token is the proof. " +
		"The pages answer HTML; the JSON sign-up answers the same whether or not the address was known."},
	{Name: "deliveries", Description: "The delivery log: one row per mail to one subscription, with its attempts, " +
		"and a retry for those that failed. Needs the write permission."},
	{Name: "operations", Description: "Liveness and readiness probes for load balancers and orchestrators; open, cheap, never cached."},
}

// paging is how every list pages; lists add their filters.
const paging = "Items come in id order, at most `limit` of them (default 100, at most 1000). " +
	"When more exist, the `Link` header holds the next page as `<...>; rel=\"next\"`: a reference relative to this URL " +
	"that keeps every filter and carries an opaque `cursor`; follow it until an answer has no `Link` header. " +
	"The body is a bare JSON array, as the Python service answered."

// opDoc is what the document says of one operation beyond routes.go.
type opDoc struct {
	// does says what the operation does; describe adds who may call it.
	does string
	// statuses say what a status means for this operation, over
	// statusMeaning's general words.
	statuses map[int]string
	// body is the request body's example (JSON, or a form's members).
	body any
	// answer is the example of its success responses.
	answer any
}

var (
	exampleAsset = asset{ID: 42, Name: "Global Equity Fund", Description: ptr("Large-cap equities across developed markets."),
		InceptionDate: "2024-01-31", IsActive: true, AnalystID: 7}
	exampleAnalyst      = analyst{ID: 7, Name: "Ada Lovelace", Company: "Analytical Engines Ltd"}
	exampleSubscription = subscription{ID: 3, Email: "ada@example.com", Topic: string(icymorning.TopicAssetCreation),
		AnalystID: ptr(int64(7)), Status: string(icymorning.SubscriptionActive)}
	examplePythonSubscription = pythonSubscription{ID: 3, Email: "ada@example.com", Topic: string(icymorning.TopicAssetCreation)}
	exampleDelivery           = delivery{ID: 12, EventID: 5, SubscriptionID: 3, Status: string(icymorning.DeliverySent), Attempts: 1,
		ProviderMessageID: ptr("0100018f-8c2a-4b1e-9d3f-2a6c1e7b9f00-000000"),
		CreatedAt:         time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 28, 9, 0, 2, 0, time.UTC),
		NextAttemptAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), SentAt: ptr(time.Date(2026, 11, 28, 9, 0, 2, 0, time.UTC))}
	exampleRetried = delivery{ID: 13, EventID: 5, SubscriptionID: 4, Status: string(icymorning.DeliveryPending),
		CreatedAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC),
		NextAttemptAt: time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC)}
	exampleAssetWrite = AssetWrite{Name: exampleAsset.Name, Description: exampleAsset.Description,
		InceptionDate: exampleAsset.InceptionDate, IsActive: true, AnalystID: 7}
	exampleAnalystWrite = AnalystWrite{Name: exampleAnalyst.Name, Company: exampleAnalyst.Company}
	exampleHealth       = map[string]string{"status": "ok"}
)

// examplePage is an HTML page's example, shortened.
const examplePage = "<!doctype html>\n<html lang=\"en\">\n<head><title>Icy Morning</title></head>\n<body><main>…</main></body>\n</html>\n"

// opDocs are the operations' words and examples, by operation id.
var opDocs = map[string]opDoc{
	"healthz": {does: "Liveness: answers 200 while the process serves HTTP, without touching the database, " +
		"so an orchestrator restarts only a process that is truly stuck. `X-Build-Version` names the build.",
		statuses: map[int]string{200: "Alive.", 503: "Documented for every operation; this one touches no database and does not answer it."},
		answer:   exampleHealth},
	"readyz": {does: "Readiness: answers 200 when the database answers a ping within 2 seconds, and 503 (with `Retry-After`) " +
		"while it does not, so a load balancer sends requests elsewhere until it is back.",
		statuses: map[int]string{200: "Ready: the database answered.", 503: "Not ready: the database did not answer in time; ask again after `Retry-After` seconds."},
		answer:   exampleHealth},

	"list-assets": {does: "Lists assets, optionally only those of one analyst (`analyst_id`), only active or inactive ones (`is_active`), " +
		"or only those with exactly one `name`; filters combine (all must hold). " + paging,
		statuses: map[int]string{200: "One page of assets (possibly empty)."},
		answer:   []asset{exampleAsset}},
	"create-asset": {does: "Creates an asset covered by an existing analyst. `inception_date` defaults to today (UTC); unknown members are ignored. " +
		"Subscribers to `asset::creation` are mailed.",
		statuses: map[int]string{201: "Created: the asset as stored, with its id.", 422: "A member is missing or invalid, or `analyst_id` names no analyst."},
		body:     exampleAssetWrite, answer: exampleAsset},
	"get-asset": {does: "Returns one asset. `Last-Modified` says when it last changed.",
		statuses: map[int]string{200: "The asset.", 404: "No asset has this id."},
		answer:   exampleAsset},
	"replace-asset": {does: "Replaces every member of an asset (a missing `inception_date` becomes today); " +
		"an `id` in the body must equal the path's. Subscribers to `asset::update` are mailed when a member changed.",
		statuses: map[int]string{200: "The asset as stored now.", 404: "No asset has this id.",
			422: "A member is missing or invalid, `analyst_id` names no analyst, or the body's `id` differs from the path's."},
		body: assetReplace{AssetWrite: exampleAssetWrite, ID: 42}, answer: exampleAsset},
	"patch-asset": {does: "Changes some members of an asset (JSON Merge Patch, RFC 7396): members present change, absent ones stay, " +
		"and `null` removes the `description` (the only member that can be null). Subscribers to `asset::update` are mailed when a member changed.",
		statuses: map[int]string{200: "The asset as stored now.", 404: "No asset has this id.",
			422: "A member is invalid, a member other than `description` is null, or `analyst_id` names no analyst."},
		body:   map[string]any{"is_active": false, "description": nil},
		answer: asset{ID: 42, Name: exampleAsset.Name, InceptionDate: exampleAsset.InceptionDate, AnalystID: 7}},
	"delete-asset": {does: "Deletes an asset and answers it as it was. Subscribers to `asset::deletion` are mailed.",
		statuses: map[int]string{200: "Deleted: the asset as it was.", 404: "No asset has this id (or it was already deleted)."},
		answer:   exampleAsset},

	"list-analysts": {does: "Lists analysts. " + paging,
		statuses: map[int]string{200: "One page of analysts (possibly empty)."},
		answer:   []analyst{exampleAnalyst}},
	"create-analyst": {does: "Creates an analyst. Unknown members are ignored.",
		statuses: map[int]string{201: "Created: the analyst as stored, with its id.", 422: "A member is missing, empty or too long."},
		body:     exampleAnalystWrite, answer: exampleAnalyst},
	"get-analyst": {does: "Returns one analyst. `Last-Modified` says when it last changed.",
		statuses: map[int]string{200: "The analyst.", 404: "No analyst has this id."},
		answer:   exampleAnalyst},
	"replace-analyst": {does: "Replaces every member of an analyst; an `id` in the body must equal the path's.",
		statuses: map[int]string{200: "The analyst as stored now.", 404: "No analyst has this id.",
			422: "A member is missing, empty or too long, or the body's `id` differs from the path's."},
		body: analystReplace{AnalystWrite: exampleAnalystWrite, ID: 7}, answer: exampleAnalyst},
	"patch-analyst": {does: "Changes some members of an analyst (JSON Merge Patch, RFC 7396): members present change, absent ones stay; no member may be null.",
		statuses: map[int]string{200: "The analyst as stored now.", 404: "No analyst has this id.", 422: "A member is empty, too long or null."},
		body:     map[string]any{"company": "Difference Engines plc"},
		answer:   analyst{ID: 7, Name: exampleAnalyst.Name, Company: "Difference Engines plc"}},
	"delete-analyst": {does: "Deletes an analyst and answers it as it was. An analyst still covering assets cannot be deleted: " +
		"delete the assets or give them another analyst first.",
		statuses: map[int]string{200: "Deleted: the analyst as it was.", 404: "No analyst has this id.", 409: "Assets still refer to this analyst."},
		answer:   exampleAnalyst},

	"list-subscriptions": {does: "Lists subscriptions, optionally only those to one `topic`, in one `status`, or of one `email` address; filters combine. " + paging,
		statuses: map[int]string{200: "One page of subscriptions (possibly empty)."},
		answer:   []subscription{exampleSubscription}},
	"create-subscription": {does: "Subscribes an e-mail address to a topic, optionally only for one analyst's assets, as an operator: " +
		"the subscription is active at once, without the confirmation mail that a public sign-up needs. There is one subscription per address, topic and analyst: " +
		"subscribing again is not an error.",
		statuses: map[int]string{201: "Subscribed: a new subscription, or a pending or unsubscribed one made active again.",
			200: "Already active (or suppressed after a bounce): the existing subscription, unchanged.",
			422: "The address is not a valid e-mail address, the topic is unknown, or `analyst_id` names no analyst."},
		body:   subscriptionWrite{Email: "ada@example.com", Topic: string(icymorning.TopicAssetCreation), AnalystID: ptr(int64(7))},
		answer: exampleSubscription},
	"create-subscription-legacy": {does: "The Python service's path for subscribing, kept for its clients: only the topic `asset::creation`, " +
		"and the answer has the Python service's three members. Use `POST /api/v1/subscriptions` instead.",
		statuses: map[int]string{201: "Subscribed: a new subscription, or a pending or unsubscribed one made active again.",
			200: "Already active (or suppressed after a bounce): the existing subscription, unchanged.",
			422: "The address is not a valid e-mail address, or the topic is not `asset::creation`."},
		body:   legacySubscriptionWrite{Email: "ada@example.com", Topic: string(icymorning.TopicAssetCreation)},
		answer: legacySubscription(examplePythonSubscription)},
	"delete-subscription": {does: "Ends a subscription, as an operator (subscribers use the link in their mail): it becomes unsubscribed, " +
		"and the row stays for the delivery log. The answer has the Python service's three members. A suppressed subscription is answered as it is and stays suppressed.",
		statuses: map[int]string{200: "Ended: the subscription.", 404: "No subscription has this id, or it was unsubscribed already."},
		answer:   examplePythonSubscription},

	"sign-up": {does: "A person signs up for notifications (double opt-in): a confirmation link is mailed, and the subscription becomes active " +
		"only when it is followed. The answer is the same whether the address was new, pending, active or suppressed, so it tells nobody who is subscribed; " +
		"a confirmation is mailed again at most once an hour. Limited per client address and per e-mail address.",
		statuses: map[int]string{202: "Accepted: if the address can be subscribed, a confirmation link is on its way.",
			422: "The address is not a valid e-mail address, the topic is unknown, or `analyst_id` names no analyst.",
			429: "Too many sign-ups from this client address or for this e-mail address; try again after `Retry-After` seconds.",
			503: "The mail server is not reachable or notifications are not configured; try again after `Retry-After` seconds."},
		body:   subscriptionWrite{Email: "ada@example.com", Topic: string(icymorning.TopicAssetUpdate)},
		answer: signUpAccepted{Status: "accepted", Detail: signUpDetail}},
	"sign-up-page": {does: "The sign-up page: a form for an address, a topic and optionally an analyst, which posts to `POST /subscribe`.",
		statuses: map[int]string{200: "The page.", 503: publicUnavailable}, answer: examplePage},
	"sign-up-form": {does: "What the sign-up page's form posts: as `POST /api/v1/subscribe`, answered with a page that says what happens next, " +
		"or the form again with what is wrong.",
		statuses: map[int]string{200: "A page: the link is on its way, or the form again with what to fix.",
			422: "The form again, naming the fields to fix.", 429: "Too many sign-ups; a page says when to try again.",
			503: "The mail server is not reachable; a page says when to try again."},
		body: map[string]any{"email": "ada@example.com", "topic": string(icymorning.TopicAssetCreation), "analyst_id": "7"}, answer: examplePage},
	"confirm-page": {does: "The page a confirmation link opens. It confirms nothing itself (mail scanners follow links): its button posts to the same URL. " +
		"A subscription already confirmed gets the page that says so.",
		statuses: map[int]string{200: "The page with the button.", 409: "The subscription has ended (unsubscribed, or suppressed after a bounce): sign up again.", 422: badLinkMeaning,
			503: publicUnavailable},
		answer: examplePage},
	"confirm": {does: "Confirms a sign-up: the subscription becomes active and gets mail from now on.",
		statuses: map[int]string{200: "Confirmed: a page says so.", 404: "The link's subscription no longer exists.", 422: badLinkMeaning,
			409: "The subscription has ended since (unsubscribed, or suppressed after a bounce): sign up again.", 503: publicUnavailable},
		body: map[string]any{}, answer: examplePage},
	"unsubscribe-page": {does: "The page an unsubscribe link opens. It unsubscribes nothing itself (mail scanners follow links): its button posts to the same URL.",
		statuses: map[int]string{200: "The page with the button.", 404: "The link's subscription no longer exists.", 422: badLinkMeaning, 503: publicUnavailable},
		answer:   examplePage},
	"unsubscribe": {does: "Unsubscribes at once: the target of the page's button and of RFC 8058 one-click unsubscribe, " +
		"which mail providers send with `List-Unsubscribe=One-Click`. Unsubscribing twice is not an error.",
		statuses: map[int]string{200: "Unsubscribed: a page says so.", 404: "The link's subscription no longer exists.", 422: badLinkMeaning, 503: publicUnavailable},
		body:     map[string]any{"List-Unsubscribe": "One-Click"}, answer: examplePage},

	"list-deliveries": {does: "Lists the delivery log, optionally only deliveries in one `status`, of one `event_id` or to one `subscription_id`; filters combine. " + paging,
		statuses: map[int]string{200: "One page of deliveries (possibly empty)."},
		answer:   []delivery{exampleDelivery}},
	"retry-delivery": {does: "Puts a dead or failed delivery back in line: pending, no attempts, due now. A sent mail is never sent again.",
		statuses: map[int]string{200: "Back in line: the delivery as it is now.", 404: "No delivery has this id.",
			409: "The delivery is not dead or failed (it was sent, suppressed, or is already pending)."},
		answer: exampleRetried},
}

// badLinkMeaning is the 422 of the links' routes.
const badLinkMeaning = "The link is forged, cut short, or (a confirmation link) older than 7 days: a page says so."

// publicUnavailable is the 503 of the public sign-up routes.
const publicUnavailable = "The database did not answer in time (try again after `Retry-After` seconds), or this server has no notifications configured."

// statusMeaning is what a status means wherever an operation's opDoc does
// not say more.
var statusMeaning = map[int]string{
	200: "OK.",
	400: "The request is malformed: a query string that is not valid URL encoding, or a body that is not valid JSON.",
	401: "No credentials, or credentials that do not pass; `WWW-Authenticate` names the schemes accepted.",
	403: "Valid credentials without the write permission (a token without the write scope or group).",
	404: "Nothing has this id.",
	408: "The request body did not arrive in time.",
	409: "The request conflicts with the resource's state; or a request with the same `Idempotency-Key` is still in progress (retry later).",
	413: "The request body is larger than 1 MiB.",
	304: "Not Modified: the resource still has the ETag in `If-None-Match` (or has not changed since `If-Modified-Since`); no body, the validators again.",
	412: "Precondition Failed: the resource no longer has the ETag in `If-Match` (someone changed it since you read it); nothing was changed. GET it again, reapply your change and send its new ETag.",
	415: "The body is not of a media type the operation takes (or is compressed, or not UTF-8).",
	428: "Precondition Required: this server runs with `REQUIRE_IF_MATCH`; send `If-Match` with the ETag of the version you are changing.",
	422: "A parameter or a body member is invalid; `errors` names each by its `location`.",
	429: "Too many failed authentications from this client address; try again after `Retry-After` seconds.",
	500: "An unexpected failure; `detail` names the request id to quote when reporting it.",
	503: "The database did not answer in time or cannot be reached; try again after `Retry-After` seconds.",
}

// problemDetails are the details of the error examples, by status.
var problemDetails = map[int]string{
	401: "valid credentials are required",
	403: "these credentials do not grant the write permission",
	404: "not found",
	408: "the request body did not arrive in time",
	413: msgBodyTooLarge,
	415: msgNotJSON,
	428: "this server requires If-Match on changes: send the ETag of the asset you are changing",
	429: "too many failed authentications from this address; try again after the time in Retry-After",
	500: "internal error (request id 138268ba962460a265830e60bb5524cf)",
	503: "the database did not answer in time; try again",
}

// conflictDetails are the details of the 409 examples, as the store
// words them.
var conflictDetails = map[string]string{
	"delete-analyst": "analyst 7 still covers assets: delete or reassign them first",
	"retry-delivery": "delivery 12 is sent: only a dead or failed delivery can be retried",
	"confirm-page":   "this subscription is unsubscribed: sign up again to receive mail",
	"confirm":        "subscription 3 is unsubscribed: sign up again to receive mail",
}

// describe gives every operation its description, response words and
// examples, and open operations an explicit empty security requirement
// (anyone may call them), once routes has built them all.
func (s *Server) describe() {
	doc := s.api.OpenAPI()
	doc.Tags = tags
	describeProblem(doc.Components.Schemas.Map())
	for path, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			d, ok := opDocs[op.OperationID]
			if !ok {
				panic("httpapi: no opDocs entry for operation " + op.OperationID + " (" + path + ")")
			}
			if !s.requiresAuth(op) {
				op.Security = []map[string][]string{}
			}
			op.Description = d.does + "\n\n" + s.whoMayCall(op)
			if op.RequestBody != nil && op.RequestBody.Content["application/merge-patch+json"] != nil {
				// Huma documents the RawBody beside a merge patch as
				// application/octet-stream, which it cannot decode: such a
				// body has always got 415.
				delete(op.RequestBody.Content, "application/octet-stream")
			}
			if op.RequestBody != nil && d.body != nil {
				for _, mt := range op.RequestBody.Content {
					mt.Example = jsonValue(d.body)
				}
			}
			for code, r := range op.Responses {
				status, _ := strconv.Atoi(code)
				r.Description = meaning(d, status)
				describeHeaders(r.Headers)
				for media, mt := range r.Content {
					switch {
					case media == "text/html":
						mt.Example = examplePage
					case status >= 400:
						mt.Example = problemExample(status, op)
					default:
						mt.Example = jsonValue(d.answer)
					}
				}
			}
		}
	}
}

// describeHeaders gives each response header its schema's description
// (Huma writes a header's doc tag into its schema only) and Retry-After
// its example.
func describeHeaders(headers map[string]*huma.Param) {
	for name, h := range headers {
		if h.Description == "" && h.Schema != nil {
			h.Description = h.Schema.Description
		}
		if name == "Retry-After" && h.Schema != nil {
			h.Schema.Examples = []any{5}
		}
	}
}

// meaning is what status means for the operation d documents.
func meaning(d opDoc, status int) string {
	if m, ok := d.statuses[status]; ok {
		return m
	}
	if m, ok := statusMeaning[status]; ok {
		return m
	}
	return http.StatusText(status)
}

// whoMayCall says who may call op, with which scheme and scope.
func (s *Server) whoMayCall(op *huma.Operation) string {
	if !s.requiresAuth(op) {
		return "**Who may call it:** anyone; no credentials are needed."
	}
	write := op.Metadata[needsWrite] == true
	var ways []string
	for _, sc := range s.schemes {
		switch {
		case !write && sc.Type == "http" && sc.Scheme == "bearer":
			ways = append(ways, fmt.Sprintf("`%s` (an access token from the OpenID Connect provider)", sc.Name))
		case !write && sc.Type == "oauth2":
			ways = append(ways, fmt.Sprintf("`%s` (log in at the provider)", sc.Name))
		case sc.Type == "http" && sc.Scheme == "basic":
			ways = append(ways, fmt.Sprintf("`%s` (HTTP Basic: the service's account)", sc.Name))
		case sc.Type == "http" && sc.Scheme == "bearer":
			ways = append(ways, fmt.Sprintf("`%s` (an access token from the OpenID Connect provider that carries the write scope or group; see the scheme)", sc.Name))
		case len(sc.Scopes) > 0:
			ways = append(ways, fmt.Sprintf("`%s` (log in at the provider with the scope `%s`)", sc.Name, strings.Join(sc.Scopes, "`, `")))
		default:
			ways = append(ways, fmt.Sprintf("`%s`", sc.Name))
		}
	}
	if !write {
		return "**Who may call it:** any valid credentials (this server has READS_REQUIRE_AUTH), by any one of " + strings.Join(ways, ", ") +
			". Missing or failing credentials get 401, and a client address that keeps failing 429. The answer is never cached (`Cache-Control: no-store`)."
	}
	return "**Who may call it:** credentials with the write permission, by any one of " + strings.Join(ways, ", ") +
		". Missing or failing credentials get 401, credentials without the write permission 403, " +
		"and a client address that keeps failing 429. The answer is never cached (`Cache-Control: no-store`)."
}

// problemExample is an example of op's answer with status: a problem
// document built by newProblem, as the real ones are.
func problemExample(status int, op *huma.Operation) any {
	var p huma.StatusError
	switch status {
	case http.StatusUnprocessableEntity:
		loc, msg := "path.id", "invalid integer"
		if op.RequestBody != nil {
			loc, msg = "body.name", msgFieldRequired
		} else if len(op.Parameters) > 0 && op.Parameters[0].In == "query" {
			loc, msg = "query.limit", "expected number <= 1000"
		} else if len(op.Parameters) > 0 && op.Parameters[0].Name == "token" {
			loc, msg = "path.token", "the link is not valid"
		}
		p = newProblem(status, "validation failed", &huma.ErrorDetail{Location: loc, Message: msg})
	case http.StatusBadRequest:
		if op.RequestBody != nil {
			p = newProblem(status, "", &huma.ErrorDetail{Location: "body", Message: "invalid JSON at byte 11"})
		} else {
			p = newProblem(status, "the query string is malformed: a % must be followed by two hexadecimal digits")
		}
	case http.StatusConflict:
		detail, ok := conflictDetails[op.OperationID]
		if !ok && op.Method == http.MethodPost && op.Metadata[needsWrite] == true {
			detail, ok = icymorning.ErrKeyInProgress.Message, true
		}
		if !ok {
			panic("httpapi: no example 409 for " + op.OperationID)
		}
		p = newProblem(status, detail)
	case http.StatusPreconditionFailed:
		p = newProblem(status, staleDetail(icymorning.Stale(kindOf(op), 42).(*icymorning.Error).Message))
	case http.StatusNotFound:
		// As the store words it: the kind of thing and its id.
		p = newProblem(status, kindOf(op)+" 42 not found")
	default:
		detail, ok := problemDetails[status]
		if !ok {
			panic("httpapi: no example problem for status " + strconv.Itoa(status))
		}
		p = newProblem(status, detail)
	}
	return jsonValue(p)
}

// kindOf is the kind of thing op's path names by id.
func kindOf(op *huma.Operation) string {
	kind := "subscription" // a link's
	for plural, singular := range map[string]string{"/assets/": "asset", "/analysts/": "analyst",
		"/subscriptions/": "subscription", "/deliveries/": "delivery"} {
		if strings.Contains(op.Path, plural) {
			kind = singular
		}
	}
	return kind
}

// describeProblem completes Huma's problem schemas: examples for every
// member, and the type this service sends.
func describeProblem(schemas map[string]*huma.Schema) {
	if m := schemas["ErrorModel"]; m != nil {
		m.Description = "An RFC 9457 problem document: every error this API answers has this shape, as application/problem+json."
		m.Properties["type"].Examples = []any{problemType}
		m.Properties["type"].Description = "Always about:blank: the status says what kind of problem it is (RFC 9457 §4.2.1)."
		m.Properties["instance"].Description = "A URI reference that identifies this occurrence of the problem; this service does not send it."
		m.Properties["errors"].Description = "What failed, one entry per parameter or member: present on 422s (and 400s about the body)."
		m.Properties["errors"].Examples = []any{[]any{map[string]any{"location": "body.name", "message": msgFieldRequired}}}
	}
	if d := schemas["ErrorDetail"]; d != nil {
		d.Description = "One failing parameter or body member."
		d.Properties["location"].Examples = []any{"body.name"}
		d.Properties["message"].Examples = []any{msgFieldRequired}
		d.Properties["value"].Description = "The value that failed; this service never sends it (values are not echoed back)."
		d.Properties["value"].Examples = []any{"x"}
	}
}

// jsonValue is v as plain JSON values (maps, slices, strings, numbers),
// as an example is written in the document.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
