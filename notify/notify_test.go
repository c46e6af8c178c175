package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newComposer(t *testing.T) *notify.Composer {
	t.Helper()
	c, err := notify.NewComposer("Icy Morning <news@icy.example>", "https://icy.example/prod", secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewComposerRefusesBadSettings(t *testing.T) {
	tests := []struct{ name, from, base string }{
		{"no sender", "", "https://icy.example/"},
		{"sender not an address", "news", "https://icy.example/"},
		{"relative base", "news@icy.example", "/prod"},
		{"not http", "news@icy.example", "ftp://icy.example/"},
		{"query in base", "news@icy.example", "https://icy.example/?a=1"},
	}
	for _, tt := range tests {
		if _, err := notify.NewComposer(tt.from, tt.base, secret); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := notify.NewComposer("news@icy.example", "https://icy.example/", secret[:31]); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
}

func TestCompose(t *testing.T) {
	c := newComposer(t)
	desc := `Growth <script>alert(1)</script> & more`
	analyst := int64(7)
	asset := icymorning.Asset{ID: 42, Name: "Fund\nOne", Description: &desc, InceptionDate: icymorning.DateOf(time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)), IsActive: true, AnalystID: 7}
	sub := &icymorning.Subscription{ID: 9, Email: "ada@example.com", Topic: icymorning.TopicAssetUpdate, AnalystID: &analyst}
	tests := []struct {
		topic       icymorning.Topic
		subject     string
		wantLink    bool
		wantInParts []string
	}{
		{icymorning.TopicAssetCreation, "New asset: Fund One", true, []string{"2024-01-31", "#7"}},
		{icymorning.TopicAssetUpdate, "Asset updated: Fund One", true, []string{"Active"}},
		{icymorning.TopicAssetDeletion, "Asset deleted: Fund One", false, []string{"Fund"}},
	}
	var logs bytes.Buffer
	sender, err := mail.Open(context.Background(), "log://", mail.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	for _, tt := range tests {
		t.Run(string(tt.topic), func(t *testing.T) {
			ev := &icymorning.Event{ID: 100, Topic: tt.topic, AssetID: 42, AnalystID: 7, Asset: asset}
			m, err := c.Compose(ev, sub)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.subject || m.To != "ada@example.com" || m.From != "Icy Morning <news@icy.example>" {
				t.Errorf("subject %q to %q from %q", m.Subject, m.To, m.From)
			}
			if m.MessageID != "event-100.subscription-9@icy.example" {
				t.Errorf("Message-ID %q", m.MessageID)
			}
			link := "https://icy.example/prod/api/v1/assets/42"
			if strings.Contains(m.Text, link) != tt.wantLink || strings.Contains(m.HTML, link) != tt.wantLink {
				t.Errorf("link to the asset present=%v, want %v", strings.Contains(m.Text, link), tt.wantLink)
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, want := range append(tt.wantInParts, "ada@example.com", "of analyst #7") {
					if !strings.Contains(part, want) {
						t.Errorf("a part lacks %q:\n%s", want, part)
					}
				}
			}
			if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Error("the description's markup reached the HTML part unescaped")
			}
			unsub := m.Header["List-Unsubscribe"]
			if !strings.HasPrefix(unsub, "<https://icy.example/prod/unsubscribe/") || m.Header["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
				t.Errorf("unsubscribe headers %v", m.Header)
			}
			token := strings.TrimSuffix(strings.TrimPrefix(unsub, "<https://icy.example/prod/unsubscribe/"), ">")
			if id, err := c.CheckUnsubscribeToken(token); err != nil || id != 9 {
				t.Errorf("the header's token gives %d, %v", id, err)
			}
			// The mail package accepts it: every header is one clean line.
			if r := sender.Send(context.Background(), []mail.Message{m}); r[0].Err != nil {
				t.Fatalf("the log transport refused the message: %v", r[0].Err)
			}
		})
	}
	if !strings.Contains(logs.String(), "event-100.subscription-9@icy.example") {
		t.Error("the log transport did not log the message")
	}
	if _, err := c.Compose(&icymorning.Event{Topic: "asset::renaming", Asset: asset}, sub); err == nil {
		t.Error("an unknown topic got a mail")
	}
}

func TestMessageIDsAreOnePerPair(t *testing.T) {
	c := newComposer(t)
	seen := map[string]bool{}
	for e := int64(1); e <= 20; e++ {
		for s := int64(1); s <= 20; s++ {
			id := c.MessageID(e, s)
			if seen[id] {
				t.Fatalf("Message-ID %s twice", id)
			}
			seen[id] = true
			if c.MessageID(e, s) != id {
				t.Fatal("Message-ID not deterministic")
			}
		}
	}
}

func TestTokens(t *testing.T) {
	c := newComposer(t)
	other, _ := notify.NewComposer("news@icy.example", "https://icy.example/", []byte("another secret of thirty-two by!"))
	now := time.Unix(1_800_000_000, 0)
	unsub := c.UnsubscribeToken(12345)
	confirm := c.ConfirmToken(12345, now.Add(time.Hour))

	if id, err := c.CheckUnsubscribeToken(unsub); err != nil || id != 12345 {
		t.Fatalf("unsubscribe round trip: %d %v", id, err)
	}
	if id, err := c.CheckConfirmToken(confirm, now); err != nil || id != 12345 {
		t.Fatalf("confirm round trip: %d %v", id, err)
	}
	flip := func(s string) string {
		b := []byte(s)
		b[len(b)/2] ^= 1
		return string(b)
	}
	bad := []struct {
		name  string
		check func() error
	}{
		{"tampered unsubscribe", func() error { _, err := c.CheckUnsubscribeToken(flip(unsub)); return err }},
		{"another server's secret", func() error { _, err := other.CheckUnsubscribeToken(unsub); return err }},
		{"a confirmation used to unsubscribe", func() error { _, err := c.CheckUnsubscribeToken(confirm); return err }},
		{"an unsubscribe used to confirm", func() error { _, err := c.CheckConfirmToken(unsub, now); return err }},
		{"expired confirmation", func() error { _, err := c.CheckConfirmToken(confirm, now.Add(time.Hour)); return err }},
		{"empty", func() error { _, err := c.CheckUnsubscribeToken(""); return err }},
		{"not base64", func() error { _, err := c.CheckUnsubscribeToken("%%%"); return err }},
		{"huge", func() error { _, err := c.CheckUnsubscribeToken(strings.Repeat("A", 10000)); return err }},
		{"tampered confirmation", func() error { _, err := c.CheckConfirmToken(flip(confirm), now); return err }},
	}
	for _, tt := range bad {
		if err := tt.check(); err != notify.ErrBadToken {
			t.Errorf("%s: err = %v, want ErrBadToken", tt.name, err)
		}
	}
	if c.UnsubscribeToken(1) == c.UnsubscribeToken(2) || len(unsub) > 40 {
		t.Errorf("tokens: %q (%d characters)", unsub, len(unsub))
	}
}
