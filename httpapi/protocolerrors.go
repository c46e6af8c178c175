package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// goErrorHeaders is what net/http writes after the status line of the
// answers it makes itself, in conn.serve, to requests it cannot parse: 431
// for a header section over MaxHeaderBytes, 501 for a transfer coding other
// than chunked, 505 for an unsupported version, and 400 for the rest, with
// a reason after the status text for some. A response written for a
// handler hardly ever starts this way: its handler-set headers come first,
// sorted (so Connection before Content-Type), then Date and Content-Length.
// Only with none of those (a HEAD answer whose handler deleted Date) can it,
// and then its body differs, which is why the body is checked too.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write recognises net/http's own error answers and sends a problem
// document instead. This is hand-written because net/http has no hook for
// these answers (it writes each with one fmt.Fprintf straight to the
// connection) and no library reshapes them.
//
// Everything else passes through unbuffered and untouched after one cheap
// test: only a write that starts like a 4xx or 5xx status line is looked
// at further. Every write is tested, not just a connection's first: a
// malformed second request on a keep-alive connection gets the same raw
// answer.
func (c *servedConn) Write(p []byte) (int, error) {
	if len(p) > 12 && (p[9] == '4' || p[9] == '5') && string(p[:9]) == "HTTP/1.1 " {
		if doc := problemForGoError(p); doc != nil {
			if _, err := c.Conn.Write(doc); err != nil {
				return 0, err
			}
			// All of p was answered: a shorter count would be a short
			// write to the caller.
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// problemForGoError returns the problem response standing for p, if p is a
// whole answer of net/http's own (status line, goErrorHeaders, and a body
// that repeats the status line, or says "Unsupported transfer encoding"
// after a 501), or nil.
func problemForGoError(p []byte) []byte {
	eol := bytes.IndexByte(p, '\n') - 1
	if eol < 0 || !bytes.HasPrefix(p[eol:], []byte(goErrorHeaders)) {
		return nil
	}
	line := string(p[len("HTTP/1.1 "):eol]) // "431 Request Header Fields Too Large"
	body := string(p[eol+len(goErrorHeaders):])
	if len(line) < 5 || line[3] != ' ' {
		return nil
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || http.StatusText(code) == "" {
		return nil
	}
	text, reason := http.StatusText(code), line[4:]
	var detail string
	switch {
	case reason == text && (body == line || code == http.StatusNotImplemented && body == "Unsupported transfer encoding"):
	case strings.HasPrefix(reason, text+": ") && body == line:
		detail = goReasons[reason[len(text)+2:]]
	default:
		return nil
	}
	if detail == "" {
		detail = plainDetail(code)
	}
	doc, err := json.Marshal(newProblem(code, detail))
	if err != nil {
		return nil
	}
	// Headers in the sorted order net/http uses for handlers' responses.
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n"+
		"Cache-Control: no-store\r\n"+
		"Connection: close\r\n"+
		"Content-Length: %d\r\n"+
		"Content-Type: application/problem+json\r\n"+
		"Date: %s\r\n"+
		"X-Content-Type-Options: nosniff\r\n\r\n%s\n",
		code, text, len(doc)+1, time.Now().UTC().Format(http.TimeFormat), doc)
}

// goReasons are the reasons net/http gives after a status's text, with
// the detail each becomes. Each is a fixed phrase that never echoes the
// request; one not listed here (a newer Go's) is not passed on.
var goReasons = map[string]string{
	"missing required Host header": "missing required Host header",
	"malformed Host header":        "malformed Host header",
	"invalid header name":          "invalid header name",
	"invalid header value":         "invalid header value",
	"unsupported protocol version": "unsupported protocol version: this server speaks HTTP/1.x",
}

// plainDetail is the detail of an answer net/http gives no reason for.
func plainDetail(code int) string {
	switch code {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "the request's header section is larger than this server accepts"
	case http.StatusNotImplemented:
		return "unsupported transfer encoding: only chunked is accepted"
	}
	return "the request is not valid HTTP"
}
