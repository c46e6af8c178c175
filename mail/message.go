package mail

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail to one recipient, with a text part and, if HTML is
// set, an HTML alternative (multipart/alternative).
type Message struct {
	// From is the sender: "Icy Morning <news@example.com>" or an address.
	From string
	// To is the one recipient, in the same forms as From.
	To      string
	Subject string
	// Text is the text/plain part; it is required.
	Text string
	// HTML is the text/html alternative; empty means a text-only message.
	HTML string
	// MessageID is the Message-ID header's id, "left@right", with or
	// without its angle brackets. The caller derives it from what the
	// message is about, so a retried message carries the same id. (SES
	// gives every message a Message-ID of its own: see sesSender.)
	MessageID string
	// Header holds extra header fields by name, in any letter case:
	// List-Unsubscribe, List-Unsubscribe-Post (which must then be
	// "List-Unsubscribe=One-Click", with a List-Unsubscribe), List-Id,
	// Auto-Submitted and Feedback-ID; no others. Values are printable
	// ASCII on one line, as those headers' are.
	Header map[string]string
}

// extraHeaders are the names Message.Header accepts, in the spelling they
// are sent with. The transports set every other header themselves.
var extraHeaders = []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Auto-Submitted", "Feedback-ID"}

// ErrInvalidMessage is wrapped by the (permanent) error of a message that
// was refused before sending: a missing or malformed field, a header name
// Message.Header does not accept, or a CR, LF or other control character
// where a header would carry it.
var ErrInvalidMessage = errors.New("invalid message")

// oneClick is the only value RFC 8058 gives List-Unsubscribe-Post.
const oneClick = "List-Unsubscribe=One-Click"

// message is a Message that passed check, in the form the transports use.
type message struct {
	from, to   *netmail.Address
	subject    string
	text, html string
	id         string  // without angle brackets
	header     []field // ordered by name
}

type field struct{ name, value string }

// check validates m. Its errors name the field at fault but never quote
// its value: a value may be an address, and a refused one may be an
// injection attempt that should not reach the logs either.
func (m *Message) check() (*message, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
	}
	out := &message{subject: m.Subject, text: m.Text, html: m.HTML}
	var err error
	if out.from, err = parseAddress(m.From); err != nil {
		return nil, invalid("From %v", err)
	}
	if out.to, err = parseAddress(m.To); err != nil {
		return nil, invalid("To %v", err)
	}
	switch {
	case m.Subject == "":
		return nil, invalid("the Subject is empty")
	case hasControl(m.Subject):
		return nil, invalid("the Subject holds a control character (CR, LF, ...)")
	case m.Text == "":
		return nil, invalid("the text part is empty")
	}
	if out.id, err = checkMessageID(m.MessageID); err != nil {
		return nil, invalid("MessageID %v", err)
	}
	byName := make(map[string]string, len(m.Header))
	for name, value := range m.Header {
		i := slices.IndexFunc(extraHeaders, func(h string) bool { return strings.EqualFold(h, name) })
		if i < 0 {
			return nil, invalid("header %q is not one of %s", name, strings.Join(extraHeaders, ", "))
		}
		name = extraHeaders[i]
		if _, dup := byName[name]; dup {
			return nil, invalid("header %s is given twice", name)
		}
		if err := checkHeaderValue(name, value); err != nil {
			return nil, invalid("header %s %v", name, err)
		}
		byName[name] = value
		out.header = append(out.header, field{name, value})
	}
	slices.SortFunc(out.header, func(a, b field) int { return strings.Compare(a.name, b.name) })
	if v, ok := byName["List-Unsubscribe-Post"]; ok {
		if v != oneClick {
			return nil, invalid("header List-Unsubscribe-Post must be %q (RFC 8058)", oneClick)
		}
		if _, ok := byName["List-Unsubscribe"]; !ok {
			return nil, invalid("header List-Unsubscribe-Post needs a List-Unsubscribe header (RFC 8058)")
		}
	}
	return out, nil
}

// parseAddress parses one address, refusing what would break a header line
// or name more than one recipient.
func parseAddress(s string) (*netmail.Address, error) {
	if s == "" {
		return nil, errors.New("is empty")
	}
	if hasControl(s) {
		return nil, errors.New("holds a control character (CR, LF, ...)")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		if _, listErr := netmail.ParseAddressList(s); listErr == nil {
			return nil, errors.New("must be exactly one address")
		}
		return nil, errors.New("is not an e-mail address")
	}
	return a, nil
}

// checkMessageID returns id without angle brackets if it is an RFC 5322
// msg-id of the common dot-atom form: "left@right".
func checkMessageID(id string) (string, error) {
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") && len(id) > 1 {
		id = id[1 : len(id)-1]
	}
	left, right, ok := strings.Cut(id, "@")
	if id == "" || !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return "", errors.New(`must be "left@right"`)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c != '@' && c != '.' && !isAtext(c) {
			return "", fmt.Errorf("holds a character not allowed in a Message-ID (byte %d)", i)
		}
	}
	if len(id) > 900 {
		return "", errors.New("is longer than 900 characters")
	}
	return id, nil
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// checkHeaderValue allows printable ASCII, space and tab: what SES accepts
// in a header value, and all that list and feedback headers need.
func checkHeaderValue(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("is empty")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c > '~' {
			return fmt.Errorf("holds a byte that is not printable ASCII (CR, LF, ...) at %d", i)
		}
	}
	// SES's limit for a header's name and value together.
	if len(name)+len(v) > 996 {
		return errors.New("is too long (name and value over 996 characters)")
	}
	return nil
}

// hasControl reports whether s holds a control character other than tab.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) })
}

// goMail builds the message for SMTP, with its own Message-ID and Date,
// text/plain and text/html as alternatives, UTF-8 and quoted-printable.
func (m *message) goMail() *gomail.Msg {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(m.from)
	msg.ToMailAddress(m.to)
	msg.Subject(m.subject)
	msg.SetMessageIDWithValue(m.id)
	msg.SetDate()
	for _, f := range m.header {
		msg.SetGenHeader(gomail.Header(f.name), f.value)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.text)
	if m.html != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.html)
	}
	return msg
}
