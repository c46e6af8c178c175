package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// Messages go through the real SDK to aws-ses-v2-local, which keeps what
// arrived: addresses, subject, both parts and the extra headers.
func TestSESLocal(t *testing.T) {
	local := mailpeer.StartSESLocal(t)
	mailpeer.SESEnv(t, local.URL)
	s := openSender(t, "ses://?region=eu-west-1&configuration_set=icy-notify", Options{MaxPerSecond: 14})

	invalid := notification("s-2@icy.example", "ada@example.org")
	invalid.Subject = "Hi\r\nBcc: victim@evil.example"
	msgs := []Message{
		notification("s-1@icy.example", "Ada Lovelace <ada@example.org>"),
		invalid,
		notification("s-3@icy.example", "bob@example.org"),
	}
	results := s.Send(context.Background(), msgs)
	wantErr(t, results[1], true, "", "Subject")

	stored := map[string]mailpeer.SESStored{}
	for _, e := range local.Stored(t) {
		stored[e.MessageID] = e
	}
	if len(stored) != 2 {
		t.Errorf("aws-ses-v2-local holds %d messages, want 2", len(stored))
	}
	for i, to := range map[int]string{0: `"Ada Lovelace" <ada@example.org>`, 2: "bob@example.org"} {
		r := results[i]
		if r.Err != nil {
			t.Fatalf("message %d: %v", i, r.Err)
		}
		got, ok := stored[r.ProviderID]
		if !ok {
			t.Fatalf("message %d: SES's MessageId %q is not in the store", i, r.ProviderID)
		}
		header := map[string]string{}
		for _, h := range got.Headers {
			header[h.Name] = h.Value
		}
		checks := []struct{ what, got, want string }{
			{"From", got.From, `"Icy Morning" <news@icy.example>`},
			{"To", strings.Join(got.Destination.To, ", "), to},
			{"Subject", got.Subject, subject},
			{"text part", got.Body.Text, text},
			{"HTML part", got.Body.HTML, html},
			{"List-Unsubscribe", header["List-Unsubscribe"], unsubscribe},
			{"List-Unsubscribe-Post", header["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("message %d: %s = %q, want %q", i, c.what, c.got, c.want)
			}
		}
	}
}

// sesRefusals are SES's answers to SendEmail that aws-ses-v2-local never
// gives, by the recipient's local part: the error code (sent as SES's REST
// API sends it, in X-Amzn-ErrorType) and the HTTP status.
var sesRefusals = map[string]struct {
	code   string
	status int
}{
	"rejected":    {"MessageRejected", 400},
	"unverified":  {"MailFromDomainNotVerifiedException", 400},
	"suspended":   {"AccountSuspendedException", 400},
	"bad":         {"BadRequestException", 400},
	"paused":      {"SendingPausedException", 400},
	"throttled":   {"TooManyRequestsException", 429},
	"quota":       {"LimitExceededException", 400},
	"throttling":  {"Throttling", 400},
	"noconfigset": {"NotFoundException", 404},
	"internal":    {"InternalServiceErrorException", 500},
	"unavailable": {"", 503},
}

// sesRefusing is a stand-in for SES's endpoint that answers SendEmail as
// sesRefusals say, and accepts other recipients. It fails the test on a
// request the SDK did not sign with the test's key or that lacks the
// configuration set.
func sesRefusing(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
			t.Errorf("%s %s, want POST /v2/email/outbound-emails", r.Method, r.URL.Path)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			t.Errorf("request not SigV4-signed with AKIDTEST: %q", r.Header.Get("Authorization"))
		}
		var in struct {
			ConfigurationSetName string
			Destination          struct{ ToAddresses []string }
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Destination.ToAddresses) != 1 {
			t.Errorf("request body: %v, %+v", err, in)
			return
		}
		if in.ConfigurationSetName != "icy-notify" {
			t.Errorf("ConfigurationSetName = %q", in.ConfigurationSetName)
		}
		w.Header().Set("Content-Type", "application/json")
		local, _, _ := strings.Cut(in.Destination.ToAddresses[0], "@")
		refusal, ok := sesRefusals[local]
		if !ok {
			fmt.Fprint(w, `{"MessageId":"ses-accepted-1"}`)
			return
		}
		if refusal.code != "" {
			w.Header().Set("X-Amzn-ErrorType", refusal.code)
		}
		w.WriteHeader(refusal.status)
		fmt.Fprintf(w, `{"message":"%s, from the test"}`, refusal.code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// How the SDK's errors are classified: refusals of the message or its
// sender are permanent, the rest transient.
func TestSESErrors(t *testing.T) {
	mailpeer.SESEnv(t, sesRefusing(t))
	s := openSender(t, "ses://?region=eu-west-1&configuration_set=icy-notify", Options{})
	tests := []struct {
		local     string
		permanent bool
	}{
		{"rejected", true},
		{"unverified", true},
		{"suspended", true},
		{"bad", true},
		{"paused", false},
		{"throttled", false},
		{"quota", false},
		{"throttling", false},
		{"noconfigset", false},
		{"internal", false},
		{"unavailable", false},
	}
	var msgs []Message
	for i, tt := range tests {
		msgs = append(msgs, notification(fmt.Sprintf("e-%d@icy.example", i), tt.local+"@example.org"))
	}
	msgs = append(msgs, notification("e-ok@icy.example", "ada@example.org"))
	results := s.Send(context.Background(), msgs)
	for i, tt := range tests {
		t.Run(tt.local, func(t *testing.T) {
			code := sesRefusals[tt.local].code
			if code == "" {
				code = "UnknownError" // the SDK's name for an answer without one
			}
			wantErr(t, results[i], tt.permanent, code)
		})
	}
	if r := results[len(tests)]; r.Err != nil || r.ProviderID != "ses-accepted-1" {
		t.Errorf("the accepted message: %+v", r)
	}
}

// An endpoint nobody listens on: transient.
func TestSESUnreachable(t *testing.T) {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	mailpeer.SESEnv(t, "http://"+addr)
	s := openSender(t, "ses://?region=eu-west-1", Options{})
	r := s.Send(context.Background(), []Message{notification("u-1@icy.example", "ada@example.org")})[0]
	wantErr(t, r, false, "", "connection refused")
}
