// Command fn is a Lambda function for the rie package's own tests: what it
// does depends on the event, so that the tests can see how the emulator
// passes on answers, errors, crashes and slow invokes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Echo    string `json:"echo"`
	Env     string `json:"env"`      // answer this environment variable's value
	Error   string `json:"error"`    // return an error with this message
	Panic   bool   `json:"panic"`    // panic
	Exit    bool   `json:"exit"`     // exit the process mid-invoke
	SleepMS int    `json:"sleep_ms"` // sleep before answering
}

type answer struct {
	Echo      string `json:"echo,omitempty"`
	Env       string `json:"env,omitempty"`
	RequestID string `json:"request_id"`
	PID       int    `json:"pid"`
}

func handle(ctx context.Context, e event) (answer, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Fprintf(os.Stderr, "fn invoked request_id=%s\n", lc.AwsRequestID)
	if e.SleepMS > 0 {
		time.Sleep(time.Duration(e.SleepMS) * time.Millisecond)
	}
	switch {
	case e.Error != "":
		return answer{}, errors.New(e.Error)
	case e.Panic:
		panic("fn: asked to panic")
	case e.Exit:
		os.Exit(3)
	}
	a := answer{Echo: e.Echo, RequestID: lc.AwsRequestID, PID: os.Getpid()}
	if e.Env != "" {
		a.Env = os.Getenv(e.Env)
	}
	return a, nil
}

func main() {
	if os.Getenv("FN_FAIL_INIT") != "" {
		fmt.Fprintln(os.Stderr, "fn: failing init as asked")
		os.Exit(2)
	}
	lambda.Start(handle)
}
