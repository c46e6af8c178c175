package awslambda

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/icy-morning/icy-morning/httpapi"
)

// serveV2 serves an HTTP API payload 2.0 or Function URL event.
func (h *Handler) serveV2(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	// A named stage's segment is part of rawPath ("/prod/api/v1/assets");
	// $default has none, and neither do Function URLs. The library only
	// strips a fixed prefix, and does so without regard to segment
	// boundaries ("/prod" would eat the start of "/products"), so the stage
	// is removed here, per event.
	ev.RawPath = stripStage(ev.RawPath, ev.RequestContext.Stage)
	ev.RequestContext.HTTP.Path = stripStage(ev.RequestContext.HTTP.Path, ev.RequestContext.Stage)

	w := core.NewProxyResponseWriterV2()
	var acc core.RequestAccessorV2
	req, err := acc.EventToRequestWithContext(ctx, *ev)
	h.serve(ctx, w, req, err, ev.RequestContext.RequestID)
	return encode(w.GetProxyResponse())
}

// serveV1 serves a REST API (payload 1.0) event. Its path never holds the
// stage; multi-value headers and query strings are the library's.
func (h *Handler) serveV1(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("awslambda: REST API event: %w", err)
	}
	w := core.NewProxyResponseWriter()
	var acc core.RequestAccessor
	req, err := acc.EventToRequestWithContext(ctx, ev)
	h.serve(ctx, w, req, err, ev.RequestContext.RequestID)
	return encode(w.GetProxyResponse())
}

// encode is the invocation's output: the response as JSON.
func encode[R any](resp R, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// albResponse is an ALB target group response carrying exactly one of
// headers or multiValueHeaders: the load balancer expects the one that
// matches the target group's multi-value setting, which it signals by the
// one it sends in the request.
type albResponse struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// serveALB serves an ALB target group event. Two corrections to the
// library: it always answers with multiValueHeaders, which a target group
// without multi-value headers does not read, and it re-escapes query
// parameters that the load balancer passes on still percent-encoded, so
// "a%20b" would reach us as "a%2520b".
func (h *Handler) serveALB(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("awslambda: ALB event: %w", err)
	}
	multi := ev.MultiValueHeaders != nil
	rawQuery := albRawQuery(ev)
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = nil, nil
	if multi && ev.Headers == nil {
		// The library takes the host from the single-value headers only.
		if hosts := ev.MultiValueHeaders["host"]; len(hosts) > 0 {
			ev.Headers = map[string]string{"host": hosts[0]}
		}
	}

	w := core.NewProxyResponseWriterALB()
	var acc core.RequestAccessorALB
	req, err := acc.EventToRequestWithContext(ctx, ev)
	if err == nil {
		req.URL.RawQuery = rawQuery
		req.RequestURI = req.URL.RequestURI()
		req.RemoteAddr = albClientAddr(req.Header)
	}
	// An ALB request has no id of its own; the Lambda request id stands in.
	h.serve(ctx, w, req, err, lambdaRequestID(ctx))
	lib, err := w.GetProxyResponse()
	if err != nil {
		return nil, err
	}
	resp := albResponse{
		StatusCode: lib.StatusCode,
		// The load balancer wants the status line's form: "200 OK".
		StatusDescription: strconv.Itoa(lib.StatusCode) + " " + http.StatusText(lib.StatusCode),
		Body:              lib.Body,
		IsBase64Encoded:   lib.IsBase64Encoded,
	}
	if multi {
		resp.MultiValueHeaders = lib.MultiValueHeaders
	} else {
		resp.Headers = make(map[string]string, len(lib.MultiValueHeaders))
		for k, v := range lib.MultiValueHeaders {
			resp.Headers[k] = strings.Join(v, ", ")
		}
	}
	return json.Marshal(resp)
}

// albClientAddr is the client's address in an ALB event, which carries no
// source IP of its own: the last X-Forwarded-For entry, the one the load
// balancer appended (earlier entries are the client's to forge). The API
// throttles failed logins by this address, as it does API Gateway's
// sourceIp.
func albClientAddr(h http.Header) string {
	all := strings.Join(h.Values("X-Forwarded-For"), ",")
	last := all[strings.LastIndexByte(all, ',')+1:]
	return strings.TrimSpace(last)
}

// albRawQuery rebuilds the query string as the client sent it: the load
// balancer leaves names and values percent-encoded.
func albRawQuery(ev events.ALBTargetGroupRequest) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	if ev.MultiValueQueryStringParameters != nil {
		for k, vs := range ev.MultiValueQueryStringParameters {
			for _, v := range vs {
				add(k, v)
			}
		}
	} else {
		for k, v := range ev.QueryStringParameters {
			add(k, v)
		}
	}
	return b.String()
}

// stripStage removes a named stage's leading segment from path.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	prefix := "/" + stage
	switch {
	case path == prefix:
		return "/"
	case strings.HasPrefix(path, prefix+"/"):
		return path[len(prefix):]
	}
	return path
}

// serve runs the HTTP handler on req, or answers 400 when the event could
// not become a request (a body that claims base64 but is not, say): the
// client sent it, so it is the client's error, not a failed invocation
// that API Gateway would turn into a bare 500.
func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, req *http.Request, convErr error, requestID string) {
	sw := &started{ResponseWriter: w}
	if convErr != nil {
		httpapi.WriteProblem(sw, http.StatusBadRequest, "the request could not be decoded: "+convErr.Error())
		return
	}
	if requestID != "" {
		req = req.WithContext(httpapi.WithRequestID(req.Context(), requestID))
	}
	h.http.ServeHTTP(sw, req)
	if !sw.wrote {
		// net/http sends 200 for a handler that writes nothing; the
		// library's writers would fail the invocation instead.
		sw.WriteHeader(http.StatusOK)
	}
}

// started records whether anything was written.
type started struct {
	http.ResponseWriter
	wrote bool
}

func (s *started) WriteHeader(code int) { s.wrote = true; s.ResponseWriter.WriteHeader(code) }

func (s *started) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}
