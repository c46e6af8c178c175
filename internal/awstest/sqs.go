package awstest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// SQSMessage is a message the SQS stand-in received.
type SQSMessage struct {
	QueueURL, Body string
}

// SQS serves SendMessage in the SQS JSON protocol and returns its URL and
// a function that lists the messages received so far. Like
// SecretsManager, it fails the test on a call that is not SigV4-signed
// with AKIDTEST. With fail set, it answers every call with a 500, as a
// queue that is down does.
func SQS(t *testing.T, fail bool) (string, func() []SQSMessage) {
	t.Helper()
	var (
		mu       sync.Mutex
		received []SQSMessage
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "AmazonSQS.SendMessage" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			t.Errorf("request not SigV4-signed with AKIDTEST: %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InternalError","message":"down"}`)
			return
		}
		var in struct{ QueueUrl, MessageBody string }
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("request body: %v", err)
		}
		mu.Lock()
		received = append(received, SQSMessage{QueueURL: in.QueueUrl, Body: in.MessageBody})
		n := len(received)
		mu.Unlock()
		// The SDK checks the body's MD5 against the answer's.
		sum := md5.Sum([]byte(in.MessageBody))
		_ = json.NewEncoder(w).Encode(map[string]string{
			"MD5OfMessageBody": hex.EncodeToString(sum[:]),
			"MessageId":        fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []SQSMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]SQSMessage(nil), received...)
	}
}
