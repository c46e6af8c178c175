//go:build linux

package rie

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Request is an HTTP request to be sent as an API Gateway HTTP API
// (payload 2.0) event on the $default stage.
type Request struct {
	Method    string
	Path      string            // without the query
	RawQuery  string            // as the client sent it, "a=1&b=2"
	Header    map[string]string // names in lower case, as API Gateway sends them
	Body      string
	RequestID string // requestContext.requestId: API Gateway's id
}

// Host is the API's host name in the events made here.
const Host = "abc123.execute-api.eu-west-1.amazonaws.com"

// HTTPEvent is r as API Gateway would deliver it to the function.
func HTTPEvent(r Request) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	header := map[string]string{"host": Host, "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
	for k, v := range r.Header {
		header[k] = v
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.Path,
		RawQueryString: r.RawQuery,
		Headers:        header,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "$default",
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    r.RequestID,
			APIID:        "abc123",
			DomainName:   Host,
			DomainPrefix: "abc123",
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.Path,
				Protocol:  "HTTP/1.1",
				SourceIP:  "203.0.113.7",
				UserAgent: header["user-agent"],
			},
		},
		Body: r.Body,
	}
	// API Gateway also sends the decoded query, repeated names joined
	// with commas.
	if q, err := url.ParseQuery(r.RawQuery); err == nil && len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			s := vs[0]
			for _, v := range vs[1:] {
				s += "," + v
			}
			ev.QueryStringParameters[k] = s
		}
	}
	return ev
}

// Response is the function's answer to an HTTP API event, as API Gateway
// would send it on: headers merged from headers and multiValueHeaders, and
// the body decoded if the function sent it in base64.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// DecodeHTTPResponse decodes a function's answer to an HTTP API event.
func DecodeHTTPResponse(b []byte) (Response, error) {
	var raw events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(b, &raw); err != nil {
		return Response{}, fmt.Errorf("not an HTTP API response: %w", err)
	}
	if raw.StatusCode == 0 {
		return Response{}, fmt.Errorf("HTTP API response without statusCode: %.300s", b)
	}
	resp := Response{StatusCode: raw.StatusCode, Header: http.Header{}, Body: []byte(raw.Body)}
	if raw.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(raw.Body)
		if err != nil {
			return Response{}, fmt.Errorf("base64 body: %w", err)
		}
		resp.Body = body
	}
	for k, v := range raw.Headers {
		resp.Header.Add(k, v)
	}
	for k, vs := range raw.MultiValueHeaders {
		for _, v := range vs {
			if !slices.Contains(resp.Header.Values(k), v) {
				resp.Header.Add(k, v)
			}
		}
	}
	return resp, nil
}
