package icymorning

import "context"

// Notifier is what the public sign-up and unsubscribe pages need of the
// notification service: sending a confirmation link, and reading the
// signed tokens that links carry. A bad, forged or expired token is
// EINVALID on "token"; a mail that could not be sent now is EUNAVAILABLE.
type Notifier interface {
	// SendConfirmation mails sub (pending) the link that confirms it.
	SendConfirmation(ctx context.Context, sub *Subscription) error
	// ConfirmationSubscription returns the id of the subscription a
	// confirmation token was made for.
	ConfirmationSubscription(token string) (int64, error)
	// UnsubscribeSubscription returns the id of the subscription an
	// unsubscribe token was made for.
	UnsubscribeSubscription(token string) (int64, error)
}
