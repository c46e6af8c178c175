package icymorning

import (
	"strings"
	"unicode/utf8"
)

// Length limits of text members. The Python service had none; we bound
// them so that no client can store megabytes in a name.
const (
	MaxNameLength        = 255
	MaxDescriptionLength = 10000
	MaxEmailLength       = 254 // RFC 5321's limit on a forward path, less the brackets
)

func validateText(field, v string, max int, required bool) error {
	if !utf8.ValidString(v) {
		return FieldErrorf(field, "must be valid UTF-8")
	}
	if required && strings.TrimSpace(v) == "" {
		return FieldErrorf(field, "must not be empty")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return FieldErrorf(field, "must be at most %d characters, got %d", max, n)
	}
	if strings.ContainsRune(v, 0) {
		return FieldErrorf(field, "must not contain NUL characters")
	}
	return nil
}

func validateID(field string, id int64) error {
	if id < 1 {
		return FieldErrorf(field, "must be a positive integer")
	}
	return nil
}
