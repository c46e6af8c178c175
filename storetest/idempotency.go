package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// A keyed request is reserved once; its retries get its stored answer,
// another request under the same key is refused, and a reservation that
// outlives its lease, or an answer that outlives its day, lets the key be
// used again. Keys are per principal.
func testIdempotencyKeys(t *testing.T, s icymorning.Store, _ *clock) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	const lease = 30 * time.Second
	k := icymorning.IdempotencyKey{Principal: "ada", Key: "key-1", Fingerprint: []byte("POST /api/v1/assets {}")}
	other := k
	other.Fingerprint = []byte("POST /api/v1/assets {\"x\":1}")
	bob := k
	bob.Principal = "bob"
	answer := icymorning.StoredResponse{Status: 201, Header: map[string][]string{"Content-Type": {"application/json"}, "Etag": {`"1"`}},
		Body: []byte(`{"id":1}`)}

	reserve := func(k icymorning.IdempotencyKey, at time.Time) (*icymorning.StoredResponse, error) {
		return s.ReserveIdempotencyKey(ctx, k, at, lease)
	}
	steps := []struct {
		name string
		do   func() (*icymorning.StoredResponse, error)
		code string // "" for success
		want *icymorning.StoredResponse
	}{
		{"first reservation", func() (*icymorning.StoredResponse, error) { return reserve(k, t0) }, "", nil},
		{"retry while in progress", func() (*icymorning.StoredResponse, error) { return reserve(k, t0.Add(time.Second)) }, icymorning.ECONFLICT, nil},
		{"another request, same key", func() (*icymorning.StoredResponse, error) { return reserve(other, t0.Add(time.Second)) }, icymorning.EINVALID, nil},
		{"another principal, same key", func() (*icymorning.StoredResponse, error) { return reserve(bob, t0.Add(time.Second)) }, "", nil},
		{"complete", func() (*icymorning.StoredResponse, error) {
			return nil, s.CompleteIdempotencyKey(ctx, k, answer, t0.Add(24*time.Hour))
		}, "", nil},
		{"retry replays", func() (*icymorning.StoredResponse, error) { return reserve(k, t0.Add(time.Hour)) }, "", &answer},
		{"another request after completion", func() (*icymorning.StoredResponse, error) { return reserve(other, t0.Add(time.Hour)) }, icymorning.EINVALID, nil},
		{"a day later the key is free", func() (*icymorning.StoredResponse, error) { return reserve(other, t0.Add(25*time.Hour)) }, "", nil},
		{"bob's reservation is released", func() (*icymorning.StoredResponse, error) {
			return nil, s.ReleaseIdempotencyKey(ctx, bob)
		}, "", nil},
		{"and bob may reserve again", func() (*icymorning.StoredResponse, error) { return reserve(bob, t0.Add(2*time.Second)) }, "", nil},
		{"bob's stalled reservation is taken over after its lease", func() (*icymorning.StoredResponse, error) {
			return reserve(bob, t0.Add(2*time.Second+lease+time.Second))
		}, "", nil},
	}
	for _, st := range steps {
		got, err := st.do()
		if code := icymorning.ErrorCode(err); code != st.code {
			t.Fatalf("%s: error %v, want code %q", st.name, err, st.code)
		}
		switch {
		case st.want == nil && got != nil:
			t.Fatalf("%s: replayed %+v, want a reservation", st.name, got)
		case st.want != nil && (got == nil || got.Status != st.want.Status || !bytes.Equal(got.Body, st.want.Body) || !reflect.DeepEqual(got.Header, st.want.Header)):
			t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
		}
	}
}
