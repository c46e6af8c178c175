// Package awslambda runs the HTTP API as an AWS Lambda function. One
// function serves API Gateway HTTP APIs (payload 2.0), REST APIs (payload
// 1.0), Lambda Function URLs and ALB target groups through the same
// http.Handler that `icy-morning serve` uses, and answers operator commands
// such as {"icy_morning": "migrate"}.
//
// Event translation is github.com/awslabs/aws-lambda-go-api-proxy's; this
// package picks the event kind, and corrects the few cases that library gets
// wrong (see events.go).
package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Command is an operator action run by invoking the function with
// {"icy_morning": "<name>"}. Its result is returned as the invocation's
// JSON output; an error fails the invocation, so that callers such as
// Terraform's aws_lambda_invocation see it.
type Command func(ctx context.Context) (any, error)

// Handler is a lambda.Handler.
type Handler struct {
	http     http.Handler
	commands map[string]Command
	logger   *slog.Logger
	worker   Worker // nil: no queue, schedule or SES events
}

// New returns a Handler serving h. commands may be nil.
func New(h http.Handler, logger *slog.Logger, commands map[string]Command) *Handler {
	return &Handler{http: h, commands: commands, logger: logger}
}

// probe tells the kinds that fast does not hold apart: a REST API (payload
// 1.0) event from an ALB one.
type probe struct {
	HTTPMethod     string `json:"httpMethod"`
	RequestContext struct {
		ELB json.RawMessage `json:"elb"`
	} `json:"requestContext"`
}

// ErrUnsupportedEvent is returned for an event of no kind this function
// serves; the invocation fails with it.
var ErrUnsupportedEvent = errors.New(`awslambda: unsupported event: want API Gateway (payload 1.0 or 2.0), a Function URL, an ALB target group request, {"icy_morning": "<command>"}, or (with a worker) SQS, the EventBridge schedule or SES events`)

// fast is the one decode of the common case: an HTTP API payload 2.0 (or
// Function URL) event, or an operator command. Decoding the event once
// instead of probing its kind first takes a third off the adapter's CPU
// time per invocation (BenchmarkInvokeGetByID).
type fast struct {
	events.APIGatewayV2HTTPRequest
	Command *string `json:"icy_morning"`
	// An SQS batch (see worker.go).
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
	// An EventBridge event: the schedule, or SES's.
	eventBridge
}

// Invoke implements lambda.Handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var f fast
	fastErr := json.Unmarshal(payload, &f)
	if fastErr == nil {
		switch {
		case f.Command != nil:
			return h.command(ctx, *f.Command)
		case f.Version == "2.0": // HTTP API payload 2.0; Function URLs send the same shape
			return h.serveV2(ctx, &f.APIGatewayV2HTTPRequest)
		case h.worker != nil && len(f.Records) > 0 && f.Records[0].EventSource == "aws:sqs":
			return h.serveSQS(ctx, payload)
		case h.worker != nil && f.Source != "" && f.DetailType != "":
			return h.serveEventBridge(ctx, f.eventBridge)
		}
	}
	// The other kinds, which fast may also fail to hold: probe them.
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("%w (the event is not a JSON object: %v)", ErrUnsupportedEvent, err)
	}
	switch {
	case len(p.RequestContext.ELB) > 0:
		return h.serveALB(ctx, payload)
	case p.HTTPMethod != "":
		return h.serveV1(ctx, payload)
	case fastErr != nil:
		return nil, fmt.Errorf("%w (%v)", ErrUnsupportedEvent, fastErr)
	}
	return nil, ErrUnsupportedEvent
}

func (h *Handler) command(ctx context.Context, name string) ([]byte, error) {
	cmd, ok := h.commands[name]
	if !ok {
		names := make([]string, 0, len(h.commands))
		for n := range h.commands {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("awslambda: unknown command %q (known: %s)", name, strings.Join(names, ", "))
	}
	h.logger.LogAttrs(ctx, slog.LevelInfo, "command", slog.String("command", name))
	out, err := cmd(ctx)
	if err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, "command failed", slog.String("command", name), slog.String("error", err.Error()))
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return json.Marshal(map[string]any{"ok": true, "command": name, "result": out})
}

// lambdaRequestID is the id Lambda gave this invocation, or "".
func lambdaRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
