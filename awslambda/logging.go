package awslambda

import (
	"context"
	"log/slog"
)

// LogHandler adds the Lambda request id ("aws_request_id") to every record
// logged with an invocation's context, so a CloudWatch line can be matched
// to its invocation's REPORT line as well as to the API Gateway request id
// that the HTTP layer logs as "request_id".
func LogHandler(next slog.Handler) slog.Handler { return logHandler{next} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := lambdaRequestID(ctx); id != "" {
		r.AddAttrs(slog.String("aws_request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}
