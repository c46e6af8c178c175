package icymorning

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each names a class of failure that callers handle alike; the
// HTTP layer maps each to exactly one status in one place.
const (
	EINVALID      = "invalid"      // the input breaks a rule of the domain
	ENOTFOUND     = "not_found"    // no such resource
	ECONFLICT     = "conflict"     // the change clashes with stored state
	ESTALE        = "stale"        // the change was made against a version that is no longer current
	EUNAUTHORIZED = "unauthorized" // no valid credentials were given
	EFORBIDDEN    = "forbidden"    // valid credentials that do not allow this
	EUNAVAILABLE  = "unavailable"  // a service it depends on is down: try again later
	EINTERNAL     = "internal"     // anything else: a bug, or a failure no code above names
)

// Error is a failure the domain knows how to explain. Message is safe to show
// to the client; internal errors never carry one.
type Error struct {
	Code    string
	Message string
	// Field names the input member at fault, when there is one, so that the
	// HTTP layer can point at it.
	Field string
	// RetryAfter, for EUNAVAILABLE, is how soon the service that is down
	// may be back, which the client is told to wait; zero leaves the
	// choice to the caller.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("icymorning: %s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an EINVALID *Error about one input member.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Stale is the ESTALE error of a change to the kind of thing with id that
// named a version (If-Match) the thing no longer has.
func Stale(kind string, id int64) error {
	return Errorf(ESTALE, "%s %d has changed since the version the request names", kind, id)
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err. Internal errors get a
// generic text so that no detail of the failure leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
