package procstat

import (
	"os"
	"strings"
	"testing"
)

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name, status string
		want         int64
		wantErr      string // a fragment of the error; "" for none
	}{
		{"status file", "Name:\tsleep\nVmPeak:\t    8000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t    1200 kB\n", 1234 * 1024, ""},
		{"no unit", "VmHWM: 7\n", 7 * 1024, ""},
		{"zero", "VmHWM:\t       0 kB\n", 0, ""},
		{"kernel thread", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, "no VmHWM"},
		{"empty", "", 0, "no VmHWM"},
		{"not a number", "VmHWM:\t  lots kB\n", 0, `VmHWM "\t  lots kB"`},
		{"megabytes", "VmHWM:\t 12 MB\n", 0, "invalid syntax"},
		{"prefix of another key", "XVmHWM: 5 kB\n", 0, "no VmHWM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM(strings.NewReader(tt.status))
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("parseVmHWM = %d, %v; want %d, nil", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseVmHWM = %d, %v; want an error with %q", got, err, tt.wantErr)
			}
		})
	}
}

// PeakRSS reads a real /proc entry: this test's own, which holds at least
// the test binary, and one of a process that does not exist.
func TestPeakRSS(t *testing.T) {
	tests := []struct {
		name    string
		pid     int
		wantErr bool
	}{
		{"this process", os.Getpid(), false},
		{"no such process", 1 << 30, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PeakRSS(tt.pid)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("PeakRSS(%d) = %d, want an error", tt.pid, got)
				}
				return
			}
			if err != nil || got < 1<<20 {
				t.Fatalf("PeakRSS(%d) = %d, %v; want at least 1 MiB", tt.pid, got, err)
			}
		})
	}
}
