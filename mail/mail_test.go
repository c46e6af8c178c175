package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	unsubscribe = "<https://icy.example/api/v1/unsubscribe?token=tok-123>, <mailto:unsubscribe@icy.example?subject=tok-123>"
	html        = `<p>Fund <b>Growth</b> changed: “Ünïcode” & more.</p>`
	text        = "Fund Growth changed: “Ünïcode” & more.\r\nSecond line."
	subject     = "Asset “Growth” changed — Ünïcode"
)

// notification is a message as the dispatcher will make them.
func notification(id, to string) Message {
	return Message{
		From:      "Icy Morning <news@icy.example>",
		To:        to,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		MessageID: id,
		Header: map[string]string{
			"List-Unsubscribe":      unsubscribe,
			"list-unsubscribe-post": "List-Unsubscribe=One-Click", // any letter case
		},
	}
}

func TestMessageCheck(t *testing.T) {
	edit := func(f func(m *Message)) Message {
		m := notification("n-1@icy.example", "ada@example.org")
		f(&m)
		return m
	}
	tests := []struct {
		name string
		msg  Message
		want string // "" when valid; else a piece of the error
	}{
		{"notification", edit(func(m *Message) {}), ""},
		{"bare addresses, text only, no headers", Message{From: "a@x.example", To: "b@y.example", Subject: "s", Text: "t", MessageID: "1@x"}, ""},
		{"Message-ID in angle brackets", edit(func(m *Message) { m.MessageID = "<n-1@icy.example>" }), ""},
		{"all extra headers", edit(func(m *Message) {
			m.Header["List-Id"] = "Icy Morning <assets.icy.example>"
			m.Header["Auto-Submitted"] = "auto-generated"
			m.Header["FEEDBACK-ID"] = "asset:growth:icy"
		}), ""},

		{"CRLF in Subject", edit(func(m *Message) { m.Subject = "Hi\r\nBcc: victim@evil.example" }), "Subject holds a control character"},
		{"LF in Subject", edit(func(m *Message) { m.Subject = "Hi\nBcc: victim@evil.example" }), "Subject holds a control character"},
		{"CRLF in a header value", edit(func(m *Message) { m.Header["List-Id"] = "x\r\nBcc: victim@evil.example" }), "header List-Id holds a byte"},
		{"bare CR in a header value", edit(func(m *Message) { m.Header["List-Unsubscribe"] = "<https://x>\rBcc: victim@evil.example" }), "header List-Unsubscribe holds a byte"},
		{"CRLF in a header name", edit(func(m *Message) { m.Header["List-Id\r\nBcc"] = "victim@evil.example" }), "is not one of"},
		{"CRLF in From's name", edit(func(m *Message) { m.From = "Icy\r\nBcc: victim@evil.example <news@icy.example>" }), "From holds a control character"},
		{"CRLF in To", edit(func(m *Message) { m.To = "ada@example.org\r\nBcc: victim@evil.example" }), "To holds a control character"},
		{"CRLF in Message-ID", edit(func(m *Message) { m.MessageID = "n-1@icy.example>\r\nBcc: victim" }), "MessageID holds a character"},
		{"NUL in Subject", edit(func(m *Message) { m.Subject = "a\x00b" }), "Subject holds a control character"},
		{"header not allowed", edit(func(m *Message) { m.Header["Bcc"] = "victim@evil.example" }), `header "Bcc" is not one of`},
		{"header the transport sets", edit(func(m *Message) { m.Header["Message-ID"] = "<x@y>" }), `header "Message-ID" is not one of`},
		{"header given twice", edit(func(m *Message) { m.Header["list-id"], m.Header["List-ID"] = "a", "b" }), "given twice"},
		{"non-ASCII header value", edit(func(m *Message) { m.Header["List-Id"] = "Ünïcode <x>" }), "not printable ASCII"},
		{"empty header value", edit(func(m *Message) { m.Header["List-Id"] = " " }), "header List-Id is empty"},
		{"header too long", edit(func(m *Message) { m.Header["List-Id"] = strings.Repeat("x", 990) }), "too long"},
		{"one-click with another value", edit(func(m *Message) { m.Header["list-unsubscribe-post"] = "yes" }), "must be \"List-Unsubscribe=One-Click\""},
		{"one-click without List-Unsubscribe", edit(func(m *Message) { delete(m.Header, "List-Unsubscribe") }), "needs a List-Unsubscribe"},
		{"two recipients", edit(func(m *Message) { m.To = "ada@example.org, bob@example.org" }), "To must be exactly one address"},
		{"no recipient", edit(func(m *Message) { m.To = "" }), "To is empty"},
		{"not an address", edit(func(m *Message) { m.To = "ada" }), "To is not an e-mail address"},
		{"no sender", edit(func(m *Message) { m.From = "" }), "From is empty"},
		{"no subject", edit(func(m *Message) { m.Subject = "" }), "Subject is empty"},
		{"no text", edit(func(m *Message) { m.Text = "" }), "text part is empty"},
		{"no Message-ID", edit(func(m *Message) { m.MessageID = "" }), `MessageID must be "left@right"`},
		{"Message-ID without @", edit(func(m *Message) { m.MessageID = "n-1" }), `MessageID must be "left@right"`},
		{"Message-ID with two @", edit(func(m *Message) { m.MessageID = "a@b@c" }), `MessageID must be "left@right"`},
		{"Message-ID with a space", edit(func(m *Message) { m.MessageID = "a b@c" }), "MessageID holds a character"},
		{"Message-ID with brackets inside", edit(func(m *Message) { m.MessageID = "a>@<c" }), "MessageID holds a character"},
	}
	var logged bytes.Buffer
	s, err := Open(context.Background(), "log://", Options{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged.Reset()
			r := s.Send(context.Background(), []Message{tt.msg})[0]
			if tt.want == "" {
				if r.Err != nil || r.ProviderID == "" {
					t.Fatalf("got %+v, want it sent", r)
				}
				return
			}
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", r.Err, tt.want)
			}
			if !errors.Is(r.Err, ErrInvalidMessage) || !IsPermanent(r.Err) {
				t.Errorf("err = %v: want a permanent ErrInvalidMessage", r.Err)
			}
			if strings.Contains(r.Err.Error(), "victim") {
				t.Errorf("the error repeats the refused value: %v", r.Err)
			}
			if logged.Len() != 0 || r.ProviderID != "" {
				t.Errorf("a refused message was sent: %q, %s", r.ProviderID, logged.String())
			}
		})
	}
}

func TestLogTransport(t *testing.T) {
	var logged bytes.Buffer
	s, err := Open(context.Background(), "log://", Options{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{notification("n-1@icy.example", "Ada <ada@example.org>"), notification("n-2@icy.example", "bob@example.org")}
	results := s.Send(context.Background(), msgs)
	for i, r := range results {
		if want := msgs[i].MessageID; r.Err != nil || r.ProviderID != want {
			t.Errorf("result %d = %+v, want ProviderID %s", i, r, want)
		}
	}
	var records []map[string]any
	dec := json.NewDecoder(&logged)
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
	}
	if len(records) != 2 {
		t.Fatalf("%d records, want 2", len(records))
	}
	rec := records[0]
	want := map[string]any{
		"level":      "INFO",
		"message_id": "<n-1@icy.example>",
		"from":       `"Icy Morning" <news@icy.example>`,
		"to":         `"Ada" <ada@example.org>`,
		"subject":    subject,
		"text":       text,
		"html":       html,
		"header": map[string]any{
			"List-Unsubscribe":      unsubscribe,
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}
	for k, v := range want {
		if got := fmt.Sprint(rec[k]); got != fmt.Sprint(v) {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if got := records[1]["to"]; got != "<bob@example.org>" {
		t.Errorf("second record to = %v", got)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := s.Send(context.Background(), msgs[:1])[0]
	if r.Err == nil || IsPermanent(r.Err) || !errors.Is(r.Err, errClosed) {
		t.Errorf("Send after Close: %+v, want a transient error", r)
	}
}

// SendEach reports every message as soon as it is known, in order, with
// the Result Send would give; an invalid message is reported, not skipped.
func TestSendEach(t *testing.T) {
	s, err := Open(context.Background(), "log://", Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	bad := notification("e-2@icy.example", "bob@example.org")
	bad.To = "not an address"
	msgs := []Message{notification("e-1@icy.example", "ada@example.org"), bad, notification("e-3@icy.example", "cy@example.org")}
	var order []int
	var got []Result
	s.SendEach(context.Background(), msgs, func(i int, r Result) {
		order = append(order, i)
		got = append(got, r)
	})
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("each called for %v, want 0, 1, 2", order)
	}
	if got[0].ProviderID != "e-1@icy.example" || got[2].ProviderID != "e-3@icy.example" || !IsPermanent(got[1].Err) {
		t.Fatalf("results %+v", got)
	}
	want := s.Send(context.Background(), msgs)
	for i := range want {
		if want[i].ProviderID != got[i].ProviderID || (want[i].Err == nil) != (got[i].Err == nil) {
			t.Errorf("message %d: SendEach %+v, Send %+v", i, got[i], want[i])
		}
	}
}

func TestOpen(t *testing.T) {
	const password = "s3cr#t/p@ss"
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		url  string
		opts Options
		want string // the Sender's String; or, after "error: ", a piece of the error
	}{
		{url: "log://", want: "log://"},
		{url: "log:", want: "log://"},
		{url: "smtp://mail.example:2525", want: "smtp://mail.example:2525"},
		{url: "smtp://mail.example?tls=implicit", want: "smtp://mail.example?tls=implicit"},
		{url: "smtp://ada:" + "s3cr%23t%2Fp%40ss" + "@mail.example:587?tls=starttls", want: "smtp://ada@mail.example:587?tls=starttls"},
		{url: "smtp://[::1]:25?tls=none", want: "smtp://[::1]:25?tls=none"},
		{url: "ses://?region=eu-west-1&configuration_set=icy-notify", want: "ses://?configuration_set=icy-notify&region=eu-west-1"},
		{url: "ses:?region=eu-west-1", want: "ses://?region=eu-west-1"},

		{url: "", want: "error: is not a URL"},
		{url: "smtp://ada:" + password + "@mail.example:587", want: "error: is not a URL"}, // an unescaped "/" in the password
		{url: "smtp://ada:pa ss@mail.example:bad", want: "error: is not a URL"},
		{url: "smtps://mail.example", want: `error: unknown mail URL scheme "smtps"`},
		{url: "log://somewhere", want: "error: takes no host"},
		{url: "smtp://", want: "error: names no host"},
		{url: "smtp://mail.example/path", want: "error: has a path"},
		{url: "smtp://mail.example?tls=always", want: `error: ?tls="always"`},
		{url: "smtp://mail.example?tsl=none", want: `error: unknown smtp:// URL parameter "tsl"`},
		{url: "smtp://mail.example:0", want: "error: is not a port number"},
		{url: "smtp://ada@mail.example", want: "error: needs both a user name and a password"},
		{url: "smtp://:" + "s3cr%23t" + "@mail.example", want: "error: needs both a user name and a password"},
		{url: "ses://eu-west-1", want: "error: takes only parameters"},
		{url: "ses://?region=eu-west-1&configurationset=x", want: `error: unknown ses:// URL parameter "configurationset"`},
		{url: "ses://", want: "error: no AWS region"},
		{url: "log://", opts: Options{MaxPerSecond: -1}, want: "error: must be 0 (no cap) or more"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := Open(context.Background(), tt.url, tt.opts)
			if wantErr, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("err = %v, want %q", err, wantErr)
				}
				for _, secret := range []string{password, "s3cr", "pa ss", "%23"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the password: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := fmt.Sprint(s); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	batch := func(n int) []Message {
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = notification(fmt.Sprintf("r-%d@icy.example", i), "ada@example.org")
		}
		return msgs
	}
	quiet := slog.New(slog.DiscardHandler)

	t.Run("capped", func(t *testing.T) {
		s, err := Open(context.Background(), "log://", Options{Logger: quiet, MaxPerSecond: 20})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for _, r := range s.Send(context.Background(), batch(6)) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		// The first goes at once, the next five 50 ms apart.
		if d := time.Since(start); d < 240*time.Millisecond {
			t.Errorf("6 messages at 20/s took %s, want at least 250 ms", d)
		}
	})
	t.Run("uncapped", func(t *testing.T) {
		s, err := Open(context.Background(), "log://", Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s.Send(context.Background(), batch(1000))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("1000 uncapped messages took %s", d)
		}
	})
	t.Run("context ends while waiting", func(t *testing.T) {
		s, err := Open(context.Background(), "log://", Options{Logger: quiet, MaxPerSecond: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		results := s.Send(ctx, batch(3))
		if results[0].Err != nil {
			t.Errorf("the first message should go at once: %v", results[0].Err)
		}
		for _, r := range results[1:] {
			if r.Err == nil || IsPermanent(r.Err) || !strings.Contains(r.Err.Error(), "not sent") {
				t.Errorf("got %+v, want a transient error", r)
			}
		}
	})
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{context.Canceled, false},
		{&Error{Transport: "smtp", Code: "451", Err: errors.New("try later")}, false},
		{&Error{Transport: "smtp", Code: "550", Permanent: true, Err: errors.New("no such user")}, true},
		{fmt.Errorf("outbox: %w", &Error{Transport: "ses", Permanent: true, Err: errors.New("rejected")}), true},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	e := &Error{Transport: "smtp", Code: "550", Permanent: true, Err: errors.New("no such user")}
	if got, want := e.Error(), "mail: smtp: permanent (550): no such user"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
