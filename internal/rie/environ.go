//go:build linux

package rie

import (
	"os"
	"strconv"
	"time"
)

// environ is the emulator's environment, which it passes on to the
// function.
func environ(cfg Config) []string {
	var env []string
	if cfg.InheritEnv {
		env = os.Environ()
	} else {
		for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
	}
	// The emulator's own LOG_LEVEL is pinned by --log-level; nothing else
	// here is read by it except the function settings below.
	if cfg.FunctionTimeout > 0 {
		secs := int64((cfg.FunctionTimeout + time.Second - 1) / time.Second)
		env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.FormatInt(secs, 10))
	}
	return append(env, cfg.Env...)
}
