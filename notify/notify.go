// Package notify turns asset events into the e-mails subscribers get: it
// writes each message (subject, text and HTML parts, a Message-ID that a
// resend repeats, one-click unsubscribe headers) and signs and checks the
// tokens in its links. Sending is the mail package's; deciding what to
// send and when is the dispatcher's.
package notify

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
)

// Composer writes notification mails. It is safe for concurrent use.
type Composer struct {
	from   string
	base   *url.URL
	idHost string // the right-hand side of every Message-ID
	secret []byte
	tmpl   *templates
}

// minSecret is the shortest signing secret accepted: 256 bits, the size of
// the HMAC-SHA256 key the tokens are made with.
const minSecret = 32

// NewComposer returns a Composer that sends from from (an address, or
// "Name <address>"), links to pages under baseURL (PUBLIC_BASE_URL: an
// absolute http or https URL, to which "api/v1/assets/1", "unsubscribe"
// and the like are appended) and signs tokens with secret (NOTIFY_SECRET,
// at least 32 bytes).
func NewComposer(from, baseURL string, secret []byte) (*Composer, error) {
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, errors.New("notify: the sender (MAIL_FROM) is not an e-mail address")
	}
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("notify: PUBLIC_BASE_URL must be an absolute http(s) URL without query or fragment")
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if len(secret) < minSecret {
		return nil, fmt.Errorf("notify: the signing secret (NOTIFY_SECRET) must be at least %d bytes", minSecret)
	}
	t, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	return &Composer{from: from, base: base, idHost: base.Hostname(), secret: append([]byte(nil), secret...), tmpl: t}, nil
}

// link returns the absolute URL of a page under the base URL.
func (c *Composer) link(path string) string {
	return c.base.ResolveReference(&url.URL{Path: path}).String()
}
