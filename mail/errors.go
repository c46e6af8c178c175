package mail

import (
	"errors"
	"strings"
)

// Error is why one message was not sent.
//
// Permanent means the provider refused this message (or this package
// refused it before sending), so sending the same message again will fail
// again: the caller gives up on it. Otherwise the error is transient: the
// server could not be reached, answered "try later", throttled the sender,
// or refused the session rather than the message (bad credentials, TLS
// required); the caller tries again later. The rules, per transport:
//
//	smtp  permanent: a 5xx reply to MAIL FROM, RCPT TO or DATA (550 no such user, 552 too big, 554 ...)
//	      transient: 4xx replies; 530, 534, 535 and 538 (authentication or TLS required or failed);
//	                 every failure to connect, greet, start TLS or authenticate; timeouts; a lost connection
//	ses   permanent: MessageRejected, MailFromDomainNotVerifiedException, AccountSuspendedException,
//	                 BadRequestException
//	      transient: every other error: throttling (TooManyRequestsException, LimitExceededException,
//	                 Throttling...), 5xx, SendingPausedException, NotFoundException (no such
//	                 configuration set), credentials and network errors
//	all   permanent: ErrInvalidMessage
//	      transient: the context ended, the Sender was closed
type Error struct {
	// Transport is "smtp", "ses" or "log".
	Transport string
	// Code is the provider's code for the failure: an SMTP reply code
	// ("550") or an SES error code ("MessageRejected"); empty when there
	// was no answer.
	Code      string
	Permanent bool
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mail: ")
	b.WriteString(e.Transport)
	if e.Permanent {
		b.WriteString(": permanent")
	} else {
		b.WriteString(": transient")
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err says a message can never be sent as it
// is (see Error). Any other non-nil error is transient.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}
