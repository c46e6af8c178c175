package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/testclock"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
)

// The public sign-up, confirmation and unsubscribe routes, end to end
// through the real notify.Service: mail goes through the log:// transport
// into a mailbox the test reads the links from (or to an SMTP port where
// nothing listens), and the token clock is the test's.

// mailbox is the log of a log:// mail transport: each mail is one JSON
// record.
type mailbox struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (m *mailbox) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.Write(p)
}

// loggedMail is what the log transport records of a mail.
type loggedMail struct {
	To, Subject, Text, HTML string
}

func (m *mailbox) mails(t *testing.T) []loggedMail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []loggedMail
	for l := range strings.Lines(m.buf.String()) {
		var rec struct {
			To, Subject, Text, HTML string
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("mail log line %q: %v", l, err)
		}
		if rec.To != "" {
			out = append(out, loggedMail(rec))
		}
	}
	return out
}

var confirmLink = regexp.MustCompile(`https://icy\.example/subscribe/confirm/([A-Za-z0-9_-]+)`)

// confirmToken is the token of the confirmation link in the last mail,
// which must be the n-th.
func (m *mailbox) confirmToken(t *testing.T, n int, to string) string {
	t.Helper()
	mails := m.mails(t)
	if len(mails) != n {
		t.Fatalf("%d mails, want %d: %+v", len(mails), n, mails)
	}
	last := mails[n-1]
	match := confirmLink.FindStringSubmatch(last.Text)
	if strings.Trim(last.To, "<>") != to || match == nil || !strings.Contains(last.HTML, match[0]) {
		t.Fatalf("mail %d: to %q (want %q), no confirmation link in both parts:\n%s", n, last.To, to, last.Text)
	}
	return match[1]
}

var testSecret = bytes.Repeat([]byte("k"), 32)

// newMailer builds the real Notifier over the transport mailURL, with the
// given clock (nil: time.Now). Its composer signs tokens as it does.
func newMailer(tb testing.TB, mailURL string, now func() time.Time) (*notify.Service, *mailbox, *notify.Composer) {
	tb.Helper()
	composer, err := notify.NewComposer("Icy Morning <icy@example.com>", "https://icy.example/", testSecret)
	if err != nil {
		tb.Fatal(err)
	}
	box := &mailbox{}
	sender, err := mail.Open(context.Background(), mailURL, mail.Options{Logger: slog.New(slog.NewJSONHandler(box, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sender.Close() })
	return notify.NewService(composer, sender, now), box, composer
}

// signUpKit is what a sign-up test reads and moves besides the API.
type signUpKit struct {
	mail     *mailbox
	composer *notify.Composer
	clock    *testclock.Clock
}

// forEachSignUpStore runs fn once per database, each with a fresh server
// with settings c and a Notifier over log:// on the test's clock.
func forEachSignUpStore(t *testing.T, c httpapi.Config, fn func(t *testing.T, e *env, k *signUpKit)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			k := &signUpKit{clock: testclock.At(time.Now())}
			c := c
			c.Notifier, k.mail, k.composer = newMailer(t, "log://", k.clock.Now)
			fn(t, newEnvWith(t, st.url(t), c), k)
		})
	}
}

const formType = "application/x-www-form-urlencoded"

// Requests as a browser, a mail provider or any client sends them: no
// credentials.
func signUp(body string) req {
	return req{method: "POST", path: "/api/v1/subscribe", body: body, auth: "none"}
}

func signUpForm(body string) req {
	return req{method: "POST", path: "/subscribe", body: body, auth: "none", header: map[string]string{"Content-Type": formType}}
}

func get(path string) req { return req{method: "GET", path: path, auth: "none"} }

func post(path string) req { return req{method: "POST", path: path, auth: "none"} }

func postForm(path, body string) req {
	return req{method: "POST", path: path, body: body, auth: "none", header: map[string]string{"Content-Type": formType}}
}

const accepted = `{"status":"accepted","detail":"If the address can be subscribed, a confirmation link is on its way; it is valid for 7 days."}`

// checkPage checks what every page must be: a whole HTML document that
// runs no script and loads nothing, under a CSP that allows only its own
// style, kept by no cache, with any error announced.
func checkPage(t *testing.T, hr *http.Request, res *http.Response, b []byte) {
	t.Helper()
	where := hr.Method + " " + hr.URL.Path
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %s", where, csp, want)
		}
	}
	for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s %q, want %q", where, k, got, v)
		}
	}
	page := string(b)
	if hr.Method == http.MethodHead {
		return
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "<h1>") {
		t.Errorf("%s: not a whole HTML page: %.200s", where, page)
	}
	for _, never := range []string{"<script", "src=", "href=", "style=", "{{"} {
		if strings.Contains(page, never) {
			t.Errorf("%s: the page holds %q", where, never)
		}
	}
	if alert := strings.Contains(page, `role="alert"`); alert != (res.StatusCode >= 400) {
		t.Errorf("%s: status %d, but the page announces an error: %v", where, res.StatusCode, alert)
	}
}

// subscription reads subscription id from the store.
func subscription(t *testing.T, e *env, email string) icymorning.Subscription {
	t.Helper()
	subs, err := e.store.Subscriptions(t.Context(), icymorning.SubscriptionFilter{Email: &email, Page: pageAll})
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions of %s: %v %+v", email, err, subs)
	}
	return subs[0]
}

func wantStatus(t *testing.T, e *env, email string, want icymorning.SubscriptionStatus) icymorning.Subscription {
	t.Helper()
	sub := subscription(t, e, email)
	if sub.Status != want {
		t.Fatalf("%s is %s, want %s", email, sub.Status, want)
	}
	return sub
}

// TestSignUpDoubleOptIn walks a subscriber through sign-up, confirmation
// and unsubscribing, with every repeat a person or a mail provider may
// make, and checks that the sign-up's answer never tells what the store
// holds.
func TestSignUpDoubleOptIn(t *testing.T) {
	c := httpapi.Config{SignUpThrottle: httpapi.SignUpThrottle{EmailBurst: 100}}
	forEachSignUpStore(t, c, func(t *testing.T, e *env, k *signUpKit) {
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "sign up", req: signUp(`{"email":"ada@Example.COM","topic":"asset::update","analyst_id":1}`), wantStatus: 202, wantBody: accepted},
		})
		token := k.mail.confirmToken(t, 1, "ada@example.com")
		if m := k.mail.mails(t)[0]; m.Subject != "Confirm your Icy Morning subscription" {
			t.Fatalf("subject %q", m.Subject)
		}
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)
		confirm := "/subscribe/confirm/" + token
		e.run(t, []step{
			{name: "again within the hour: the same answer, no second mail", req: signUp(`{"email":"ada@example.com","topic":"asset::update","analyst_id":1}`), wantStatus: 202, wantBody: accepted},
			{name: "the link's page", req: get(confirm), wantStatus: 200,
				wantIn: []string{"Confirm your subscription", `<form method="post">`, "Confirm my subscription", "changes to assets of analyst 1 at ada@example.com"}},
			{name: "HEAD of the page", req: req{method: "HEAD", path: confirm, auth: "none"}, wantStatus: 200},
		})
		k.mail.confirmToken(t, 1, "ada@example.com")
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending) // GET confirms nothing

		e.run(t, []step{
			{name: "confirm", req: post(confirm), wantStatus: 200, wantIn: []string{"You are subscribed", "ada@example.com will receive e-mail about changes to assets of analyst 1."}},
			{name: "confirm again", req: postForm(confirm, ""), wantStatus: 200, wantIn: []string{"You are subscribed"}},
			{name: "the page of a confirmed link", req: get(confirm), wantStatus: 200, wantIn: []string{"You are subscribed"}},
			{name: "signing up an active subscription: the same answer", req: signUp(`{"email":"ada@example.com","topic":"asset::update","analyst_id":1}`), wantStatus: 202, wantBody: accepted},
		})
		sub := wantStatus(t, e, "ada@example.com", icymorning.SubscriptionActive)
		if sub.ConfirmedAt == nil {
			t.Fatal("confirmed, but no ConfirmedAt")
		}
		if n := len(k.mail.mails(t)); n != 1 {
			t.Fatalf("%d mails, want 1", n)
		}

		unsubscribe := "/unsubscribe/" + k.composer.UnsubscribeToken(sub.ID)
		e.run(t, []step{
			{name: "the unsubscribe link's page", req: get(unsubscribe), wantStatus: 200,
				wantIn: []string{`<form method="post">`, "Unsubscribe</button>", "stop e-mail about changes to assets of analyst 1 to ada@example.com"}},
		})
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionActive) // GET unsubscribes nothing
		e.run(t, []step{
			{name: "bare POST: unsubscribed at once", req: post(unsubscribe), wantStatus: 200, wantIn: []string{"You are unsubscribed"}},
			{name: "the mail provider's one-click POST, again", req: postForm(unsubscribe, "List-Unsubscribe=One-Click"), wantStatus: 200, wantIn: []string{"You are unsubscribed"}},
			{name: "the page of an unsubscribed link", req: get(unsubscribe), wantStatus: 200, wantIn: []string{"You are unsubscribed"}},
			{name: "an old confirmation link does not undo it", req: post(confirm), wantStatus: 409, wantIn: []string{"Sign up again"}},
			{name: "nor does its page offer to", req: get(confirm), wantStatus: 409, wantIn: []string{"Sign up again"}},
		})
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionUnsubscribed)
		if page := e.do(get(unsubscribe)); strings.Contains(string(page.body), "<button") {
			t.Fatal("the page of an unsubscribed link offers a button")
		}

		// Signing up again starts over, with a new link.
		e.run(t, []step{{name: "sign up again", req: signUp(`{"email":"ada@example.com","topic":"asset::update","analyst_id":1}`), wantStatus: 202, wantBody: accepted}})
		token2 := k.mail.confirmToken(t, 2, "ada@example.com")
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)
		e.run(t, []step{{name: "confirm the new link", req: post("/subscribe/confirm/" + token2), wantStatus: 200}})
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionActive)

		// One-click from a mail provider, on another subscription.
		e.run(t, []step{{name: "bob signs up", req: signUp(`{"email":"bob@example.com"}`), wantStatus: 202, wantBody: accepted}})
		e.run(t, []step{{name: "bob confirms", req: post("/subscribe/confirm/" + k.mail.confirmToken(t, 3, "bob@example.com")), wantStatus: 200,
			wantIn: []string{"new assets"}}})
		bob := wantStatus(t, e, "bob@example.com", icymorning.SubscriptionActive)
		bobOut := "/unsubscribe/" + k.composer.UnsubscribeToken(bob.ID)
		e.run(t, []step{{name: "one-click", req: postForm(bobOut, "List-Unsubscribe=One-Click"), wantStatus: 200}})
		wantStatus(t, e, "bob@example.com", icymorning.SubscriptionUnsubscribed)

		// A suppressed address: the same answer, no mail, and it stays
		// suppressed whatever its links say.
		e.run(t, []step{{name: "carol signs up", req: signUp(`{"email":"carol@example.com"}`), wantStatus: 202, wantBody: accepted}})
		carolConfirm := "/subscribe/confirm/" + k.mail.confirmToken(t, 4, "carol@example.com")
		if _, err := e.store.SuppressEmail(t.Context(), "carol@example.com"); err != nil {
			t.Fatal(err)
		}
		carol := wantStatus(t, e, "carol@example.com", icymorning.SubscriptionSuppressed)
		e.run(t, []step{
			{name: "a suppressed address signs up", req: signUp(`{"email":"carol@example.com"}`), wantStatus: 202, wantBody: accepted},
			{name: "its confirmation link", req: post(carolConfirm), wantStatus: 409},
			{name: "its unsubscribe link", req: post("/unsubscribe/" + k.composer.UnsubscribeToken(carol.ID)), wantStatus: 200, wantIn: []string{"You are unsubscribed"}},
		})
		wantStatus(t, e, "carol@example.com", icymorning.SubscriptionSuppressed)
		if n := len(k.mail.mails(t)); n != 4 {
			t.Fatalf("%d mails, want 4", n)
		}
	})
}

// TestSignUpLinksRefuseBadTokens: a link that is expired, forged, cut
// short, made for the other purpose or hostile gets a 4xx page (or, for
// bytes that are not text, a problem), never a 500, and changes nothing.
func TestSignUpLinksRefuseBadTokens(t *testing.T) {
	forEachSignUpStore(t, httpapi.Config{}, func(t *testing.T, e *env, k *signUpKit) {
		e.run(t, []step{{name: "sign up", req: signUp(`{"email":"ada@example.com"}`), wantStatus: 202}})
		token := k.mail.confirmToken(t, 1, "ada@example.com")
		sub := wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)
		otherKey, err := notify.NewComposer("x@example.com", "https://icy.example/", bytes.Repeat([]byte("z"), 32))
		if err != nil {
			t.Fatal(err)
		}
		flip := func(s string) string {
			b := []byte(s)
			b[len(b)/2] ^= 1
			return string(b)
		}
		// A token for the other purpose.
		e.run(t, []step{
			{name: "an unsubscribe token confirms nothing", req: post("/subscribe/confirm/" + k.composer.UnsubscribeToken(sub.ID)), wantStatus: 422},
			{name: "a confirmation token unsubscribes nothing", req: post("/unsubscribe/" + token), wantStatus: 422,
				wantIn: []string{"This link is not valid", "The link is not valid or has expired."}},
		})
		bad := map[string]int{
			flip(token):          422, // forged
			token[:len(token)-3]: 422, // cut short
			otherKey.ConfirmToken(sub.ID, time.Now().Add(time.Hour)): 422, // another secret
			flip(k.composer.UnsubscribeToken(sub.ID)):                422,
			strings.Repeat("A", 100_000):                             422, // very long
			"!!!not-base64!!!":                                       422,
			"%C3%A9t%C3%A9":                                          422, // UTF-8, not base64
			"%ff%fe":                                                 422, // not UTF-8 (admit: a problem)
			"%00":                                                    422, // NUL (admit: a problem)
			"a%00b":                                                  422,
			"%2F%2E%2E":                                              422,
			"AA":                                                     422,
		}
		for tok, status := range bad {
			for _, r := range []req{get("/subscribe/confirm/" + tok), post("/subscribe/confirm/" + tok),
				get("/unsubscribe/" + tok), post("/unsubscribe/" + tok), postForm("/unsubscribe/"+tok, "List-Unsubscribe=One-Click")} {
				if res := e.do(r); res.StatusCode != status {
					t.Errorf("%s %.60s: %d, want %d: %.300s", r.method, r.path, res.StatusCode, status, res.body)
				}
			}
		}
		// A valid unsubscribe link of a subscription that does not exist
		// (another database under the same secret).
		e.run(t, []step{
			{name: "no such subscription, page", req: get("/unsubscribe/" + k.composer.UnsubscribeToken(999)), wantStatus: 404},
			{name: "no such subscription, POST", req: post("/unsubscribe/" + k.composer.UnsubscribeToken(999)), wantStatus: 404},
			{name: "no such subscription to confirm", req: post("/subscribe/confirm/" + k.composer.ConfirmToken(999, time.Now().Add(time.Hour))), wantStatus: 404},
		})

		// Expired: the link is valid for 7 days.
		k.clock.Advance(icymorning.SignUpExpiry + time.Second)
		e.run(t, []step{
			{name: "expired, page", req: get("/subscribe/confirm/" + token), wantStatus: 422, wantIn: []string{"7 days"}},
			{name: "expired, POST", req: post("/subscribe/confirm/" + token), wantStatus: 422},
		})
		wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)
	})
}

// TestSignUpValidation: what a sign-up refuses, from the API (problems)
// and from the page's form (the form again, each error beside its field).
func TestSignUpValidation(t *testing.T) {
	forEachSignUpStore(t, httpapi.Config{}, func(t *testing.T, e *env, k *signUpKit) {
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "no body", req: req{method: "POST", path: "/api/v1/subscribe", auth: "none"}, wantStatus: 422, wantIn: []string{"field required"}},
			{name: "no email", req: signUp(`{"topic":"asset::update"}`), wantStatus: 422, wantIn: []string{"body.email", "field required"}},
			{name: "not an address", req: signUp(`{"email":"ada"}`), wantStatus: 422, wantIn: []string{"body.email"}},
			{name: "a display name", req: signUp(`{"email":"Ada <ada@example.com>"}`), wantStatus: 422, wantIn: []string{"body.email"}},
			{name: "unknown topic", req: signUp(`{"email":"ada@example.com","topic":"asset::renaming"}`), wantStatus: 422, wantIn: []string{"body.topic"}},
			{name: "unknown analyst", req: signUp(`{"email":"ada@example.com","analyst_id":9}`), wantStatus: 422, wantIn: []string{"body.analyst_id", "does not exist"}},
			{name: "analyst 0", req: signUp(`{"email":"ada@example.com","analyst_id":0}`), wantStatus: 422, wantIn: []string{"analyst_id"}},
			{name: "a form to the API", req: req{method: "POST", path: "/api/v1/subscribe", body: "email=a%40b.co", auth: "none", header: map[string]string{"Content-Type": formType}}, wantStatus: 415},

			{name: "the page", req: get("/subscribe"), wantStatus: 200, wantIn: []string{
				`<form method="post">`, `<label for="email">`, `type="email"`, `autocomplete="email"`, `<select id="topic" name="topic">`,
				`<option value="asset::creation" selected>`, `<option value="asset::update">`, `<option value="asset::deletion">`,
				`name="analyst_id"`, `<button type="submit">Subscribe</button>`}},
			{name: "form: not an address, shown again", req: signUpForm("email=ada%3Cb%3E&topic=asset%3A%3Adeletion&analyst_id=1"), wantStatus: 422, wantIn: []string{
				`value="ada&lt;b&gt;"`, `aria-invalid="true" aria-describedby="email-error"`, `<span id="email-error" class="error">value is not a valid email address</span>`,
				`<option value="asset::deletion" selected>`, `value="1"`, "E-mail address: value is not a valid email address"}},
			{name: "form: no email", req: signUpForm("topic=asset%3A%3Aupdate"), wantStatus: 422, wantIn: []string{"field required", `<option value="asset::update" selected>`}},
			{name: "form: empty body", req: postForm("/subscribe", ""), wantStatus: 422, wantIn: []string{"field required"}},
			{name: "form: unknown topic", req: signUpForm("email=ada%40example.com&topic=x"), wantStatus: 422, wantIn: []string{"Topic: unknown topic"}},
			{name: "form: unknown analyst", req: signUpForm("email=ada%40example.com&analyst_id=9"), wantStatus: 422, wantIn: []string{"Analyst id: analyst 9 does not exist"}},
			{name: "form: analyst not a number", req: signUpForm("email=ada%40example.com&analyst_id=one"), wantStatus: 422, wantIn: []string{"whole number"}},
			{name: "form: analyst 0", req: signUpForm("email=ada%40example.com&analyst_id=0"), wantStatus: 422, wantIn: []string{"whole number"}},
			{name: "form: email twice", req: signUpForm("email=ada%40example.com&email=bob%40example.com"), wantStatus: 422, wantIn: []string{"given once"}},
			{name: "form: NUL", req: signUpForm("email=ada%00%40example.com"), wantStatus: 422, wantIn: []string{"NUL"}},
			{name: "form: not UTF-8", req: signUpForm("email=%ff%40example.com"), wantStatus: 422, wantIn: []string{"UTF-8"}},
			{name: "form: too long", req: signUpForm("email=" + strings.Repeat("a", 300) + "%40example.com"), wantStatus: 422, wantIn: []string{"at most 254"}},
			{name: "form: malformed", req: signUpForm("email=%zz"), wantStatus: 400, wantIn: []string{"could not be read"}},
			{name: "form: JSON is not the form", req: req{method: "POST", path: "/subscribe", body: `{"email":"ada@example.com"}`, auth: "none"}, wantStatus: 415},
		})
		if n := len(k.mail.mails(t)); n != 0 {
			t.Fatalf("%d mails after refused sign-ups", n)
		}
		e.run(t, []step{
			{name: "form: accepted, unknown fields ignored", req: signUpForm("email=+ada%40Example.com+&topic=asset%3A%3Adeletion&analyst_id=1&utm_source=x"), wantStatus: 200,
				wantIn: []string{"Check your inbox", "valid for 7 days"}},
			{name: "form: empty analyst is every analyst", req: signUpForm("email=bob%40example.com&analyst_id="), wantStatus: 200},
		})
		k.mail.confirmToken(t, 2, "bob@example.com")
		sub := wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)
		if sub.Topic != icymorning.TopicAssetDeletion || sub.AnalystID == nil || *sub.AnalystID != 1 {
			t.Fatalf("the form's subscription: %+v", sub)
		}
		if bob := subscription(t, e, "bob@example.com"); bob.AnalystID != nil || bob.Topic != icymorning.TopicAssetCreation {
			t.Fatalf("bob: %+v", bob)
		}
	})
}

// TestSignUpLimits: sign-ups are limited per client address and per
// e-mail address (in any letter case), with Retry-After, from the API and
// from the form.
func TestSignUpLimits(t *testing.T) {
	perAddress := httpapi.Config{SignUpThrottle: httpapi.SignUpThrottle{AddressBurst: 2, AddressRefill: time.Hour}}
	t.Run("per address", func(t *testing.T) { forEachSignUpStore(t, perAddress, limitPerAddress) })
	perEmail := httpapi.Config{SignUpThrottle: httpapi.SignUpThrottle{EmailBurst: 2, EmailRefill: 10 * time.Minute}}
	t.Run("per e-mail", func(t *testing.T) { forEachSignUpStore(t, perEmail, limitPerEmail) })
}

// limitPerAddress: two sign-ups from one client, then 429 for an hour.
func limitPerAddress(t *testing.T, e *env, k *signUpKit) {
	e.run(t, []step{
		{name: "first", req: signUp(`{"email":"a@example.com"}`), wantStatus: 202},
		{name: "second, from the form", req: signUpForm("email=b%40example.com"), wantStatus: 200},
		{name: "third: over the limit", req: signUp(`{"email":"c@example.com"}`), wantStatus: 429,
			wantIn: []string{"too many sign-ups from this address"}, wantHeader: map[string]string{"Retry-After": "3600"}},
		{name: "the form too", req: signUpForm("email=c%40example.com"), wantStatus: 429,
			wantIn: []string{"Too many requests", "try again in 3600 seconds"}, wantHeader: map[string]string{"Retry-After": "3600"}},
		{name: "a refused request counts too", req: signUp(`{"email":"c@example.com","analyst_id":9}`), wantStatus: 429},
	})
	if n := len(k.mail.mails(t)); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
}

// limitPerEmail: two sign-ups of one inbox, then 429 for ten minutes.
func limitPerEmail(t *testing.T, e *env, k *signUpKit) {
	e.run(t, []step{
		{name: "first", req: signUp(`{"email":"ada@example.com"}`), wantStatus: 202},
		{name: "another topic", req: signUp(`{"email":"ada@example.com","topic":"asset::update"}`), wantStatus: 202},
		{name: "the same inbox in other letters", req: signUp(`{"email":"ADA@EXAMPLE.COM","topic":"asset::deletion"}`), wantStatus: 429,
			wantIn: []string{"too many sign-ups for this e-mail address"}, wantHeader: map[string]string{"Retry-After": "600"}},
		{name: "from the form", req: signUpForm("email=Ada%40example.com"), wantStatus: 429, wantHeader: map[string]string{"Retry-After": "600"}},
		{name: "another address is not slowed", req: signUp(`{"email":"bob@example.com"}`), wantStatus: 202},
	})
	if n := len(k.mail.mails(t)); n != 3 {
		t.Fatalf("%d mails, want 3", n)
	}
}

// TestSignUpMailServerDown: a confirmation that cannot be sent is a 503
// with Retry-After, and is forgotten, so that the next sign-up sends one
// at once rather than an hour later.
func TestSignUpMailServerDown(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			closed, err := netaddr.FreeLoopback() // nothing listens there
			if err != nil {
				t.Fatal(err)
			}
			down, _, _ := newMailer(t, "smtp://"+closed+"?tls=none", nil)
			e := newEnvWith(t, st.url(t), httpapi.Config{Notifier: down})
			unavailable := func(r req) req { r.unavailable = true; return r }
			e.run(t, []step{
				{name: "the mail server is down", req: unavailable(signUp(`{"email":"ada@example.com"}`)), wantStatus: 503,
					wantIn: []string{"could not be sent"}, wantHeader: map[string]string{"Retry-After": "60"}},
				{name: "the next sign-up tries again", req: unavailable(signUp(`{"email":"ada@example.com"}`)), wantStatus: 503,
					wantHeader: map[string]string{"Retry-After": "60"}},
				{name: "the form says so", req: unavailable(signUpForm("email=ada%40example.com")), wantStatus: 503,
					wantIn: []string{"Please try again later", "try again in 60 seconds"}, wantHeader: map[string]string{"Retry-After": "60"}},
			})
			wantStatus(t, e, "ada@example.com", icymorning.SubscriptionPending)

			// The mail server is back (here: another server over the same
			// store, whose mail goes to the log): the sign-up sends at once.
			up, box, _ := newMailer(t, "log://", nil)
			basic, _ := auth.NewBasic(user, pass)
			srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{Store: e.store, Auth: basic, Notifier: up}))
			t.Cleanup(srv.Close)
			res, err := http.Post(srv.URL+"/api/v1/subscribe", "application/json", strings.NewReader(`{"email":"ada@example.com"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 202 || !jsonEqual(t, body, accepted) {
				t.Fatalf("after the outage: %d %s", res.StatusCode, body)
			}
			box.confirmToken(t, 1, "ada@example.com")
		})
	}
}

// TestSignUpWithoutNotifier: a server with no Notifier (no mail) answers
// every public route 503, as a problem or a page, and never panics.
func TestSignUpWithoutNotifier(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	basic, _ := auth.NewBasic(user, pass)
	h := httpapi.NewServer(httpapi.Config{Store: e.store, Auth: basic})
	for _, r := range []req{
		signUp(`{"email":"ada@example.com"}`), get("/subscribe"), signUpForm("email=ada%40example.com"),
		get("/subscribe/confirm/x"), post("/subscribe/confirm/x"), get("/unsubscribe/x"), postForm("/unsubscribe/x", "List-Unsubscribe=One-Click"),
	} {
		hr := httptest.NewRequest(r.method, "http://icy.test"+r.path, strings.NewReader(r.body))
		hr.Header.Set("Content-Type", "application/json")
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, hr)
		res := w.Result()
		if res.StatusCode != 503 || !strings.Contains(strings.ToLower(w.Body.String()), "notifications are not configured") {
			t.Errorf("%s %s: %d %s", r.method, r.path, res.StatusCode, w.Body)
		}
		e.checkDocumented(hr, res, w.Body.Bytes())
	}
}

// TestAccessLogHidesTokens: the access log shows a link's path without its
// token, which would open the subscription to anyone who reads the log.
func TestAccessLogHidesTokens(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWithLog(t, "sqlite://:memory:", &logs)
	token := "c29tZS10b2tlbi10aGF0LWlzLWxvbmc"
	e.do(get("/unsubscribe/" + token))
	e.do(post("/subscribe/confirm/" + token))
	if strings.Contains(logs.String(), token) {
		t.Fatalf("a token is in the log:\n%s", logs.String())
	}
	for _, want := range []string{`"path":"/unsubscribe/{token}"`, `"path":"/subscribe/confirm/{token}"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestSignUpFormTopicsAreTheDomains: the form offers every topic, and its
// documented members name them.
func TestSignUpFormTopicsAreTheDomains(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	page := string(e.do(get("/subscribe")).body)
	schema := e.api.OpenAPI().Paths["/subscribe"].Post.RequestBody.Content[formType].Schema
	for i, tp := range icymorning.Topics {
		if !strings.Contains(page, `<option value="`+string(tp)+`"`) {
			t.Errorf("the form does not offer %s", tp)
		}
		if schema.Properties["topic"].Enum[i] != string(tp) {
			t.Errorf("documented form topics %v", schema.Properties["topic"].Enum)
		}
	}
}
