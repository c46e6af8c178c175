//go:build linux

package rie

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Output is what the function wrote to stdout and stderr so far,
// interleaved with the emulator's START, END and REPORT lines (the last
// 8 MiB of it).
func (e *Emulator) Output() string { return e.stdout.String() }

// WaitOutput waits up to timeout for s to appear in Output and returns
// Output. The emulator relays the function's output on its own schedule,
// so a line the function wrote during an invoke may arrive after the
// invoke's answer.
func (e *Emulator) WaitOutput(s string, timeout time.Duration) string {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		out := e.Output()
		if strings.Contains(out, s) || time.Now().After(deadline) {
			return out
		}
	}
}

// EmulatorLog is what the emulator logged so far (the last 8 MiB).
func (e *Emulator) EmulatorLog() string { return e.stderr.String() }

// initReportRE matches the emulator's report of one init.
var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitReports are the init durations the emulator logged, one per time it
// started the bootstrap: from exec until the runtime first asked for work.
func (e *Emulator) InitReports() []time.Duration {
	var ds []time.Duration
	for _, m := range initReportRE.FindAllStringSubmatch(e.stderr.String(), -1) {
		ms, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	return ds
}

// capture keeps the last max bytes written to it, and copies everything
// to an optional writer.
type capture struct {
	mu  sync.Mutex
	buf []byte
	max int
	w   io.Writer
}

func newCapture(w io.Writer) *capture { return &capture{max: 8 << 20, w: w} }

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - c.max; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
	}
	if c.w != nil {
		_, _ = c.w.Write(p)
	}
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// Lines splits s into lines, for searching logs.
func Lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
