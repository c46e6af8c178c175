package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// strictJSON is the request body format. Huma decodes a body twice: into
// an `any` it validates against the schema, then into the operation's
// struct. Both passes here follow the OpenAPI document exactly, which
// encoding/json does not:
//   - member names match exactly (encoding/json matches them
//     case-insensitively, so {"name":"a","NAME":"b"} stored "b");
//   - a member name given twice is refused, so no two readers of one body
//     (a proxy, a log, this service) can disagree on its meaning;
//   - the body must be UTF-8 (RFC 8259 §8.1) rather than have bad bytes
//     replaced with U+FFFD, storing text the client never sent;
//   - a number too large for a float64 (1e400) is still a number, so it
//     gets a 422 naming its member like any other out-of-range value;
//   - errors speak of the API's members, never of Go types.
//
// go-json-experiment/json (the proposed encoding/json/v2) decodes the
// structs with those rules; the `any` pass is built here from its
// tokenizer, because huma's validator wants float64 numbers and the library
// refuses 1e400 as a float64 before validation could name the member.
var strictJSON = huma.Format{
	Marshal:   huma.DefaultJSONFormat.Marshal,
	Unmarshal: unmarshalStrict,
}

func init() {
	// Huma's validator, too, finds a required member under any letter case
	// unless told otherwise, and the struct pass would then see it absent
	// ({"IS_ACTIVE":true} would store false). This is the one process-wide
	// setting of Huma's the package changes: Huma has no per-API switch for
	// it, and exact matching is the only correct value for any API in this
	// process, so no server can want another.
	huma.ValidateStrictCasing = true
}

func unmarshalStrict(data []byte, v any) error {
	if !utf8.Valid(data) {
		return errors.New("the body is not valid UTF-8")
	}
	if p, ok := v.(*any); ok {
		tree, err := decodeTree(data)
		if err != nil {
			return err
		}
		*p = tree
		return nil
	}
	return describeDecodeError(jsonv2.Unmarshal(data, v))
}

// decodeTree decodes one JSON value into maps, slices, strings, float64s,
// bools and nils, as huma's validator expects, refusing trailing data.
func decodeTree(data []byte) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	v, err := readValue(dec)
	if err != nil {
		return nil, describeSyntaxError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return v, nil
}

func readValue(dec *jsontext.Decoder) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			key := name.String() // before the next read voids the token
			v, err := readValue(dec)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		_, err := dec.ReadToken()
		return m, err
	case '[':
		s := []any{}
		for dec.PeekKind() != ']' {
			v, err := readValue(dec)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		_, err := dec.ReadToken()
		return s, err
	case '"':
		return tok.String(), nil
	case '0':
		// Out of float64's range, ParseFloat gives ±Inf: still a number to
		// the validator, which checks its bounds, and the struct pass then
		// refuses it with the member's name.
		f, _ := strconv.ParseFloat(tok.String(), 64)
		return f, nil
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected JSON token at byte %d", dec.InputOffset())
}

// describeSyntaxError says what is wrong with a body that is not JSON, in
// words of our own and with the byte offset, never quoting the input.
func describeSyntaxError(err error) error {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return errors.New("the JSON text ends early")
		}
		return errors.New("the body is not valid JSON")
	}
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return fmt.Errorf("a member name appears twice in one object (at byte %d)", se.ByteOffset)
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return errors.New("the JSON text ends early")
	case strings.Contains(se.Err.Error(), "depth"):
		return fmt.Errorf("the JSON text is nested too deeply (at byte %d)", se.ByteOffset)
	}
	return fmt.Errorf("invalid JSON at byte %d", se.ByteOffset)
}

// describeDecodeError turns the struct pass's errors into a message about
// the member, with the member's location ahead of a NUL so that newProblem
// moves it into the problem's location. The schema pass has already
// checked types, so what is left is mostly numbers out of range.
func describeDecodeError(err error) error {
	if err == nil {
		return nil
	}
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) {
		return describeSyntaxError(err)
	}
	msg := "has the wrong type"
	if se.GoType != nil {
		switch se.GoType.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			lowest := int64(math.MinInt64) >> (64 - se.GoType.Bits())
			msg = fmt.Sprintf("must be a whole number from %d to %d", lowest, ^lowest)
		case reflect.String:
			msg = "must be a string"
		case reflect.Bool:
			msg = "must be true or false"
		case reflect.Struct, reflect.Map:
			msg = "must be a JSON object"
		}
	}
	name := pointerName(string(se.JSONPointer))
	if name == "" {
		return errors.New(msg)
	}
	return errors.New(name + "\x00" + msg)
}

// pointerUnescape undoes a JSON pointer's escapes (RFC 6901 §4).
var pointerUnescape = strings.NewReplacer("~1", "/", "~0", "~")

// pointerName turns a JSON pointer ("/a/0/b") into the dotted form the
// problem locations use ("a.0.b").
func pointerName(ptr string) string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		parts[i] = pointerUnescape.Replace(p)
	}
	return strings.Join(parts, ".")
}
