package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/httpapi"
)

var updateFingerprint = flag.Bool("update-fingerprint", false,
	"record the document's fingerprint for httpapi.APIVersion in testdata/openapi.fingerprint (after bumping the version)")

const fingerprintFile = "testdata/openapi.fingerprint"

// fingerprint is the API version and the hash of the document it was
// given to, as testdata/openapi.fingerprint holds them.
type fingerprint struct{ version, sha256 string }

func (f fingerprint) String() string { return f.version + " sha256:" + f.sha256 + "\n" }

func parseFingerprint(s string) (fingerprint, error) {
	version, sum, ok := strings.Cut(strings.TrimSpace(s), " sha256:")
	if !ok || version == "" || len(sum) != 64 {
		return fingerprint{}, fmt.Errorf("%q is not \"<version> sha256:<64 hex digits>\"", s)
	}
	return fingerprint{version, sum}, nil
}

var semver = regexp.MustCompile(`^1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// newer reports whether semantic version a comes after b.
func newer(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(pa), len(pb)) {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x > y
		}
	}
	return len(pa) > len(pb)
}

// verdict compares the document's fingerprint now with the recorded one:
// "" when they agree, else what to do.
func verdict(now, recorded fingerprint) string {
	switch {
	case now == recorded:
		return ""
	case now.version == recorded.version:
		return "the OpenAPI document changed but httpapi.APIVersion is still " + now.version +
			": bump it (major: a breaking change; minor: an addition; patch: words or examples only), then record it with " +
			"go test ./httpapi -run TestAPIVersionFollowsTheDocument -update-fingerprint"
	case !newer(now.version, recorded.version):
		return "httpapi.APIVersion " + now.version + " does not come after the recorded " + recorded.version
	case now.sha256 == recorded.sha256:
		return "httpapi.APIVersion changed to " + now.version + " but the document did not: a version names a change of the document"
	default:
		return "httpapi.APIVersion is now " + now.version + " (recorded: " + recorded.version + "); record the new document with " +
			"go test ./httpapi -run TestAPIVersionFollowsTheDocument -update-fingerprint"
	}
}

func TestFingerprintVerdicts(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	for _, tc := range []struct {
		name          string
		now, recorded fingerprint
		ok            bool
		says          string
	}{
		{"unchanged", fingerprint{"1.0.0", a}, fingerprint{"1.0.0", a}, true, ""},
		{"document changed, version not", fingerprint{"1.0.0", b}, fingerprint{"1.0.0", a}, false, "bump it"},
		{"version bumped, not recorded", fingerprint{"1.1.0", b}, fingerprint{"1.0.0", a}, false, "-update-fingerprint"},
		{"version bumped, document the same", fingerprint{"1.0.1", a}, fingerprint{"1.0.0", a}, false, "the document did not"},
		{"version went back", fingerprint{"1.0.0", b}, fingerprint{"1.2.0", a}, false, "does not come after"},
		{"minor 10 after minor 9", fingerprint{"1.10.0", b}, fingerprint{"1.9.3", a}, false, "-update-fingerprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdict(tc.now, tc.recorded)
			if (got == "") != tc.ok || !strings.Contains(got, tc.says) {
				t.Fatalf("verdict %q, want ok=%v saying %q", got, tc.ok, tc.says)
			}
		})
	}
}

// TestAPIVersionFollowsTheDocument fails when the published document
// changes while httpapi.APIVersion stays the same (see version.go).
func TestAPIVersionFollowsTheDocument(t *testing.T) {
	if !semver.MatchString(httpapi.APIVersion) {
		t.Fatalf("httpapi.APIVersion %q is not a semantic version 1.x.y", httpapi.APIVersion)
	}
	api, _ := newAPI(t, "sqlite://:memory:")
	if v := api.OpenAPI().Info.Version; v != httpapi.APIVersion {
		t.Fatalf("the document's info.version is %q, want httpapi.APIVersion %q", v, httpapi.APIVersion)
	}
	// The document as it is served; encoding/json orders every map's keys,
	// so the same document always has the same bytes.
	b, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	now := fingerprint{httpapi.APIVersion, hex.EncodeToString(sum[:])}

	raw, err := os.ReadFile(fingerprintFile)
	if errors.Is(err, fs.ErrNotExist) && *updateFingerprint {
		raw, err = []byte(fingerprint{"0.0.0", strings.Repeat("0", 64)}.String()), nil
	}
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := parseFingerprint(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", fingerprintFile, err)
	}
	why := verdict(now, recorded)
	if why == "" {
		return
	}
	if *updateFingerprint && now.version != recorded.version && newer(now.version, recorded.version) && now.sha256 != recorded.sha256 {
		if err := os.WriteFile(fingerprintFile, []byte(now.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s", strings.TrimSpace(now.String()))
		return
	}
	t.Fatal(why)
}
