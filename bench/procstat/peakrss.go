package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// PeakRSS is a process's high-water mark of resident memory (VmHWM), in
// bytes. It must be read while the process is alive: the kernel drops
// /proc/PID/status when the process is reaped.
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmHWM(f)
}

// parseVmHWM reads the "VmHWM:   1234 kB" line of a /proc/PID/status file.
func parseVmHWM(status io.Reader) (int64, error) {
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	// Kernel threads have no memory of their own, and no VmHWM line.
	return 0, errors.New("no VmHWM in /proc status")
}
