package sqsnudge_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/sqsnudge"
)

// client is the real SDK client, pointed at the stand-in.
func client(t *testing.T, endpoint string) *sqs.Client {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_SQS", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sqs.NewFromConfig(cfg)
}

const queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/icy-notify"

func TestNudge(t *testing.T) {
	for _, tt := range []struct {
		name     string
		down     bool
		wantSent int
		wantLog  string
	}{
		{name: "sent", wantSent: 1},
		{name: "queue down: logged, not returned", down: true, wantLog: "nudge not sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			endpoint, received := awstest.SQS(t, tt.down)
			var log bytes.Buffer
			n := sqsnudge.New(client(t, endpoint), queue, slog.New(slog.NewTextHandler(&log, nil)))
			n.Nudge(context.Background())
			got := received()
			if len(got) != tt.wantSent {
				t.Fatalf("%d messages, want %d", len(got), tt.wantSent)
			}
			if tt.wantSent > 0 && (got[0].QueueURL != queue || got[0].Body != sqsnudge.Body) {
				t.Fatalf("message %+v", got[0])
			}
			if !strings.Contains(log.String(), tt.wantLog) {
				t.Fatalf("log %q, want %q", log.String(), tt.wantLog)
			}
		})
	}
}

// A cancelled request still nudges: the change it made has committed.
func TestNudgeOutlivesTheRequest(t *testing.T) {
	endpoint, received := awstest.SQS(t, false)
	n := sqsnudge.New(client(t, endpoint), queue, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Nudge(ctx)
	if len(received()) != 1 {
		t.Fatal("no nudge after the request's context ended")
	}
}
