// Package sqsnudge wakes the notification worker in AWS: after a change to
// an asset commits, the API function puts a small message on an SQS queue
// whose event source mapping invokes the worker function at once. The
// message carries nothing the worker needs (the events are in the
// database), so a lost one only delays mail until the schedule's next
// sweep, and a duplicate costs one empty sweep.
package sqsnudge

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Body is every nudge's message body.
const Body = `{"nudge":"asset"}`

// timeout bounds a nudge, which the request that made the change waits
// for: a slow queue must not hold the API's answer.
const timeout = 2 * time.Second

// Sender is the one SQS call used; *sqs.Client implements it.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Nudger sends nudges to one queue.
type Nudger struct {
	client   Sender
	queueURL string
	logger   *slog.Logger
}

// New returns a Nudger for the queue at queueURL.
func New(client Sender, queueURL string, logger *slog.Logger) *Nudger {
	return &Nudger{client: client, queueURL: queueURL, logger: logger}
}

// Nudge sends one nudge. A failure is logged, not returned: the change it
// follows has committed, and the schedule's sweep will find its event.
func (n *Nudger) Nudge(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if _, err := n.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(n.queueURL), MessageBody: aws.String(Body)}); err != nil {
		n.logger.LogAttrs(ctx, slog.LevelWarn, "nudge not sent; the schedule's sweep will send the mail", slog.String("error", err.Error()))
	}
}
