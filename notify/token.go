package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Tokens are what links carry instead of passwords: a subscription id (and
// for a confirmation, an expiry) with an HMAC-SHA256 under the server's
// secret, so the server needs no table of tokens and a token for one
// subscription opens nothing else. The purpose is part of the signed text,
// so an unsubscribe token cannot confirm and a confirmation cannot
// unsubscribe. Signatures are truncated to 128 bits, which keeps the links
// short and is still far beyond guessing (RFC 2104 §5 allows truncation to
// half the hash).
//
// Hand-written because it is a few lines over crypto/hmac; a JWT library
// would add a header, algorithm negotiation and twice the length for no
// gain here.

type purpose byte

const (
	purposeUnsubscribe purpose = 'u'
	purposeConfirm     purpose = 'c'
)

const macSize = 16

// ErrBadToken is returned for a token that is malformed, forged, for
// another purpose, or expired.
var ErrBadToken = errors.New("notify: the link is not valid or has expired")

func (c *Composer) sign(p purpose, body []byte) string {
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte{byte(p)})
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(body, mac.Sum(nil)[:macSize]...))
}

func (c *Composer) open(p purpose, token string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) <= macSize || len(raw) > 64 {
		return nil, ErrBadToken
	}
	body, got := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte{byte(p)})
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)[:macSize]) {
		return nil, ErrBadToken
	}
	return body, nil
}

// UnsubscribeToken returns the token of subscription id's unsubscribe
// link. It never expires: a mail may be read months later.
func (c *Composer) UnsubscribeToken(id int64) string {
	return c.sign(purposeUnsubscribe, binary.AppendVarint(nil, id))
}

// CheckUnsubscribeToken returns the subscription id an unsubscribe token
// was made for, or ErrBadToken.
func (c *Composer) CheckUnsubscribeToken(token string) (int64, error) {
	body, err := c.open(purposeUnsubscribe, token)
	if err != nil {
		return 0, err
	}
	id, n := binary.Varint(body)
	if n != len(body) || id < 1 {
		return 0, ErrBadToken
	}
	return id, nil
}

// ConfirmToken returns the token of subscription id's confirmation link,
// valid until expires.
func (c *Composer) ConfirmToken(id int64, expires time.Time) string {
	body := binary.AppendVarint(nil, id)
	body = binary.AppendVarint(body, expires.Unix())
	return c.sign(purposeConfirm, body)
}

// CheckConfirmToken returns the subscription id a confirmation token was
// made for, or ErrBadToken if it is not one or expired before now.
func (c *Composer) CheckConfirmToken(token string, now time.Time) (int64, error) {
	body, err := c.open(purposeConfirm, token)
	if err != nil {
		return 0, err
	}
	id, n := binary.Varint(body)
	if n <= 0 || id < 1 {
		return 0, ErrBadToken
	}
	exp, m := binary.Varint(body[n:])
	if m <= 0 || n+m != len(body) || !now.Before(time.Unix(exp, 0)) {
		return 0, ErrBadToken
	}
	return id, nil
}
