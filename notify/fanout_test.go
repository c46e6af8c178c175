package notify

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// pagedOutbox is an outbox whose pending events have subscribers[i]
// subscribers each, fanned out as FanOutPending does; it records the limit
// of each call.
type pagedOutbox struct {
	subscribers []int
	limits      []int
	err         error // the answer of every call, when set
}

func (o *pagedOutbox) FanOutPending(_ context.Context, limit int) (events, deliveries int, err error) {
	o.limits = append(o.limits, limit)
	if o.err != nil {
		return 0, 0, o.err
	}
	events = min(limit, len(o.subscribers))
	for _, n := range o.subscribers[:events] {
		deliveries += n
	}
	o.subscribers = o.subscribers[events:]
	return events, deliveries, nil
}

func (o *pagedOutbox) ClaimDeliveries(context.Context, time.Duration, int) ([]icymorning.DeliveryJob, error) {
	return nil, nil
}

func (o *pagedOutbox) RecordDeliveries(context.Context, []icymorning.DeliveryOutcome) error {
	return nil
}

func (o *pagedOutbox) ExpireSignUps(context.Context, time.Time) (int, error) { return 0, nil }

// audience is n events of k subscribers each.
func audience(n, k int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = k
	}
	return s
}

// A round of fanning out takes a page per call, sized to the audience,
// until a page comes back short or the budget has passed, and says whether
// events may be left.
func TestFanOutPages(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name        string
		subscribers []int
		limit       int // of the first page; 0 for a new dispatcher's
		budget      time.Duration
		err         error
		wantLimits  []int
		wantMore    bool
		wantCreated int
	}{
		{"nothing pending", nil, 0, time.Hour, nil, []int{1}, false, 0},
		{"a few subscribers: pages of 100 after the first event", audience(250, 3), 0, time.Hour, nil,
			[]int{1, 100, 100, 100}, false, 750},
		{"a backlog that ends on a full page takes one more call", audience(101, 0), 0, time.Hour, nil,
			[]int{1, 100, 100}, false, 0},
		{"1,000 subscribers: pages of ten events", audience(25, 1000), 0, time.Hour, nil,
			[]int{1, 10, 10, 10}, false, 25_000},
		{"10,000 subscribers: one event at a time", audience(3, 10_000), 0, time.Hour, nil,
			[]int{1, 1, 1, 1}, false, 30_000},
		// The rule of thumb goes by the last page, so a page whose events
		// have many more subscribers than the last one's is not bounded.
		{"the page shrinks after the audience grows", append(audience(100, 2), audience(120, 1000)...), 100, time.Hour, nil,
			[]int{100, 100, 10, 10, 10}, false, 120_200},
		{"and grows back when it shrinks", append(audience(30, 1000), audience(150, 2)...), 10, time.Hour, nil,
			[]int{10, 10, 10, 10, 100, 100}, false, 30_300},
		{"the budget passes after a full page: more", audience(250, 3), 100, time.Nanosecond, nil,
			[]int{100}, true, 300},
		{"the budget passes after a short page: no more", audience(50, 3), 100, time.Nanosecond, nil,
			[]int{100}, false, 150},
		{"an error", audience(5, 3), 0, time.Hour, boom, []int{1}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &pagedOutbox{subscribers: tt.subscribers, err: tt.err}
			d := NewDispatcher(o, nil, nil, nil, DispatchOptions{FanOutBudget: tt.budget})
			if tt.limit > 0 {
				d.fanOutLimit.Store(int64(tt.limit))
			}
			var res SweepResult
			more, err := d.fanOut(context.Background(), &res)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !slices.Equal(o.limits, tt.wantLimits) || more != tt.wantMore || res.FannedOut != tt.wantCreated {
				t.Fatalf("limits %v, more %v, %d deliveries; want %v, %v, %d",
					o.limits, more, res.FannedOut, tt.wantLimits, tt.wantMore, tt.wantCreated)
			}
		})
	}
}

// The next page is fanOutPage events, or as many as make about
// fanOutDeliveries deliveries at the last page's rate, but one at least.
func TestNextFanOutLimit(t *testing.T) {
	for _, tt := range []struct{ events, deliveries, want int }{
		{1, 0, fanOutPage},      // no subscribers
		{100, 300, fanOutPage},  // few
		{100, 10_000, 100},      // exactly the bound
		{100, 20_000, 50},       // 200 each
		{1, 1000, 10},           // 1,000 each
		{1, 10_000, 1},          // 10,000 each
		{1, 1_000_000, 1},       // never none
		{3, 10_000, 3},          // an average of 3,333
		{100, 1_000_000_000, 1}, // no overflow
	} {
		if got := nextFanOutLimit(tt.events, tt.deliveries); got != tt.want {
			t.Errorf("nextFanOutLimit(%d, %d) = %d, want %d", tt.events, tt.deliveries, got, tt.want)
		}
	}
}
