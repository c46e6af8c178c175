//go:build linux

package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
)

// invokePath is the emulator's invoke endpoint.
const invokePath = "/2015-03-31/functions/function/invocations"

// FunctionError is an invoke that the function (or its runtime) failed:
// a returned error, a panic, an exit, a failed init or a timeout.
type FunctionError struct {
	// Status is the emulator's HTTP status: 200 for a returned error or a
	// timeout, 502 when the runtime crashed or could not start.
	Status int
	// Type and Message are the error's errorType and errorMessage, when
	// the body has them; Type is "Timeout" for a timeout and
	// "Runtime.Unknown" for an empty 502.
	Type    string
	Message string
	// Body is the emulator's answer as it was.
	Body []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambda function error (HTTP %d): %s: %s", e.Status, e.Type, e.Message)
}

// Invoke sends payload as one event and returns the function's answer.
// A failure of the function is a *FunctionError; anything else (the
// emulator gone, a refused request) is a plain error.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return e.InvokeID(ctx, "", payload)
}

// InvokeID is Invoke with the Lambda request id (the context's
// AwsRequestID) set to requestID; empty lets the emulator make one up.
func (e *Emulator) InvokeID(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	e.invokeMu.Lock()
	defer e.invokeMu.Unlock()
	select {
	case <-e.done:
		return nil, fmt.Errorf("rie: the emulator has exited (%v):\n%s", e.waitErr, tail(e.stderr.String(), 2000))
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Amzn-RequestId", requestID)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie: read invoke answer: %w", err)
	}
	return classify(resp.StatusCode, body)
}

// timeoutRE is the emulator's answer when the function ran out of time.
var timeoutRE = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// classify turns the emulator's answer into the function's answer or an
// error.
func classify(status int, body []byte) ([]byte, error) {
	switch {
	case status == http.StatusOK:
		if timeoutRE.Match(body) {
			return nil, &FunctionError{Status: status, Type: "Timeout", Message: string(body), Body: body}
		}
		if fe := parseFunctionError(status, body); fe != nil {
			return nil, fe
		}
		return body, nil
	case status == http.StatusBadGateway:
		if fe := parseFunctionError(status, body); fe != nil {
			return nil, fe
		}
		return nil, &FunctionError{Status: status, Type: "Runtime.Unknown",
			Message: "the runtime failed without an error document (init failure or bootstrap not executable; see the emulator log)", Body: body}
	default:
		// 400: an invoke overlapped another; 500, 504: the emulator's own
		// trouble.
		return nil, fmt.Errorf("rie: emulator answered HTTP %d: %s", status, tail(string(body), 500))
	}
}

// parseFunctionError recognises the runtime's error document: a JSON
// object with string members errorType and errorMessage. An API Gateway
// or other function answer does not have both.
func parseFunctionError(status int, body []byte) *FunctionError {
	var doc struct {
		Type    *string `json:"errorType"`
		Message *string `json:"errorMessage"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &doc) != nil || doc.Type == nil || doc.Message == nil {
		return nil
	}
	return &FunctionError{Status: status, Type: *doc.Type, Message: *doc.Message, Body: body}
}
