//go:build linux

package benchproc

import (
	"os"
	"os/exec"
	"strings"
)

// Proc is a process a Registry started.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, once done is closed
}

// PID is the process's ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process exited (nil for status 0, an *exec.ExitError
// otherwise); nil too while it runs, so that a caller reads it after Done.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// logTailBytes bounds LogTail: enough for a panic's first frames or the
// last log lines, short enough for an error message.
const logTailBytes = 2000

// LogTail is the end of the process's output, for error messages; "" when
// the log cannot be read.
func (p *Proc) LogTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	return strings.TrimSpace(string(b))
}
