package awslambda

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Worker is the notification work the function does for the events that
// are not HTTP requests: SQS nudges and the EventBridge schedule wake the
// dispatcher, and SES reports addresses that must not be mailed again.
type Worker interface {
	// Sweep sends the mail that is due, stopping in time for ctx's
	// deadline.
	Sweep(ctx context.Context) error
	// Suppress marks addresses that bounced hard or complained.
	Suppress(ctx context.Context, addresses []string) error
}

// WithWorker makes the handler serve queue, schedule and SES events with
// w. Without one, those events fail as unsupported.
func (h *Handler) WithWorker(w Worker) *Handler {
	h.worker = w
	return h
}

// nudge is the body of a message on the notification queue (see
// Nudge): it carries nothing, as the work is in the database.
type nudge struct {
	Nudge string `json:"nudge"`
}

// serveSQS handles a batch from the notification queue. A message whose
// body is not a nudge is reported as failed (so SQS retries it and, past
// maxReceiveCount, moves it to the dead-letter queue for a person to look
// at); the others share one sweep, and fail together only if it fails.
func (h *Handler) serveSQS(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("%w (an SQS event that does not decode: %v)", ErrUnsupportedEvent, err)
	}
	var resp events.SQSEventResponse
	var good []string
	for _, r := range ev.Records {
		var n nudge
		if err := json.Unmarshal([]byte(r.Body), &n); err != nil || n.Nudge == "" {
			h.logger.LogAttrs(ctx, slog.LevelWarn, "queue message is not a nudge", slog.String("message_id", r.MessageId))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			continue
		}
		good = append(good, r.MessageId)
	}
	if len(good) > 0 {
		if err := h.worker.Sweep(ctx); err != nil {
			h.logger.LogAttrs(ctx, slog.LevelError, "sweep failed", slog.String("error", err.Error()))
			for _, id := range good {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
	}
	return json.Marshal(resp)
}

// eventBridge is the envelope of an EventBridge event.
type eventBridge struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// sesEvent is the part of an SES event record (the detail of "Email
// Bounced" and "Email Complaint Received") that says who to stop mailing.
type sesEvent struct {
	EventType string `json:"eventType"`
	Bounce    struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
}

// serveEventBridge handles the schedule (a sweep for lost nudges and due
// retries) and SES's bounce and complaint events.
func (h *Handler) serveEventBridge(ctx context.Context, ev eventBridge) ([]byte, error) {
	switch {
	case ev.Source == "aws.events" && ev.DetailType == "Scheduled Event":
		if err := h.worker.Sweep(ctx); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		return json.Marshal(map[string]any{"ok": true, "event": "schedule"})
	case ev.Source == "aws.ses":
		var d sesEvent
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, fmt.Errorf("%w (an SES event whose detail does not decode: %v)", ErrUnsupportedEvent, err)
		}
		var addrs []string
		switch {
		case d.EventType == "Bounce" && d.Bounce.BounceType == "Permanent":
			for _, r := range d.Bounce.BouncedRecipients {
				addrs = append(addrs, r.EmailAddress)
			}
		case d.EventType == "Complaint":
			for _, r := range d.Complaint.ComplainedRecipients {
				addrs = append(addrs, r.EmailAddress)
			}
		}
		if len(addrs) > 0 {
			if err := h.worker.Suppress(ctx, addrs); err != nil {
				return nil, fmt.Errorf("suppress: %w", err)
			}
		}
		// Addresses are personal data: the log counts them.
		h.logger.LogAttrs(ctx, slog.LevelInfo, "ses event", slog.String("detail_type", ev.DetailType),
			slog.String("event_type", d.EventType), slog.String("bounce_type", d.Bounce.BounceType), slog.Int("suppressed", len(addrs)))
		return json.Marshal(map[string]any{"ok": true, "event": strings.ToLower(d.EventType), "suppressed": len(addrs)})
	}
	return nil, fmt.Errorf("%w (EventBridge event %q from %q)", ErrUnsupportedEvent, ev.DetailType, ev.Source)
}
