package notifye2e

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/mailpeer"
)

// One serve on a SQLite file, with its dispatcher in-process: an asset
// created through the API is mailed to the subscriber made through the
// API, with the Message-ID of its delivery and a one-click unsubscribe
// link.
func TestSQLiteServeMailsSubscriber(t *testing.T) {
	mp := mailpeer.StartMailpit(t)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "icy.db")
	srv := startServe(t, "serve", env{
		"DATABASE_URL":        db,
		"BASIC_AUTH_USERNAME": apiUser,
		"BASIC_AUTH_PASSWORD": apiPassword,
		"MAIL_URL":            "smtp://" + mp.SMTP + "?tls=none",
		"MAIL_FROM":           "Icy Morning <news@icy.example>",
		"PUBLIC_BASE_URL":     publicBase,
		"NOTIFY_SECRET":       secret(),
	})
	analyst := srv.createAnalyst(t)
	sub := srv.create(t, "/api/v1/subscriptions", map[string]any{"email": "reader@example.com"})
	asset := srv.createAsset(t, analyst, "Fund <Smoke>")

	store := openStore(t, db)
	d := waitAllSent(t, store, 1, 15*time.Second)[0]
	if d.SubscriptionID != sub || d.ProviderMessageID == "" {
		t.Errorf("delivery %+v: want one to subscription %d, with the provider's message id", d, sub)
	}
	msg, header := mp.Received(t, messageID(idHost, d))
	if n := mp.Count(t); n != 1 {
		t.Errorf("Mailpit holds %d messages, want 1", n)
	}
	if len(msg.To) != 1 || msg.To[0].Address != "reader@example.com" || msg.From.Address != "news@icy.example" {
		t.Errorf("From %v, To %v: want news@icy.example to reader@example.com alone", msg.From, msg.To)
	}
	if msg.Subject != "New asset: Fund <Smoke>" {
		t.Errorf("Subject %q", msg.Subject)
	}
	if link := publicBase + "api/v1/assets/" + strconv.FormatInt(asset, 10); !strings.Contains(msg.Text, link) || !strings.Contains(msg.HTML, link) {
		t.Errorf("the parts do not link to the asset (%s):\n%s\n%s", link, msg.Text, msg.HTML)
	}
	if u := header["List-Unsubscribe"]; len(u) != 1 || !strings.HasPrefix(u[0], "<"+publicBase+"unsubscribe/") {
		t.Errorf("List-Unsubscribe %q", u)
	}
	if p := header["List-Unsubscribe-Post"]; len(p) != 1 || p[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", p)
	}
}

// With nothing about mail configured (MAIL_URL defaults to log://) and no
// mail server at all, serve writes the notification to its log, and the
// delivery is recorded as sent, under the Message-ID it logged.
func TestSQLiteServeLogsMailByDefault(t *testing.T) {
	db := "sqlite:///" + filepath.Join(t.TempDir(), "icy.db")
	srv := startServe(t, "serve", env{
		"DATABASE_URL":        db,
		"BASIC_AUTH_USERNAME": apiUser,
		"BASIC_AUTH_PASSWORD": apiPassword,
	})
	analyst := srv.createAnalyst(t)
	sub := srv.create(t, "/api/v1/subscriptions", map[string]any{"email": "reader@example.com"})
	asset := srv.createAsset(t, analyst, "Fund")

	store := openStore(t, db)
	d := waitAllSent(t, store, 1, 15*time.Second)[0]
	// PUBLIC_BASE_URL defaults to http:// and ADDR.
	wantID := messageID("127.0.0.1", d)
	if d.SubscriptionID != sub || d.ProviderMessageID != wantID {
		t.Errorf("delivery %+v: want one to subscription %d, provider id %s", d, sub, wantID)
	}

	type logged struct {
		Msg       string            `json:"msg"`
		MessageID string            `json:"message_id"`
		From      string            `json:"from"`
		To        string            `json:"to"`
		Subject   string            `json:"subject"`
		Text      string            `json:"text"`
		HTML      string            `json:"html"`
		Header    map[string]string `json:"header"`
	}
	var mails []logged
	sc := bufio.NewScanner(strings.NewReader(srv.output()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logged
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "mail not sent: the log transport only logs it" {
			mails = append(mails, l)
		}
	}
	if len(mails) != 1 {
		t.Fatalf("serve logged %d mails, want 1", len(mails))
	}
	m := mails[0]
	if m.MessageID != "<"+wantID+">" || m.Subject != "New asset: Fund" ||
		!strings.Contains(m.To, "reader@example.com") || !strings.Contains(m.From, "icy-morning@localhost") {
		t.Errorf("logged mail: Message-ID %s, Subject %q, From %q, To %q; want <%s>, New asset: Fund, icy-morning@localhost, reader@example.com",
			m.MessageID, m.Subject, m.From, m.To, wantID)
	}
	if link := srv.base + "/api/v1/assets/" + strconv.FormatInt(asset, 10); !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
		t.Errorf("the logged parts do not link to the asset (%s):\n%s\n%s", link, m.Text, m.HTML)
	}
	if u := m.Header["List-Unsubscribe"]; !strings.HasPrefix(u, "<"+srv.base+"/unsubscribe/") {
		t.Errorf("logged List-Unsubscribe %q", u)
	}
}
