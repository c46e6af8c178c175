//go:build linux

// Package mailpeer runs the real mail servers tests talk to, on 127.0.0.1: Mailpit (an
// SMTP server with an HTTP API to read what it received) and
// aws-ses-v2-local (SES's v2 API, with GET /store). `make init` installs
// both under .tools/; without them the tests skip, or fail when
// ICY_REQUIRE_MAIL=1 (as in CI).
//
// Linux only: the servers are started through testproc.
package mailpeer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/testproc"
)

// Peer is a program the tests need, and where to look for it: $Env, then
// Installed under the module root (where make init puts it), then PATH.
type Peer struct {
	Name      string
	Env       string
	Installed string
	Runtime   string // a program it runs on, which must be on PATH
	Install   string // what make init runs to install it
}

var (
	MailpitPeer = Peer{Name: "mailpit", Env: "MAILPIT_BIN", Installed: ".tools/bin/mailpit",
		Install: "GOBIN=$PWD/.tools/bin go install github.com/axllent/mailpit@v1.33.1"}
	SESLocalPeer = Peer{Name: "aws-ses-v2-local", Env: "AWS_SES_V2_LOCAL_BIN", Installed: ".tools/node_modules/.bin/aws-ses-v2-local",
		Runtime: "node", Install: "npm ci --prefix .tools, from mail/testdata/aws-ses-v2-local/package-lock.json"}
)

var moduleRoot = sync.OnceValues(func() (string, error) { return gotool.ModuleRoot(context.Background()) })

// Require finds p, or skips the test saying how to install it; with
// ICY_REQUIRE_MAIL=1 it fails instead, so that the mail tests cannot
// vanish from CI unnoticed.
func Require(t *testing.T, p Peer) string {
	t.Helper()
	bin, err := p.find()
	if err == nil && p.Runtime != "" {
		_, err = exec.LookPath(p.Runtime)
	}
	if err != nil {
		if os.Getenv("ICY_REQUIRE_MAIL") == "1" {
			t.Fatalf("ICY_REQUIRE_MAIL=1 but %s is missing (make init installs it: %s): %v", p.Name, p.Install, err)
		}
		t.Skipf("SKIPPED: the mail transport tests need %s (make init installs it: %s): %v", p.Name, p.Install, err)
	}
	return bin
}

func (p Peer) find() (string, error) {
	if bin := os.Getenv(p.Env); bin != "" {
		_, err := os.Stat(bin)
		return bin, err
	}
	if root, err := moduleRoot(); err == nil {
		bin := filepath.Join(root, p.Installed)
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	return exec.LookPath(p.Name)
}

// readyWithin is how long a peer may take to answer its readiness check.
const readyWithin = 20 * time.Second

// start runs bin with the arguments argv makes for two free loopback
// addresses, and waits until an HTTP GET of readyURL (which argv also
// returns) answers 200 and every address in dial accepts a connection. A
// peer that exits first (another process took a port in between) is tried
// again with new ports. It is stopped (SIGTERM, then SIGKILL 5 s later)
// when the test ends.
func start(t *testing.T, bin string, argv func(a, b string) (args []string, readyURL string, dial []string)) *testproc.Proc {
	t.Helper()
	return testproc.OnFreePorts(t, 2, func(addrs []string) (*testproc.Proc, error) {
		args, readyURL, dial := argv(addrs[0], addrs[1])
		p := testproc.Start(t, testproc.Cmd{Path: bin, Args: args})
		return p, p.WaitReady(readyURL, dial, readyWithin)
	})
}

// Mailpit is a running Mailpit.
type Mailpit struct {
	*testproc.Proc
	SMTP  string // host:port
	API   string // http://host:port
	probe int    // the SMTP sessions of start's readiness probe
	args  []string
	bin   string
}

// StartMailpit runs Mailpit with extra flags, logging every SMTP exchange
// (so that connections can be counted) into a database in a temporary
// directory.
func StartMailpit(t *testing.T, extra ...string) *Mailpit {
	t.Helper()
	bin := Require(t, MailpitPeer)
	db := filepath.Join(t.TempDir(), "mailpit.db")
	mp := &Mailpit{bin: bin}
	mp.Proc = start(t, bin, func(smtpAddr, httpAddr string) ([]string, string, []string) {
		mp.SMTP, mp.API = smtpAddr, "http://"+httpAddr
		mp.args = append([]string{"--smtp", smtpAddr, "--listen", httpAddr, "--database", db,
			"--disable-version-check", "--smtp-disable-rdns", "--verbose"}, extra...)
		return mp.args, mp.API + "/readyz", []string{smtpAddr}
	})
	mp.settle()
	return mp
}

// settle waits for Mailpit to greet the readiness probe's connection,
// which it does on its own time, so that Sessions counts only the test's.
func (mp *Mailpit) settle() {
	for deadline := time.Now().Add(5 * time.Second); mp.greetings() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	mp.probe = mp.greetings()
}

// Restart starts a stopped Mailpit again on the same addresses and
// database (a mail server that comes back after an outage).
func (mp *Mailpit) Restart(t *testing.T) {
	t.Helper()
	p := testproc.Start(t, testproc.Cmd{Path: mp.bin, Args: mp.args})
	if err := p.WaitReady(mp.API+"/readyz", []string{mp.SMTP}, readyWithin); err != nil {
		t.Fatal(err)
	}
	mp.Proc = p
	mp.settle()
}

// Message is a message as Mailpit's API returns it.
type Message struct {
	ID, MessageID, Subject, Text, HTML, Username string
	From                                         struct{ Name, Address string }
	To                                           []struct{ Name, Address string }
}

// Received returns the message Mailpit stored with Message-ID id, with
// its headers, failing the test if there is none.
func (mp *Mailpit) Received(t *testing.T, id string) (Message, map[string][]string) {
	t.Helper()
	var list struct{ Messages []Message }
	GetJSON(t, mp.API+"/api/v1/messages?limit=500", &list)
	for _, m := range list.Messages {
		if m.MessageID == id {
			var full Message
			GetJSON(t, mp.API+"/api/v1/message/"+m.ID, &full)
			var header map[string][]string
			GetJSON(t, mp.API+"/api/v1/message/"+m.ID+"/headers", &header)
			return full, header
		}
	}
	t.Fatalf("Mailpit has no message with Message-ID <%s> (it has %d messages)", id, len(list.Messages))
	return Message{}, nil
}

// Messages returns every message Mailpit holds (as its list shows them:
// MessageID, Subject, From and To are set), newest first.
func (mp *Mailpit) Messages(t *testing.T) []Message {
	t.Helper()
	var out []Message
	for start := 0; ; {
		var page struct {
			Total    int
			Messages []Message
		}
		GetJSON(t, fmt.Sprintf("%s/api/v1/messages?start=%d&limit=1000", mp.API, start), &page)
		out = append(out, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return out
		}
	}
}

// Count is how many messages Mailpit holds.
func (mp *Mailpit) Count(t *testing.T) int {
	t.Helper()
	var list struct{ Total int }
	GetJSON(t, mp.API+"/api/v1/messages", &list)
	return list.Total
}

// Sessions counts the SMTP connections Mailpit greeted since it started
// (its log is verbose). Mailpit logs a greeting before it reads the
// client's first command, so every session a finished Send had is counted.
func (mp *Mailpit) Sessions() int { return mp.greetings() - mp.probe }

func (mp *Mailpit) greetings() int { return strings.Count(mp.Output(), "ESMTP Service ready") }

// Chaos makes Mailpit answer RCPT TO with code, every time; 0 stops it.
// Mailpit must have been started with --enable-chaos.
func (mp *Mailpit) Chaos(t *testing.T, code int) {
	t.Helper()
	mp.ChaosAt(t, code, 100)
}

// ChaosAt makes Mailpit answer RCPT TO with code in percent of the
// cases; code 0 stops it.
func (mp *Mailpit) ChaosAt(t *testing.T, code, percent int) {
	t.Helper()
	body := `{}`
	if code != 0 {
		body = fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, percent)
	}
	req, _ := http.NewRequest(http.MethodPut, mp.API+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /api/v1/chaos: %s %s", resp.Status, b)
	}
}

func GetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s (%v)", url, resp.Status, b, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, b)
	}
}

// TestCert writes a self-signed certificate for 127.0.0.1 and its key
// into a temporary directory, and returns their paths and a pool that
// trusts the certificate.
func TestCert(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mail test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// SESLocal is a running aws-ses-v2-local.
type SESLocal struct {
	*testproc.Proc
	URL string
}

func StartSESLocal(t *testing.T) *SESLocal {
	t.Helper()
	bin := Require(t, SESLocalPeer)
	s := &SESLocal{}
	s.Proc = start(t, bin, func(addr, _ string) ([]string, string, []string) {
		host, port, _ := net.SplitHostPort(addr)
		s.URL = "http://" + addr
		return []string{"--host", host, "--port", port}, s.URL + "/health-check", nil
	})
	return s
}

// SESStored is an e-mail as aws-ses-v2-local's GET /store shows it.
type SESStored struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Subject     string `json:"subject"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Body struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
}

func (s *SESLocal) Stored(t *testing.T) []SESStored {
	t.Helper()
	var store struct{ Emails []SESStored }
	GetJSON(t, s.URL+"/store", &store)
	return store.Emails
}

// SESEnv points the SDK's standard configuration at endpoint, with static
// test credentials and nothing read from this machine's AWS files.
func SESEnv(t *testing.T, endpoint string) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SESV2":      endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "SECRET",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		// The SDK retries throttling and 5xx answers itself; once is
		// enough to see how they are classified.
		"AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}
