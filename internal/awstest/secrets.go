// Package awstest runs local stand-ins for the AWS APIs the service calls,
// so tests drive the real AWS SDK clients without an account.
package awstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// SecretsManager serves GetSecretValue in the Secrets Manager JSON protocol
// for the given secrets (ARN to SecretString) and returns its URL and a
// count of calls. It fails the test on a call that is not SigV4-signed
// with the access key id AKIDTEST, so tests also prove the SDK signed
// with the credentials they configured.
func SecretsManager(t *testing.T, secrets map[string]string) (string, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			t.Errorf("request not SigV4-signed with AKIDTEST: %q", r.Header.Get("Authorization"))
		}
		var in struct{ SecretId string }
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("request body: %v", err)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		value, ok := secrets[in.SecretId]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": "n", "SecretString": value, "VersionId": "v1"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}
