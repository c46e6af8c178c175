package awstest

import (
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Invalidation is a CreateInvalidation call the CloudFront stand-in
// received, as its REST-XML body said it.
type Invalidation struct {
	Distribution    string
	CallerReference string
	Paths           []string
	// ID is the invalidation's id; "" for a call that was refused.
	ID string
	At time.Time
}

// CloudFrontStandIn serves CloudFront's CreateInvalidation (REST-XML,
// API version 2020-05-31) for one distribution, and records every call.
type CloudFrontStandIn struct {
	URL          string
	distribution string

	mu      sync.Mutex
	calls   []Invalidation
	byRef   map[string]Invalidation
	failing bool
}

// invalidationBatch is the request body (and part of the answer).
type invalidationBatch struct {
	XMLName xml.Name `xml:"InvalidationBatch"`
	Paths   struct {
		Quantity int      `xml:"Quantity"`
		Items    []string `xml:"Items>Path"`
	} `xml:"Paths"`
	CallerReference string `xml:"CallerReference"`
}

const cloudFrontNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// CloudFront starts the stand-in on 127.0.0.1 for distribution. Like
// SecretsManager, it fails the test on a call that is not SigV4-signed
// with AKIDTEST, and on a body that is not a well-formed batch. As
// CloudFront does, it answers a caller reference it has seen with the same
// paths with the invalidation it made then, and refuses one with other
// paths (InvalidationBatchAlreadyExists).
func CloudFront(t *testing.T, distribution string) *CloudFrontStandIn {
	t.Helper()
	cf := &CloudFrontStandIn{distribution: distribution, byRef: map[string]Invalidation{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cf.serve(t, w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	cf.URL = srv.URL
	return cf
}

// SetFailing makes every later call fail (true) with
// TooManyInvalidationsInProgress, as CloudFront answers past its limit of
// invalidations in progress, or succeed again (false).
func (cf *CloudFrontStandIn) SetFailing(failing bool) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	cf.failing = failing
}

// Calls lists every CreateInvalidation call so far, refused ones too.
func (cf *CloudFrontStandIn) Calls() []Invalidation {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return slices.Clone(cf.calls)
}

// Made lists the invalidations made so far (a retried reference counts
// once), in the order they were made.
func (cf *CloudFrontStandIn) Made() []Invalidation {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	var out []Invalidation
	seen := map[string]bool{}
	for _, c := range cf.calls {
		if c.ID != "" && !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

func (cf *CloudFrontStandIn) serve(t *testing.T, w http.ResponseWriter, r *http.Request) {
	want := "/2020-05-31/distribution/" + cf.distribution + "/invalidation"
	if r.Method != http.MethodPost || r.URL.Path != want {
		t.Errorf("CloudFront stand-in: %s %s, want POST %s", r.Method, r.URL.Path, want)
		cloudFrontError(w, http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
		!strings.Contains(r.Header.Get("Authorization"), "/cloudfront/aws4_request") {
		t.Errorf("CloudFront stand-in: request not SigV4-signed for cloudfront with AKIDTEST: %q", r.Header.Get("Authorization"))
	}
	body, _ := io.ReadAll(r.Body)
	var in invalidationBatch
	if err := xml.Unmarshal(body, &in); err != nil || in.XMLName.Space != cloudFrontNS {
		t.Errorf("CloudFront stand-in: body %s: %v (namespace %q)", body, err, in.XMLName.Space)
		cloudFrontError(w, http.StatusBadRequest, "MalformedInput", "bad body")
		return
	}
	if in.CallerReference == "" || in.Paths.Quantity != len(in.Paths.Items) || len(in.Paths.Items) == 0 {
		t.Errorf("CloudFront stand-in: batch %+v: no caller reference, or Quantity is not the number of paths", in)
	}
	for _, p := range in.Paths.Items {
		if !strings.HasPrefix(p, "/") {
			t.Errorf("CloudFront stand-in: path %q does not start with /", p)
		}
	}
	cf.mu.Lock()
	call := Invalidation{Distribution: cf.distribution, CallerReference: in.CallerReference, Paths: in.Paths.Items, At: time.Now()}
	status := http.StatusCreated
	switch prev, seen := cf.byRef[in.CallerReference]; {
	case cf.failing:
		status = 0
	case seen && !slices.Equal(prev.Paths, in.Paths.Items):
		status = http.StatusConflict
	case seen:
		call.ID = prev.ID
	default:
		call.ID = fmt.Sprintf("I%013d", len(cf.byRef)+1)
		cf.byRef[in.CallerReference] = call
	}
	cf.calls = append(cf.calls, call)
	cf.mu.Unlock()

	switch status {
	case 0:
		cloudFrontError(w, http.StatusBadRequest, "TooManyInvalidationsInProgress",
			"Your request contains too many invalidations in progress.")
		return
	case http.StatusConflict:
		cloudFrontError(w, http.StatusConflict, "InvalidationBatchAlreadyExists", "The caller reference you attempted to create the invalidation with is already in use.")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Location", "https://cloudfront.amazonaws.com"+want+"/"+call.ID)
	w.WriteHeader(status)
	var items strings.Builder
	for _, p := range in.Paths.Items {
		items.WriteString("<Path>" + xmlEscape(p) + "</Path>")
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Invalidation xmlns="%s"><Id>%s</Id><Status>InProgress</Status><CreateTime>%s</CreateTime><InvalidationBatch><Paths><Quantity>%d</Quantity><Items>%s</Items></Paths><CallerReference>%s</CallerReference></InvalidationBatch></Invalidation>`,
		cloudFrontNS, call.ID, call.At.UTC().Format("2006-01-02T15:04:05.000Z"), len(in.Paths.Items), items.String(), xmlEscape(in.CallerReference))
}

func cloudFrontError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0"?>
<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
		cloudFrontNS, code, xmlEscape(message))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
