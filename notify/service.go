package notify

import (
	"context"
	"errors"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/mail"
)

// Service implements icymorning.Notifier with a Composer and a mail
// Sender.
type Service struct {
	composer *Composer
	sender   mail.Sender
	now      func() time.Time
}

var _ icymorning.Notifier = (*Service)(nil)

// NewService returns the Notifier that sends through sender. now is the
// clock of token expiry; nil means time.Now.
func NewService(c *Composer, sender mail.Sender, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{composer: c, sender: sender, now: now}
}

// confirmTimeout bounds the wait for the mail server during a sign-up
// request: a slow server answers 503 rather than holding the request.
const confirmTimeout = 10 * time.Second

// SendConfirmation implements icymorning.Notifier. It sends in the
// request, unlike notifications: the subscriber is waiting for this one
// mail, and a failure is answered (503) instead of being lost.
func (s *Service) SendConfirmation(ctx context.Context, sub *icymorning.Subscription) error {
	m, err := s.composer.ComposeConfirmation(sub, s.now().Add(icymorning.SignUpExpiry))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	r := s.sender.Send(ctx, []mail.Message{m})[0]
	if r.Err == nil {
		return nil
	}
	if mail.IsPermanent(r.Err) {
		return &icymorning.Error{Code: icymorning.EINVALID, Field: "email",
			Message: "the mail server refused this address"}
	}
	return icymorning.Errorf(icymorning.EUNAVAILABLE, "the confirmation mail could not be sent now; try again in a minute")
}

// ConfirmationSubscription implements icymorning.Notifier.
func (s *Service) ConfirmationSubscription(token string) (int64, error) {
	id, err := s.composer.CheckConfirmToken(token, s.now())
	return id, tokenError(err)
}

// UnsubscribeSubscription implements icymorning.Notifier.
func (s *Service) UnsubscribeSubscription(token string) (int64, error) {
	id, err := s.composer.CheckUnsubscribeToken(token)
	return id, tokenError(err)
}

func tokenError(err error) error {
	if errors.Is(err, ErrBadToken) {
		return &icymorning.Error{Code: icymorning.EINVALID, Field: "token", Message: "the link is not valid or has expired"}
	}
	return err
}
