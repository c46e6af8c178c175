package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	icymorning "github.com/icy-morning/icy-morning"
)

// The public side of subscriptions, with no credentials: sign-up with
// double opt-in (POST /api/v1/subscribe, and the page at /subscribe), the
// confirmation link, and the unsubscribe link of every mail (RFC 8058
// one-click and RFC 2369). A link's token is the subscriber's proof; the
// Notifier signs and reads tokens, and mails the confirmation.
//
// A GET never changes anything, since mail scanners and link previews
// follow links: it shows a page whose button POSTs to the same URL.

// errNotConfigured answers every public route of a server with no
// Notifier (a deployment without mail).
var errNotConfigured = newProblem(http.StatusServiceUnavailable, "notifications are not configured")

// signUpAccepted is the one answer of a sign-up, whether the address was
// new, pending, active or suppressed: a sign-up must not tell anyone
// whether an address is subscribed.
type signUpAccepted struct {
	Status string `json:"status" enum:"accepted" doc:"Always accepted: the answer never tells whether the address was already subscribed." example:"accepted"`
	Detail string `json:"detail" doc:"What happens next, for a person to read." example:"If the address can be subscribed, a confirmation link is on its way; it is valid for 7 days."`
}

const signUpDetail = "If the address can be subscribed, a confirmation link is on its way; it is valid for 7 days."

type signUpOutput struct {
	Body signUpAccepted
}

func (s *Server) handleSignUp(ctx context.Context, in *subscriptionWriteInput) (*signUpOutput, error) {
	sub := &icymorning.Subscription{Email: in.Body.Email, Topic: icymorning.Topic(in.Body.Topic), AnalystID: in.Body.AnalystID}
	if err := s.signUp(ctx, sub); err != nil {
		return nil, err
	}
	return &signUpOutput{Body: signUpAccepted{Status: "accepted", Detail: signUpDetail}}, nil
}

// signUp records a public sign-up and, when the store says one is due,
// mails its confirmation link. A mail that could not be sent is forgotten,
// so that the next sign-up sends one at once instead of an hour later.
func (s *Server) signUp(ctx context.Context, sub *icymorning.Subscription) error {
	if s.notifier == nil {
		return errNotConfigured
	}
	now := time.Now()
	if wait := s.signUps.address(info(ctx).remote, now); wait > 0 {
		return tooManyRequests(wait, "too many sign-ups from this address; try again later")
	}
	sub.Normalize()
	if err := sub.Validate(); err != nil {
		return s.problemFromDomain(ctx, err)
	}
	if wait := s.signUps.email(sub.Email, now); wait > 0 {
		return tooManyRequests(wait, "too many sign-ups for this e-mail address; try again later")
	}
	send, err := s.store.SignUp(ctx, sub, icymorning.SignUpResendAfter)
	if err != nil {
		return s.problemFromDomain(ctx, err)
	}
	if !send {
		return nil
	}
	if err := s.notifier.SendConfirmation(ctx, sub); err != nil {
		// The request may have run out of time; the record must still be
		// cleared.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if ferr := s.store.ForgetConfirmation(fctx, sub.ID); ferr != nil {
			s.logger.LogAttrs(ctx, slog.LevelError, "a confirmation that was not sent stays recorded as sent",
				slog.String("request_id", RequestID(ctx)), slog.Int64("subscription_id", sub.ID), slog.Any("error", ferr))
		}
		return s.problemFromDomain(ctx, err)
	}
	return nil
}

// signUpFormView is the sign-up form: what was entered, and what is wrong
// with it, by field.
type signUpFormView struct {
	Email, AnalystID string
	Topics           []topicOption
	Errors           map[string]string
	MaxEmail         int
}

type topicOption struct {
	Value, Label string
	Selected     bool
}

// topicLabels say what each topic's mails are about.
var topicLabels = map[icymorning.Topic]string{
	icymorning.TopicAssetCreation: "New assets",
	icymorning.TopicAssetUpdate:   "Changes to assets",
	icymorning.TopicAssetDeletion: "Deleted assets",
}

func topicLabel(t icymorning.Topic) string {
	if l := topicLabels[t]; l != "" {
		return l
	}
	return string(t)
}

func newSignUpForm(email string, topic icymorning.Topic, analystID string) *signUpFormView {
	f := &signUpFormView{Email: email, AnalystID: analystID, Errors: map[string]string{}, MaxEmail: icymorning.MaxEmailLength}
	if topic == "" {
		topic = icymorning.TopicAssetCreation
	}
	for _, t := range icymorning.Topics {
		f.Topics = append(f.Topics, topicOption{Value: string(t), Label: topicLabel(t) + " (" + string(t) + ")", Selected: t == topic})
	}
	return f
}

func signUpPage(form *signUpFormView) pageView {
	return pageView{Title: "Subscribe to Icy Morning", Form: form,
		Text: []string{"Get an e-mail when an asset is created, changed or deleted."}}
}

func (s *Server) handleSignUpPage(ctx context.Context, _ *struct{}) (*pageOutput, error) {
	if s.notifier == nil {
		return s.errorPage(ctx, errNotConfigured, pageView{})
	}
	return s.renderPage(ctx, http.StatusOK, signUpPage(newSignUpForm("", "", "")), nil)
}

// formInput is a POST from a page: an HTML form, or, for the unsubscribe
// link, the one-click POST a mail provider sends (RFC 8058), or no body.
type formInput struct {
	RawBody []byte `contentType:"application/x-www-form-urlencoded"`
}

// handleSignUpForm takes the page's form: the sign-up of POST
// /api/v1/subscribe, answered with a page.
func (s *Server) handleSignUpForm(ctx context.Context, in *formInput) (*pageOutput, error) {
	sub, form, err := readSignUpForm(in.RawBody)
	if err == nil {
		err = s.signUp(ctx, sub)
	}
	if err != nil {
		v := signUpPage(form)
		v.Title = "" // the error's
		return s.errorPage(ctx, err, v)
	}
	return s.renderPage(ctx, http.StatusOK, pageView{Title: "Check your inbox", Text: []string{
		"If the address can be subscribed, we have sent it a link to confirm the subscription. The link is valid for 7 days.",
		"Nothing else is sent to the address until the link is used.",
	}}, nil)
}

// readSignUpForm reads the members of the sign-up form: email, topic
// (asset::creation when absent) and analyst_id (empty: every analyst).
// Unknown fields are ignored, as unknown JSON members are. The form it
// returns holds what was entered, to show again with any error.
func readSignUpForm(raw []byte) (*icymorning.Subscription, *signUpFormView, error) {
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, newSignUpForm("", "", ""), newProblem(http.StatusBadRequest,
			"the form could not be read: it is not application/x-www-form-urlencoded")
	}
	var first error
	field := func(name string, maxLen int) string {
		vs := values[name]
		var err error
		switch {
		case len(vs) == 0:
			return ""
		case len(vs) > 1:
			err = fieldError("body."+name, "must be given once")
		case !utf8.ValidString(vs[0]) || strings.IndexByte(vs[0], 0) >= 0:
			err = fieldError("body."+name, "must be UTF-8 text without NUL characters")
		case len(vs[0]) > maxLen:
			err = fieldError("body."+name, "must be at most %d characters", maxLen)
		}
		if err != nil {
			first = cmp.Or(first, err)
			return ""
		}
		return strings.TrimSpace(vs[0])
	}
	email := field("email", icymorning.MaxEmailLength)
	topic := icymorning.Topic(field("topic", 64))
	analyst := field("analyst_id", 20)
	form := newSignUpForm(email, topic, analyst)
	if first != nil {
		return nil, form, first
	}
	if email == "" {
		return nil, form, fieldError("body.email", msgFieldRequired)
	}
	sub := &icymorning.Subscription{Email: email, Topic: topic}
	if analyst != "" {
		id, err := strconv.ParseInt(analyst, 10, 64)
		if err != nil || id < 1 {
			return nil, form, fieldError("body.analyst_id", "must be a whole number of 1 or more, or empty for every analyst")
		}
		sub.AnalystID = &id
	}
	return sub, form, nil
}

// tokenInput is a link's token, in its path.
type tokenInput struct {
	Token string `path:"token" doc:"The signed token of the link, as mailed." example:"eyJzIjozfQ.c2lnbmF0dXJl"`
}

// tokenFormInput is a POST to a link: its token, and a form body (or none).
type tokenFormInput struct {
	Token   string `path:"token" doc:"The signed token of the link, as mailed." example:"eyJzIjozfQ.c2lnbmF0dXJl"`
	RawBody []byte `contentType:"application/x-www-form-urlencoded"`
}

// subscriptionByID returns subscription id, or nil when there is none.
// The store lists subscriptions by id (keyset pages), so a page of one
// after id-1 is that subscription, if it exists.
func (s *Server) subscriptionByID(ctx context.Context, id int64) (*icymorning.Subscription, error) {
	subs, err := s.store.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{After: id - 1, Limit: 1}})
	if err != nil || len(subs) == 0 || subs[0].ID != id {
		return nil, err
	}
	return &subs[0], nil
}

// describe says what a subscription mails about.
func describe(sub *icymorning.Subscription) string {
	what := strings.ToLower(topicLabel(sub.Topic))
	if sub.AnalystID != nil {
		what += " of analyst " + strconv.FormatInt(*sub.AnalystID, 10)
	}
	return what
}

// badLink is the page for a token that does not check out.
var badLink = pageView{Title: "This link is not valid", Text: []string{
	"It may have been cut short or mistyped, or, for a confirmation link, its 7 days have passed. " +
		"Copy the whole link from the mail, or sign up again.",
}}

// readToken checks a link's token with read (a Notifier method), and
// answers the page for a server without a Notifier or a bad token.
func (s *Server) readToken(ctx context.Context, token string, read func(icymorning.Notifier, string) (int64, error)) (int64, *pageOutput, error) {
	if s.notifier == nil {
		out, err := s.errorPage(ctx, errNotConfigured, pageView{})
		return 0, out, err
	}
	id, err := read(s.notifier, token)
	if err != nil {
		out, err := s.errorPage(ctx, s.problemFromDomainIn(ctx, err, "path"), badLink)
		return 0, out, err
	}
	return id, nil, nil
}

var (
	readConfirmToken     = icymorning.Notifier.ConfirmationSubscription
	readUnsubscribeToken = icymorning.Notifier.UnsubscribeSubscription
)

// handleConfirmPage shows the button that confirms a sign-up; the GET
// itself confirms nothing.
func (s *Server) handleConfirmPage(ctx context.Context, in *tokenInput) (*pageOutput, error) {
	id, out, err := s.readToken(ctx, in.Token, readConfirmToken)
	if out != nil || err != nil {
		return out, err
	}
	sub, err := s.subscriptionByID(ctx, id)
	if err != nil {
		return s.errorPage(ctx, err, pageView{})
	}
	v := pageView{Title: "Confirm your subscription", Button: "Confirm my subscription",
		Text: []string{"Press the button to start receiving these e-mails."}}
	if sub != nil {
		switch sub.Status {
		case icymorning.SubscriptionActive:
			return s.renderPage(ctx, http.StatusOK, confirmedPage(sub), nil)
		case icymorning.SubscriptionUnsubscribed, icymorning.SubscriptionSuppressed:
			return s.errorPage(ctx, s.problemFromDomain(ctx, endedError(sub)), signUpAgain)
		}
		v.Text = []string{"Press the button to start receiving e-mail about " + describe(sub) + " at " + sub.Email + "."}
	}
	return s.renderPage(ctx, http.StatusOK, v, nil)
}

// endedError is what confirming an ended subscription is (the store's
// answer, for a page that does not ask the store to confirm).
func endedError(sub *icymorning.Subscription) error {
	return icymorning.Errorf(icymorning.ECONFLICT, "this subscription is %s: sign up again to receive mail", sub.Status)
}

var signUpAgain = pageView{Title: "This subscription has ended", Text: []string{
	"It was unsubscribed, or its sign-up expired, so this link cannot start it. Sign up again to receive mail.",
}}

func confirmedPage(sub *icymorning.Subscription) pageView {
	return pageView{Title: "You are subscribed", Text: []string{
		sub.Email + " will receive e-mail about " + describe(sub) + ".",
		"Every mail has a link to unsubscribe.",
	}}
}

// handleConfirm confirms a sign-up: its subscription becomes active. An
// active one stays so (the button pressed twice); one unsubscribed or
// suppressed since is 409: an old link must not undo that.
func (s *Server) handleConfirm(ctx context.Context, in *tokenFormInput) (*pageOutput, error) {
	id, out, err := s.readToken(ctx, in.Token, readConfirmToken)
	if out != nil || err != nil {
		return out, err
	}
	sub, err := s.store.ConfirmSubscription(ctx, id)
	switch icymorning.ErrorCode(err) {
	case "":
		return s.renderPage(ctx, http.StatusOK, confirmedPage(sub), nil)
	case icymorning.ECONFLICT:
		return s.errorPage(ctx, s.problemFromDomain(ctx, err), signUpAgain)
	}
	return s.errorPage(ctx, s.problemFromDomain(ctx, err), pageView{})
}

// handleUnsubscribePage shows the button that unsubscribes; the GET
// itself changes nothing.
func (s *Server) handleUnsubscribePage(ctx context.Context, in *tokenInput) (*pageOutput, error) {
	id, out, err := s.readToken(ctx, in.Token, readUnsubscribeToken)
	if out != nil || err != nil {
		return out, err
	}
	sub, err := s.subscriptionByID(ctx, id)
	switch {
	case err != nil:
		return s.errorPage(ctx, err, pageView{})
	case sub == nil:
		return s.errorPage(ctx, s.problemFromDomain(ctx, icymorning.Errorf(icymorning.ENOTFOUND, "there is no such subscription")), pageView{})
	case sub.Status == icymorning.SubscriptionUnsubscribed || sub.Status == icymorning.SubscriptionSuppressed:
		return s.renderPage(ctx, http.StatusOK, unsubscribedPage(sub), nil)
	}
	return s.renderPage(ctx, http.StatusOK, pageView{Title: "Unsubscribe", Button: "Unsubscribe",
		Text: []string{"Press the button to stop e-mail about " + describe(sub) + " to " + sub.Email + "."}}, nil)
}

func unsubscribedPage(sub *icymorning.Subscription) pageView {
	return pageView{Title: "You are unsubscribed", Text: []string{
		sub.Email + " will receive no more e-mail about " + describe(sub) + ".",
	}}
}

// handleUnsubscribe unsubscribes at once: the one-click POST of RFC 8058
// (body List-Unsubscribe=One-Click), a bare POST, or the page's button.
// Unsubscribing twice succeeds twice (a mail provider may repeat its
// POST); a suppressed subscription stays suppressed, and gets no mail
// either.
func (s *Server) handleUnsubscribe(ctx context.Context, in *tokenFormInput) (*pageOutput, error) {
	id, out, err := s.readToken(ctx, in.Token, readUnsubscribeToken)
	if out != nil || err != nil {
		return out, err
	}
	sub, err := s.store.DeleteSubscription(ctx, id)
	if icymorning.ErrorCode(err) == icymorning.ENOTFOUND {
		// An unsubscribed subscription is ENOTFOUND too; tell it from
		// one that does not exist.
		var ferr error
		if sub, ferr = s.subscriptionByID(ctx, id); ferr != nil {
			err = ferr
		} else if sub != nil {
			err = nil
		}
	}
	if err != nil {
		return s.errorPage(ctx, s.problemFromDomain(ctx, err), pageView{})
	}
	return s.renderPage(ctx, http.StatusOK, unsubscribedPage(sub), nil)
}
