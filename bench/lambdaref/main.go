// Command lambdaref is the yardstick of the Lambda benchmark: the smallest
// useful Go function on the same runtime library as icy-morning's Lambda
// mode. It answers every event, whatever its shape, with one constant API
// Gateway HTTP API (v2) response, so any time it spends is the runtime
// library's, the process's and the emulator's, never the application's.
//
// Build it as the bench builds icy-morning's bootstrap:
//
//	CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags '-s -w' -o DIR/bootstrap ./bench/lambdaref
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// body is about the size of one asset as the API returns it, so both
// functions marshal and ship a comparable response.
const body = `{"id":1,"name":"Reference","description":"Constant response of the reference function","inception_date":"2024-01-31","is_active":true,"analyst_id":1}`

var response = events.APIGatewayV2HTTPResponse{
	StatusCode: 200,
	Headers:    map[string]string{"Content-Type": "application/json"},
	Body:       body,
}

// handle ignores the event: decoding it would be the application's work.
func handle(context.Context, json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
	return response, nil
}

func main() {
	lambda.Start(handle)
}
